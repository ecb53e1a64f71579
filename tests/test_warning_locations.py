"""Warnings name the caller's line, whichever entry point raised them: the place to fix, and a location of its own,
so Python's default filter (once per location) does not hide the warnings of every later call."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, ToolMessage
from llama_index.core.llms import ChatMessage

from cfai.batch import Polling
from cfai.emulator import Emulator, Fault
from cfai.errors import DroppedInputWarning, EmptyAnswerWarning
from langchain_cfai import ChatWorkersAI
from llamaindex_cfai import WorkersAI

NO_WAIT = Polling(interval=0.0)
ASK = [ChatMessage(role="user", content="hi")]
# A budget of one token goes to reasoning: a queued item answers nothing.
TINY = {"max_tokens": 1}


def _calls(emulator: Emulator) -> dict[str, Callable[[], Any]]:
    connection = {"base_url": emulator.v1_url, "api_token": emulator.api_token, "max_retries": 0}
    lc, li = ChatWorkersAI(**connection), WorkersAI(**connection)
    return {
        "ChatWorkersAI.invoke": lambda: lc.invoke("hi"),
        "ChatWorkersAI.ainvoke": lambda: asyncio.run(lc.ainvoke("hi")),
        "ChatWorkersAI.stream": lambda: list(lc.stream("hi")),
        "ChatWorkersAI.batch_queued": lambda: lc.batch_queued(["hi"], polling=NO_WAIT, **TINY),
        "ChatWorkersAI.abatch_queued": lambda: asyncio.run(lc.abatch_queued(["hi"], polling=NO_WAIT, **TINY)),
        "WorkersAI.chat": lambda: li.chat(ASK),
        "WorkersAI.achat": lambda: asyncio.run(li.achat(ASK)),
        "WorkersAI.stream_chat": lambda: list(li.stream_chat(ASK)),
        "WorkersAI.chat_queued": lambda: li.chat_queued([ASK], polling=NO_WAIT, **TINY),
        "WorkersAI.achat_queued": lambda: asyncio.run(li.achat_queued([ASK], polling=NO_WAIT, **TINY)),
    }


def _caught(call: Callable[[], Any], category: type[Warning]) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [warning for warning in caught if issubclass(warning.category, category)]


@pytest.mark.parametrize(
    "entry_point",
    [
        "ChatWorkersAI.invoke",
        "ChatWorkersAI.ainvoke",
        "ChatWorkersAI.stream",
        "ChatWorkersAI.batch_queued",
        "ChatWorkersAI.abatch_queued",
        "WorkersAI.chat",
        "WorkersAI.achat",
        "WorkersAI.stream_chat",
        "WorkersAI.chat_queued",
        "WorkersAI.achat_queued",
    ],
)
def test_an_empty_answer_is_reported_at_the_callers_line(entry_point: str, workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.configure(batch_pending_polls=0)
    workers_ai_emulator.enqueue(Fault.reasoning_only())  # the direct calls' reply; queued items use the budget
    (warning,) = _caught(_calls(workers_ai_emulator)[entry_point], EmptyAnswerWarning)
    assert warning.filename == __file__, f"{entry_point} warned at {warning.filename}:{warning.lineno}"


def test_a_dropped_tool_result_is_reported_at_the_callers_line(workers_ai_emulator: Emulator) -> None:
    llm = ChatWorkersAI(base_url=workers_ai_emulator.v1_url, api_token=workers_ai_emulator.api_token)
    orphan = [HumanMessage("hi"), ToolMessage("Sunny", tool_call_id="call_gone")]  # its call trimmed away
    (warning,) = _caught(lambda: llm.invoke(orphan), DroppedInputWarning)
    assert warning.filename == __file__
