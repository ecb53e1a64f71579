"""Folding the core's stream events into the ChatResponse chunks LlamaIndex expects from `stream_chat`.

LlamaIndex's convention: each chunk's `message` holds everything so far and `delta` the new answer text. Reasoning
deltas arrive as `additional_kwargs["thinking_delta"]`, which the agent workflows forward as
`AgentStream.thinking_delta`. The events are collected by cfai's one accumulator and every chunk's message is built
by `message_from_reply`, the function `chat()` uses; the last chunk is `response_from_reply` of the finished reply, so
it carries the same message as `chat()` plus the usage (which appears on no other chunk).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llama_index.core.base.llms.types import ChatResponse

from cfai.wire import ReasoningDelta, ReplyAccumulator, ReplyDone, StreamEvent, TextDelta
from llamaindex_cfai.convert import message_from_reply, response_from_reply


@dataclass(slots=True)
class ChatStream:
    """What a stream has said so far; `chunk_from_event` returns the chunk to yield for each event."""

    model: str
    collected: ReplyAccumulator = field(default_factory=ReplyAccumulator)

    def chunk_from_event(self, event: StreamEvent) -> ChatResponse:
        if isinstance(event, ReplyDone):
            return response_from_reply(event.reply, delta="")
        self.collected.add(event)
        so_far = self.collected.reply(id="", model=self.model, status="in_progress", usage=None)
        return ChatResponse(
            message=message_from_reply(so_far),
            delta=event.delta if isinstance(event, TextDelta) else "",
            additional_kwargs={"thinking_delta": event.delta} if isinstance(event, ReasoningDelta) else {},
        )
