"""WorkersAI.chat_queued / achat_queued against the emulator's batch queue: order, failures, resumption."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatResponse
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool

from cfai.batch import BatchItemError, BatchPendingError, Polling
from cfai.emulator import Emulator
from cfai.errors import ResponseFailedError
from llamaindex_cfai import WorkersAI

pytestmark = pytest.mark.loopback
NO_WAIT = Polling(interval=0.0)


def make_llm(emulator: Emulator, **fields: Any) -> WorkersAI:
    return WorkersAI(base_url=emulator.v1_url, api_token=emulator.api_token, max_retries=0, **fields)


def ask(text: str) -> list[ChatMessage]:
    return [ChatMessage(role="system", content="Be brief."), ChatMessage(role="user", content=text)]


def answers(responses: list[Any]) -> list[Any]:
    return [r.message.content if isinstance(r, ChatResponse) else type(r).__name__ for r in responses]


def test_chats_come_back_in_order_with_failures_in_their_slots(workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.configure(batch_pending_polls=2)
    workers_ai_emulator.fail_batch_items([1], "AiError: Capacity temporarily exceeded")
    responses = make_llm(workers_ai_emulator).chat_queued(
        [ask(f"q{n}") for n in range(4)], return_exceptions=True, polling=NO_WAIT
    )
    assert answers(responses) == ["You asked: q0", "ResponseFailedError", "You asked: q2", "You asked: q3"]
    with pytest.raises(BatchItemError, match="Item 0"):
        workers_ai_emulator.fail_batch_items([0], "AiError: boom")
        make_llm(workers_ai_emulator).chat_queued([ask("x")], polling=NO_WAIT)


def test_responses_are_what_chat_returns(workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.configure(batch_pending_polls=0)
    llm = make_llm(workers_ai_emulator, reasoning_effort="low")
    weather = FunctionTool.from_defaults(lambda city: f"Sunny in {city}", name="get_weather", description="Weather.")
    (queued,) = llm.chat_queued([ask("What's the weather in Paris?")], tools=[weather], polling=NO_WAIT)
    direct = llm.chat(ask("What's the weather in Paris?"), tools=[weather])
    assert isinstance(queued, ChatResponse)
    calls = llm.get_tool_calls_from_response(queued)
    assert [(call.tool_name, call.tool_kwargs) for call in calls] == [("get_weather", {"city": "Paris"})]
    assert [type(block).__name__ for block in queued.message.blocks] == [
        type(block).__name__ for block in direct.message.blocks
    ]
    assert queued.additional_kwargs["total_tokens"] == direct.additional_kwargs["total_tokens"]


async def test_achat_queued_resumes_from_a_saved_request_id(workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.configure(batch_pending_polls=2)
    llm = make_llm(workers_ai_emulator)
    chats = [ask(f"question {n}") for n in range(10)]
    with pytest.raises(BatchPendingError) as pending:
        await llm.achat_queued(chats, polling=Polling(interval=0.0, timeout=0))
    responses = await llm.achat_queued(chats, request_id=pending.value.request_id, polling=NO_WAIT)
    assert answers(responses) == [f"You asked: question {n}" for n in range(10)]
    submitted = [r for r in workers_ai_emulator.requests if r.query.get("queueRequest") == "true"]
    assert len(submitted) == 1
    assert isinstance(responses[0], ChatResponse) and not isinstance(responses[0], ResponseFailedError)
