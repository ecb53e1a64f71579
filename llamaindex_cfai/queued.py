"""`chat_queued`/`achat_queued`: many LlamaIndex chats through Workers AI's async batch queue (`cfai.batch`).

A mixin of `WorkersAI`, kept apart so the LLM class stays one screenful of entry points. Each conversation becomes
the request `chat()` would send (the model's `_request`), the batch goes out as one submission, and each result is
mapped back exactly as `chat()` maps its reply, in input order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from llama_index.core.callbacks import CallbackManager
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]  # re-exported without __all__

from cfai.errors import WorkersAIError, warn_at_caller
from cfai.rate_limit import aacquire, acquire
from cfai.wire import Reply
from llamaindex_cfai.convert import reply_problems, response_from_reply
from llamaindex_cfai.queued_events import QueuedEvents, queued_events

if TYPE_CHECKING:
    from cfai.batch import Polling
    from cfai.binding import BindingClient
    from cfai.transport import AsyncWorkersAIClient, WorkersAIClient

__all__ = ["QueuedChat"]

dispatcher = get_dispatcher(__name__)


class _Request(Protocol):
    @property
    def body(self) -> dict[str, Any]: ...

    @property
    def stop(self) -> list[str] | None: ...


def _response(index: int, reply: Reply) -> ChatResponse:
    for problem, category in reply_problems(reply):
        warn_at_caller(problem, category)
    return response_from_reply(reply)


def _outputs(
    events: QueuedEvents, replies: Sequence[Reply | WorkersAIError], return_exceptions: bool
) -> list[ChatResponse | WorkersAIError]:
    """What `chat` returns for each item, each conversation's events ended with it; without `return_exceptions`,
    the first failed item then raises."""
    from cfai.batch import batch_outputs, raise_first_failure

    outputs = batch_outputs(replies, _response)
    events.end(outputs)
    if not return_exceptions:
        raise_first_failure(outputs)
    return outputs


def _bodies_and_stop(requests: Sequence[_Request]) -> tuple[list[Mapping[str, Any]], list[str] | None]:
    # One set of call options for the whole batch, so one set of stop strings.
    return [request.body for request in requests], requests[0].stop if requests else None


class QueuedChat:
    """The batch-queue entry points of `WorkersAI`."""

    if TYPE_CHECKING:
        rate_limiter: Any
        callback_manager: CallbackManager

        def to_payload(self) -> dict[str, Any]: ...

        @property
        def client(self) -> WorkersAIClient: ...

        @property
        def async_client(self) -> AsyncWorkersAIClient | BindingClient: ...

        def _request(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> _Request: ...

    @dispatcher.span
    def chat_queued(
        self,
        messages_list: Sequence[Sequence[ChatMessage]],
        *,
        return_exceptions: bool = False,
        request_id: str | None = None,
        polling: Polling | None = None,
        progress: bool | None = None,
        **kwargs: Any,
    ) -> list[ChatResponse | WorkersAIError]:
        """What `chat` returns for each conversation, in order, through Workers AI's async batch queue.

        A failed item raises `cfai.batch.BatchItemError` (naming its index), or with `return_exceptions=True`
        stands in its slot as the error. To resume from a saved `request_id`, pass it with the same conversations
        and options: they map the results back. `polling` sets the waits and the timeout; `progress` a status line
        on stderr (None: on a terminal only). Other keyword arguments are `chat()`'s call options. The batch is one
        instrumentation span, and each conversation reports the events `chat` reports (`queued_events.py`).
        """
        from cfai.batch import BatchQueue  # loaded with the first queued batch

        with queued_events(self.callback_manager, self.to_payload(), messages_list, kwargs) as events:
            # Inside the events, as `chat` checks its options after its start event: a bad option ends them all.
            bodies, stop = _bodies_and_stop([self._request(messages, dict(kwargs)) for messages in messages_list])
            acquire(self.rate_limiter)
            queue = BatchQueue(self.client, polling=polling, progress=progress)
            replies = queue.run(bodies, stop=stop, request_id=request_id)
            return _outputs(events, replies, return_exceptions)

    @dispatcher.span
    async def achat_queued(
        self,
        messages_list: Sequence[Sequence[ChatMessage]],
        *,
        return_exceptions: bool = False,
        request_id: str | None = None,
        polling: Polling | None = None,
        progress: bool | None = None,
        **kwargs: Any,
    ) -> list[ChatResponse | WorkersAIError]:
        """The asynchronous `chat_queued`."""
        from cfai.batch import AsyncBatchQueue  # loaded with the first queued batch

        with queued_events(self.callback_manager, self.to_payload(), messages_list, kwargs) as events:
            bodies, stop = _bodies_and_stop([self._request(messages, dict(kwargs)) for messages in messages_list])
            await aacquire(self.rate_limiter)
            queue = AsyncBatchQueue(self.async_client, polling=polling, progress=progress)
            replies = await queue.run(bodies, stop=stop, request_id=request_id)
            return _outputs(events, replies, return_exceptions)
