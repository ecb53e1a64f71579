"""WorkersAI.chat_queued / achat_queued against the emulator's batch queue: order, failures, resumption."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatResponse
from llama_index.core.callbacks import CallbackManager, CBEventType, EventPayload, LlamaDebugHandler
from llama_index.core.callbacks.base_handler import BaseCallbackHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.events.exception import ExceptionEvent
from llama_index.core.instrumentation.events.llm import LLMChatEndEvent, LLMChatStartEvent
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool

from cfai.batch import BatchItemError, BatchPendingError, Polling
from cfai.binding import AsyncOnlyError
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


# Observability: each queued conversation reports what `chat` reports.


def _queued(llm: WorkersAI, asynchronous: bool, conversations: list[Any], **options: Any) -> Any:
    """The call's result, or the error it raised."""
    try:
        if asynchronous:
            return asyncio.run(llm.achat_queued(conversations, polling=NO_WAIT, **options))
        return llm.chat_queued(conversations, polling=NO_WAIT, **options)
    except Exception as error:
        return error


@pytest.mark.parametrize("asynchronous", [False, True])
def test_each_queued_conversation_reports_the_events_chat_does(
    asynchronous: bool, workers_ai_emulator: Emulator, instrumentation_events: list[BaseEvent]
) -> None:
    workers_ai_emulator.configure(batch_pending_polls=1)
    workers_ai_emulator.fail_batch_items([1], "AiError: Internal server error")
    debug = LlamaDebugHandler()
    llm = make_llm(workers_ai_emulator, callback_manager=CallbackManager([debug]))
    conversations = [ask("q0"), ask("q1"), ask("q2")]

    responses = _queued(llm, asynchronous, conversations, return_exceptions=True)

    starts = [event for event in instrumentation_events if isinstance(event, LLMChatStartEvent)]
    ends = [event for event in instrumentation_events if isinstance(event, LLMChatEndEvent)]
    errors = [event for event in instrumentation_events if isinstance(event, ExceptionEvent)]
    assert [start.messages for start in starts] == conversations
    assert [end.response for end in ends] == [responses[0], responses[2]]
    assert [error.exception for error in errors] == [responses[1]]
    method = "achat_queued" if asynchronous else "chat_queued"
    span_ids = {event.span_id for event in (*starts, *ends, *errors)}
    assert len(span_ids) == 1 and next(iter(span_ids)).startswith(f"WorkersAI.{method}-")  # type: ignore[union-attr]
    pairs = debug.get_event_pairs(CBEventType.LLM)
    assert len(pairs) == 3 and all(len(pair) == 2 for pair in pairs)
    outcomes = [
        end.payload.get(EventPayload.RESPONSE, end.payload.get(EventPayload.EXCEPTION))
        for _, end in debug.get_llm_inputs_outputs()
    ]
    assert outcomes == responses


def test_without_return_exceptions_every_conversation_ends_before_the_error(
    workers_ai_emulator: Emulator, instrumentation_events: list[BaseEvent]
) -> None:
    workers_ai_emulator.configure(batch_pending_polls=0)
    workers_ai_emulator.fail_batch_items([0], "AiError: Internal server error")

    raised = _queued(make_llm(workers_ai_emulator), False, [ask("q0"), ask("q1")])

    assert isinstance(raised, BatchItemError)
    endings = [type(event) for event in instrumentation_events if isinstance(event, (ExceptionEvent, LLMChatEndEvent))]
    assert endings == [ExceptionEvent, LLMChatEndEvent]  # the item that failed, then the one that did not


def test_a_batch_that_stops_ends_every_conversation_with_its_error(
    workers_ai_emulator: Emulator, instrumentation_events: list[BaseEvent]
) -> None:
    workers_ai_emulator.configure(batch_pending_polls=3)
    llm = make_llm(workers_ai_emulator)

    with pytest.raises(BatchPendingError) as pending:
        llm.chat_queued([ask("q0"), ask("q1")], polling=Polling(interval=0.0, timeout=0))

    errors = [event.exception for event in instrumentation_events if isinstance(event, ExceptionEvent)]
    assert len(errors) == 2 and all(error is pending.value for error in errors)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_call_option_refused_ends_every_conversation_with_the_error_and_sends_nothing(
    asynchronous: bool, workers_ai_emulator: Emulator, instrumentation_events: list[BaseEvent]
) -> None:
    raised = _queued(make_llm(workers_ai_emulator), asynchronous, [ask("q0"), ask("q1")], temprature=1)

    assert isinstance(raised, TypeError) and "temprature" in str(raised)
    started = [event for event in instrumentation_events if isinstance(event, LLMChatStartEvent)]
    errors = [event.exception for event in instrumentation_events if isinstance(event, ExceptionEvent)]
    assert len(started) == 2 and len(errors) == 2 and all(error is raised for error in errors)
    assert workers_ai_emulator.requests == []


class _EndsOnce(BaseCallbackHandler):
    """Records each LLM event's end; the first that carries a response raises, as a faulty handler might."""

    def __init__(self) -> None:
        super().__init__(event_starts_to_ignore=[], event_ends_to_ignore=[])
        self.ended: list[tuple[str, set[str]]] = []

    def on_event_start(self, event_type: Any, payload: Any = None, event_id: str = "", **kwargs: Any) -> str:
        return event_id

    def on_event_end(self, event_type: Any, payload: Any = None, event_id: str = "", **kwargs: Any) -> None:
        if event_type is CBEventType.LLM:
            self.ended.append((event_id, set(payload or {})))
            if len(self.ended) == 1 and EventPayload.RESPONSE in (payload or {}):
                raise RuntimeError("handler failed")

    def start_trace(self, trace_id: str | None = None) -> None:
        pass

    def end_trace(self, trace_id: str | None = None, trace_map: Any = None) -> None:
        pass


def test_a_handler_that_raises_still_leaves_each_conversation_ended_once(workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.configure(batch_pending_polls=0)
    handler = _EndsOnce()
    llm = make_llm(workers_ai_emulator, callback_manager=CallbackManager([handler]))

    with pytest.raises(RuntimeError, match="handler failed"):
        llm.chat_queued([ask("q0"), ask("q1")], polling=NO_WAIT)

    assert [keys for _, keys in handler.ended] == [{"messages", "response"}, {"exception"}]
    assert len({event_id for event_id, _ in handler.ended}) == 2


async def test_inside_a_worker_achat_queued_goes_through_the_binding(workers_ai_emulator: Emulator) -> None:
    binding = workers_ai_emulator.binding()
    llm = WorkersAI(binding=binding, max_retries=0)  # no account id or token

    responses = await llm.achat_queued([ask("q0"), ask("q1")], polling=NO_WAIT)

    assert answers(responses) == ["You asked: q0", "You asked: q1"]
    submitted, *_ = binding.calls
    assert submitted[2] == {"queueRequest": True}
    assert submitted[1]["requests"][0] == {"instructions": "Be brief.", "input": [{"role": "user", "content": "q0"}]}
    with pytest.raises(AsyncOnlyError, match="achat"):
        llm.chat_queued([ask("q0")], polling=NO_WAIT)
