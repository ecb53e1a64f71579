"""ChatWorkersAI.batch_queued / abatch_queued against the emulator's batch queue: order, failures, resumption."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.tools import tool

from cfai.batch import BatchItemError, BatchPendingError, Polling
from cfai.emulator import Emulator
from cfai.errors import ResponseFailedError
from langchain_cfai import ChatWorkersAI

NO_WAIT = Polling(interval=0.0)  # the emulator's pending polls are counted, not timed: no need to sleep


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny in {city}"


def make_llm(emulator: Emulator, **fields: Any) -> ChatWorkersAI:
    return ChatWorkersAI(base_url=emulator.v1_url, api_token=emulator.api_token, max_retries=0, **fields)


def submissions(emulator: Emulator) -> list[Any]:
    return [request.json for request in emulator.requests if request.query.get("queueRequest") == "true"]


def test_500_prompts_come_back_in_order_with_failures_in_their_slots(workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.configure(batch_pending_polls=2)
    workers_ai_emulator.fail_batch_items([7, 499], "AiError: Capacity temporarily exceeded")
    prompts = [f"prompt number {n}" for n in range(500)]
    replies = make_llm(workers_ai_emulator).batch_queued(prompts, return_exceptions=True, polling=NO_WAIT)
    assert len(replies) == 500
    failed = {index for index, reply in enumerate(replies) if isinstance(reply, ResponseFailedError)}
    assert failed == {7, 499}
    assert all(
        isinstance(reply, AIMessage) and reply.content == f"You asked: prompt number {index}"
        for index, reply in enumerate(replies)
        if index not in failed
    )
    assert "Capacity temporarily exceeded" in str(replies[7])
    (submitted,) = submissions(workers_ai_emulator)
    assert len(submitted["requests"]) == 500 and "model" not in submitted["requests"][0]
    assert len(workers_ai_emulator.requests) == 1 + 3  # one submission, two pending polls, the results


def test_a_failed_item_raises_naming_its_index(workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.configure(batch_pending_polls=0)
    workers_ai_emulator.fail_batch_items([2], "AiError: Internal server error")
    with pytest.raises(BatchItemError, match="Item 2 of the queued batch failed") as raised:
        make_llm(workers_ai_emulator).batch_queued(["a", "b", "c", "d"], polling=NO_WAIT)
    assert raised.value.index == 2 and isinstance(raised.value.error, ResponseFailedError)


def test_replies_are_what_invoke_returns(workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.configure(batch_pending_polls=0)
    llm = make_llm(workers_ai_emulator, reasoning_effort="low")
    conversation = [SystemMessage("Be brief."), HumanMessage("What's the weather in Paris?")]
    (queued,) = llm.batch_queued([conversation], tools=[get_weather], polling=NO_WAIT)
    direct = llm.invoke(conversation, tools=[get_weather])
    assert isinstance(queued, AIMessage)
    assert [(call["name"], call["args"]) for call in queued.tool_calls] == [("get_weather", {"city": "Paris"})]
    assert queued.tool_calls[0]["name"] == direct.tool_calls[0]["name"]
    assert queued.additional_kwargs["reasoning_content"] == direct.additional_kwargs["reasoning_content"]
    assert queued.usage_metadata == direct.usage_metadata
    assert queued.response_metadata["cost_usd"] == direct.response_metadata["cost_usd"]
    request = submissions(workers_ai_emulator)[0]["requests"][0]
    assert request["instructions"] == "Be brief." and request["tools"][0]["name"] == "get_weather"


def test_output_version_v1_gives_content_blocks_as_invoke_does(workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.configure(batch_pending_polls=0)
    llm = make_llm(workers_ai_emulator, output_version="v1")
    (queued,) = llm.batch_queued(["hi"], polling=NO_WAIT)
    direct = llm.invoke("hi")
    assert isinstance(queued, AIMessage)
    assert [block["type"] for block in queued.content] == [block["type"] for block in direct.content]  # type: ignore[index]
    assert queued.response_metadata["output_version"] == "v1"


def test_resuming_from_a_saved_request_id(workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.configure(batch_pending_polls=3)
    llm = make_llm(workers_ai_emulator)
    prompts = [f"question {n}" for n in range(20)]
    with pytest.raises(BatchPendingError) as pending:  # a timeout of 0: submit, poll once, hand back the id
        llm.batch_queued(prompts, polling=Polling(interval=0.0, timeout=0))
    request_id = pending.value.request_id
    replies = make_llm(workers_ai_emulator).batch_queued(prompts, request_id=request_id, polling=NO_WAIT)
    assert [reply.content for reply in replies] == [f"You asked: question {n}" for n in range(20)]  # type: ignore[union-attr]
    assert len(submissions(workers_ai_emulator)) == 1  # resuming only polled


async def test_abatch_queued(workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.configure(batch_pending_polls=1)
    workers_ai_emulator.fail_batch_items([1], "AiError: Internal server error")
    replies = await make_llm(workers_ai_emulator).abatch_queued(
        ["one", "two", "three"], return_exceptions=True, polling=NO_WAIT
    )
    assert isinstance(replies[1], ResponseFailedError)
    assert [reply.content for reply in (replies[0], replies[2])] == ["You asked: one", "You asked: three"]  # type: ignore[union-attr]


def test_no_inputs_no_requests(workers_ai_emulator: Emulator) -> None:
    assert make_llm(workers_ai_emulator).batch_queued([]) == []
    assert workers_ai_emulator.requests == []
