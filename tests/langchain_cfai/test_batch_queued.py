"""ChatWorkersAI.batch_queued / abatch_queued against the emulator's batch queue: order, failures, resumption."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID, uuid4

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import LLMResult
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.tools import tool

from cfai.batch import BatchItemError, BatchPendingError, Polling
from cfai.binding import AsyncOnlyError
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


# Callbacks: each queued input is a run, as in `batch`.


class Runs(BaseCallbackHandler):
    """Records the chat-model runs callbacks see: how each started, and how it ended."""

    def __init__(self) -> None:
        self.started: dict[UUID, dict[str, Any]] = {}
        self.ended: dict[UUID, AIMessage | BaseException] = {}

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], *, run_id: UUID, **kwargs: Any
    ) -> None:
        self.started[run_id] = {"messages": messages, **kwargs}

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        message = response.generations[0][0].message  # type: ignore[attr-defined]
        self.ended[run_id] = message

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self.ended[run_id] = error

    def outcomes_by_prompt(self) -> dict[str, AIMessage | BaseException]:
        return {start["messages"][0][0].content: self.ended[run_id] for run_id, start in self.started.items()}


def _queued(llm: ChatWorkersAI, asynchronous: bool, prompts: list[str], **options: Any) -> list[Any]:
    if asynchronous:
        return asyncio.run(llm.abatch_queued(prompts, polling=NO_WAIT, **options))
    return llm.batch_queued(prompts, polling=NO_WAIT, **options)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_each_queued_input_is_a_run_ended_with_its_own_outcome(
    asynchronous: bool, workers_ai_emulator: Emulator
) -> None:
    workers_ai_emulator.configure(batch_pending_polls=1)
    workers_ai_emulator.fail_batch_items([1], "AiError: Internal server error")
    runs = Runs()
    config: RunnableConfig = {"callbacks": [runs], "tags": ["nightly"], "metadata": {"job": "digest"}}
    llm = make_llm(workers_ai_emulator, reasoning_effort="low")

    replies = _queued(llm, asynchronous, ["one", "two", "three"], config=config, return_exceptions=True)

    assert runs.outcomes_by_prompt() == {"one": replies[0], "two": replies[1], "three": replies[2]}
    assert isinstance(replies[1], ResponseFailedError) and isinstance(replies[0], AIMessage)
    for start in runs.started.values():
        assert start["tags"] == ["nightly"] and start["metadata"]["job"] == "digest"
        assert start["metadata"]["ls_provider"] == "cloudflare"
        assert start["invocation_params"]["reasoning_effort"] == "low"
        assert start["invocation_params"] == llm._get_invocation_params(stop=None)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_failed_item_still_ends_every_run_before_it_raises(asynchronous: bool, workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.configure(batch_pending_polls=0)
    workers_ai_emulator.fail_batch_items([0], "AiError: Internal server error")
    runs = Runs()
    llm = make_llm(workers_ai_emulator, callbacks=[runs])  # the model's own callbacks count too

    with pytest.raises(BatchItemError) as raised:
        _queued(llm, asynchronous, ["one", "two"])

    outcomes = runs.outcomes_by_prompt()
    assert outcomes["one"] is raised.value.error
    assert isinstance(outcomes["two"], AIMessage) and outcomes["two"].content == "You asked: two"


def test_a_batch_that_stops_ends_every_run_with_its_error(workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.configure(batch_pending_polls=3)
    runs = Runs()
    with pytest.raises(BatchPendingError) as pending:
        make_llm(workers_ai_emulator).batch_queued(
            ["one", "two"], config={"callbacks": [runs]}, polling=Polling(interval=0.0, timeout=0)
        )
    assert len(runs.started) == 2
    assert all(outcome is pending.value for outcome in runs.ended.values()) and runs.ended.keys() == runs.started.keys()


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_call_option_refused_ends_every_run_with_the_error_and_sends_nothing(
    asynchronous: bool, workers_ai_emulator: Emulator
) -> None:
    runs = Runs()
    with pytest.raises(TypeError, match="temprature") as refused:
        _queued(make_llm(workers_ai_emulator), asynchronous, ["one", "two"], config={"callbacks": [runs]}, temprature=1)
    assert len(runs.started) == 2 and all(outcome is refused.value for outcome in runs.ended.values())
    assert workers_ai_emulator.requests == []


def test_queued_runs_nest_under_the_run_that_makes_the_batch(workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.configure(batch_pending_polls=0)
    runs = Runs()
    llm = make_llm(workers_ai_emulator)
    parents: list[UUID] = []

    class Parent(BaseCallbackHandler):
        def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
            parents.append(run_id)

    digest = RunnableLambda(lambda prompts: llm.batch_queued(prompts, polling=NO_WAIT))
    digest.invoke(["one", "two"], config={"callbacks": [runs, Parent()]})

    assert len(runs.started) == 2 and len(runs.ended) == 2
    assert [start["parent_run_id"] for start in runs.started.values()] == [parents[0], parents[0]]


def test_a_config_per_input_as_batch_takes_them(workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.configure(batch_pending_polls=0)
    runs = Runs()
    run_ids = [uuid4(), uuid4()]
    configs: list[RunnableConfig] = [
        {"callbacks": [runs], "tags": [f"input-{n}"], "run_name": f"digest-{n}", "run_id": run_ids[n]} for n in range(2)
    ]

    make_llm(workers_ai_emulator).batch_queued(["one", "two"], config=configs, polling=NO_WAIT)

    assert [(start["messages"][0][0].content, start["tags"]) for start in runs.started.values()] == [
        ("one", ["input-0"]),
        ("two", ["input-1"]),
    ]
    assert [start["name"] for start in runs.started.values()] == ["digest-0", "digest-1"]
    assert list(runs.started) == run_ids and set(runs.ended) == set(run_ids)
    with pytest.raises(ValueError, match="same length as inputs"):
        make_llm(workers_ai_emulator).batch_queued(["one", "two", "three"], config=configs, polling=NO_WAIT)
    assert len(submissions(workers_ai_emulator)) == 1  # the refused batch sent nothing


class _StrictRuns(Runs):
    """A handler whose errors reach the caller (`raise_error`); ending the first run with a message fails."""

    raise_error = True

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        super().on_llm_end(response, run_id=run_id, **kwargs)
        if len(self.ended) == 1:
            raise RuntimeError("handler failed")


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_handler_that_raises_still_leaves_every_run_ended_once(
    asynchronous: bool, workers_ai_emulator: Emulator
) -> None:
    workers_ai_emulator.configure(batch_pending_polls=0)
    runs = _StrictRuns()
    with pytest.raises(RuntimeError, match="handler failed"):
        _queued(make_llm(workers_ai_emulator), asynchronous, ["one", "two"], config={"callbacks": [runs]})
    outcomes = runs.outcomes_by_prompt()
    assert isinstance(outcomes["one"], AIMessage)
    assert isinstance(outcomes["two"], RuntimeError) and str(outcomes["two"]) == "handler failed"


async def test_inside_a_worker_abatch_queued_goes_through_the_binding(workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.fail_batch_items([1], "AiError: Capacity temporarily exceeded")
    binding = workers_ai_emulator.binding()
    llm = ChatWorkersAI(binding=binding, max_retries=0)  # no account id, token or URL

    replies = await llm.abatch_queued(["One", "Two", "Three"], return_exceptions=True, polling=NO_WAIT)

    assert [replies[0].content, replies[2].content] == ["You asked: One", "You asked: Three"]
    assert isinstance(replies[1], ResponseFailedError)
    assert binding.calls[0][2] == {"queueRequest": True} and len(binding.calls[0][1]["requests"]) == 3
    with pytest.raises(AsyncOnlyError, match="abatch"):
        llm.batch_queued(["One"], polling=NO_WAIT)
