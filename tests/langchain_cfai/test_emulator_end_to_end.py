"""ChatWorkersAI against the emulator over loopback: behaviour that needs a real server and real connections."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cfai.emulator import Emulator
from cfai.errors import AuthenticationError
from langchain_cfai import ChatWorkersAI, ReasoningBudgetWarning


def make(emulator: Emulator, **fields: Any) -> ChatWorkersAI:
    return ChatWorkersAI(base_url=emulator.v1_url, api_token=emulator.api_token, **fields)


def test_async_calls_from_two_event_loops(workers_ai_emulator: Emulator) -> None:
    # A notebook or a script may run `asyncio.run` more than once; the model's own async client must survive it.
    model = make(workers_ai_emulator)
    first = asyncio.run(model.ainvoke("Hello"))
    second = asyncio.run(model.ainvoke("Hello again"))
    assert (first.text, second.text) == ("You asked: Hello", "You asked: Hello again")


@pytest.mark.parametrize("streaming", [False, True])
def test_budget_spent_on_reasoning_warns(workers_ai_emulator: Emulator, streaming: bool) -> None:
    model = make(workers_ai_emulator, max_tokens=8, streaming=streaming)
    with pytest.warns(ReasoningBudgetWarning, match="max_tokens=8"):
        message = model.invoke("Explain the history of Rome in detail.")
    assert message.text == ""
    assert message.response_metadata["finish_reason"] == "length"


def test_prompt_cache_reads_are_reported(workers_ai_emulator: Emulator) -> None:
    model = make(workers_ai_emulator, session_id="cache-me")
    prompt = "Summarise: " + "The quick brown fox jumps over the lazy dog. " * 20
    assert model.invoke(prompt).usage_metadata["input_token_details"]["cache_read"] == 0  # type: ignore[index]
    cached = model.invoke(prompt).usage_metadata
    assert cached is not None and cached["input_token_details"]["cache_read"] > 0
    assert workers_ai_emulator.requests[-1].headers["x-session-affinity"] == "cache-me"


def test_wrong_token_is_an_authentication_error_without_the_token(workers_ai_emulator: Emulator) -> None:
    model = ChatWorkersAI(base_url=workers_ai_emulator.v1_url, api_token="wrong-token-123")
    with pytest.raises(AuthenticationError) as caught:
        model.invoke("Hello")
    assert "wrong-token-123" not in str(caught.value)
    assert caught.value.code == 10000
