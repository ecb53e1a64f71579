"""LlamaIndex events for the batch queue: what `chat` reports, for each conversation of a queued batch.

`WorkersAI.chat_queued` runs in its own instrumentation span. Each conversation is started before the submission as
`chat` starts a call (an `LLMChatStartEvent`, and an LLM event on the callback manager, so `LlamaDebugHandler` and
the tracing integrations pair it) and ended with its own item's outcome once the batch is back: an `LLMChatEndEvent`
with the response, or an `ExceptionEvent` with the item's error. A batch that stops as a whole (refused, or still
pending when the wait runs out) ends every conversation with that error.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from llama_index.core.callbacks import CallbackManager, CBEventType, EventPayload
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]  # re-exported without __all__
from llama_index.core.instrumentation.events.exception import ExceptionEvent
from llama_index.core.instrumentation.events.llm import LLMChatEndEvent, LLMChatStartEvent
from llama_index.core.instrumentation.span import active_span_id

__all__ = ["QueuedEvents", "queued_events"]

dispatcher = get_dispatcher(__name__)


class QueuedEvents:
    """The start of every conversation's events; `end` or `fail` ends those still open."""

    def __init__(
        self,
        callback_manager: CallbackManager,
        payload: dict[str, Any],
        conversations: Sequence[Sequence[ChatMessage]],
        options: Mapping[str, Any],
    ) -> None:
        self._callbacks = callback_manager
        self._span_id = active_span_id.get()
        self._open: deque[tuple[list[ChatMessage], str]] = deque()
        for messages in map(list, conversations):
            dispatcher.event(
                LLMChatStartEvent(
                    model_dict=payload, messages=messages, additional_kwargs=dict(options), span_id=self._span_id
                )
            )
            event_id = callback_manager.on_event_start(
                CBEventType.LLM,
                payload={
                    EventPayload.MESSAGES: messages,
                    EventPayload.ADDITIONAL_KWARGS: dict(options),
                    EventPayload.SERIALIZED: payload,
                },
            )
            self._open.append((messages, event_id))

    def end(self, outputs: Sequence[ChatResponse | BaseException]) -> None:
        """Ends each conversation with its item's response, or its item's error."""
        if len(outputs) != len(self._open):
            raise ValueError(f"{len(outputs)} outcomes for {len(self._open)} open conversations")
        for output in outputs:
            # Taken off before it is ended: should a handler raise, `fail` ends the others, and this one only once.
            messages, event_id = self._open.popleft()
            if isinstance(output, BaseException):
                self._failed(event_id, output)
                continue
            payload: dict[str, Any] = {EventPayload.MESSAGES: messages, EventPayload.RESPONSE: output}
            self._callbacks.on_event_end(CBEventType.LLM, payload=payload, event_id=event_id)
            dispatcher.event(LLMChatEndEvent(messages=messages, response=output, span_id=self._span_id))

    def fail(self, error: BaseException) -> None:
        """Ends every conversation still open with the error that stopped the whole batch."""
        while self._open:
            _, event_id = self._open.popleft()
            self._failed(event_id, error)

    def _failed(self, event_id: str, error: BaseException) -> None:
        self._callbacks.on_event_end(CBEventType.LLM, payload={EventPayload.EXCEPTION: error}, event_id=event_id)
        dispatcher.event(ExceptionEvent(exception=error, span_id=self._span_id))


@contextmanager
def queued_events(
    callback_manager: CallbackManager,
    payload: dict[str, Any],
    conversations: Sequence[Sequence[ChatMessage]],
    options: Mapping[str, Any],
) -> Iterator[QueuedEvents]:
    """The events of one queued batch, inside its callback trace; an error out of the block ends those still open."""
    with callback_manager.as_trace("chat_queued"):
        events = QueuedEvents(callback_manager, payload, conversations, options)
        try:
            yield events
        except BaseException as error:
            events.fail(error)
            raise
