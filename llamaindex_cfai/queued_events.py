"""LlamaIndex events for the batch queue: what `chat` reports, for each conversation of a queued batch.

`WorkersAI.chat_queued` runs in its own instrumentation span. Each conversation is started before the submission as
`chat` starts a call (an `LLMChatStartEvent`, and an LLM event on the callback manager, so `LlamaDebugHandler` and
the tracing integrations pair it) and ended with its own item's outcome once the batch is back: an `LLMChatEndEvent`
with the response, or an `ExceptionEvent` with the item's error. A batch that stops as a whole (refused, or still
pending when the wait runs out) ends every conversation with that error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from llama_index.core.callbacks import CallbackManager, CBEventType, EventPayload
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]  # re-exported without __all__
from llama_index.core.instrumentation.events.exception import ExceptionEvent
from llama_index.core.instrumentation.events.llm import LLMChatEndEvent, LLMChatStartEvent
from llama_index.core.instrumentation.span import active_span_id

__all__ = ["QueuedEvents"]

dispatcher = get_dispatcher(__name__)


class QueuedEvents:
    """The start of every conversation's events; `end` or `fail` ends them."""

    def __init__(
        self,
        callback_manager: CallbackManager,
        payload: dict[str, Any],
        conversations: Sequence[Sequence[ChatMessage]],
        options: Mapping[str, Any],
    ) -> None:
        self._callbacks = callback_manager
        self._span_id = active_span_id.get()
        self._conversations = [list(messages) for messages in conversations]
        self._event_ids = []
        for messages in self._conversations:
            dispatcher.event(
                LLMChatStartEvent(
                    model_dict=payload, messages=messages, additional_kwargs=dict(options), span_id=self._span_id
                )
            )
            self._event_ids.append(
                callback_manager.on_event_start(
                    CBEventType.LLM,
                    payload={
                        EventPayload.MESSAGES: messages,
                        EventPayload.ADDITIONAL_KWARGS: dict(options),
                        EventPayload.SERIALIZED: payload,
                    },
                )
            )

    def end(self, outputs: Sequence[ChatResponse | BaseException]) -> None:
        """Ends each conversation with its item's response, or its item's error."""
        for messages, event_id, output in zip(self._conversations, self._event_ids, outputs, strict=True):
            if isinstance(output, BaseException):
                self._failed(event_id, output)
                continue
            payload: dict[str, Any] = {EventPayload.MESSAGES: messages, EventPayload.RESPONSE: output}
            self._callbacks.on_event_end(CBEventType.LLM, payload=payload, event_id=event_id)
            dispatcher.event(LLMChatEndEvent(messages=messages, response=output, span_id=self._span_id))

    def fail(self, error: BaseException) -> None:
        """Ends every conversation with the error that stopped the whole batch."""
        for event_id in self._event_ids:
            self._failed(event_id, error)

    def _failed(self, event_id: str, error: BaseException) -> None:
        self._callbacks.on_event_end(CBEventType.LLM, payload={EventPayload.EXCEPTION: error}, event_id=event_id)
        dispatcher.event(ExceptionEvent(exception=error, span_id=self._span_id))
