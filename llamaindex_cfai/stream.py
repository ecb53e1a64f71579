"""Folding the core's stream events into the ChatResponse chunks LlamaIndex expects from `stream_chat`.

LlamaIndex's convention: each chunk's `message` holds everything so far and `delta` the new answer text. Reasoning
deltas arrive as `additional_kwargs["thinking_delta"]`, which the agent workflows forward as
`AgentStream.thinking_delta`. Every chunk's message is built by `message_from_reply`, the function `chat()` uses, from
the text and reasoning so far; the last chunk is `response_from_reply` of the finished reply, so it carries the same
message as `chat()` plus the usage (which appears on no other chunk).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llama_index.core.base.llms.types import ChatResponse

from cfai.wire import (
    ReasoningDelta,
    RefusalDelta,
    Reply,
    ReplyAccumulator,
    ReplyDone,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallArgumentsDelta,
    ToolCallStarted,
)
from llamaindex_cfai.convert import message_from_reply, response_from_reply


@dataclass(slots=True)
class ChunkFolder:
    """What a stream has said so far; `chunk_from_event` returns the chunk to yield for each event.

    Text and reasoning are kept as running strings rather than re-joined from every delta on every chunk, which made
    a long stream quadratic (benchmarks/, streaming section); tool calls are folded by the core's accumulator, only
    when a tool event arrives.
    """

    model: str
    text: str = ""
    reasoning: str = ""
    refusal: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    calls: ReplyAccumulator = field(default_factory=ReplyAccumulator)

    def chunk_from_event(self, event: StreamEvent) -> ChatResponse:
        if isinstance(event, ReplyDone):
            return response_from_reply(event.reply, delta="")
        if isinstance(event, TextDelta):
            self.text += event.delta
        elif isinstance(event, ReasoningDelta):
            # The core joins separate reasoning items with a blank line; in-order deltas of one item just concatenate.
            self.reasoning += event.delta
        elif isinstance(event, RefusalDelta):
            self.refusal += event.delta
        elif isinstance(event, (ToolCallStarted, ToolCallArgumentsDelta)):
            self.calls.add(event)
            self.tool_calls = self.calls.reply(id="", model=self.model, status="in_progress", usage=None).tool_calls
        so_far = Reply(
            id="",
            model=self.model,
            status="in_progress",
            text=self.text,
            reasoning=self.reasoning,
            tool_calls=self.tool_calls,
        )
        additional_kwargs: dict[str, str] = {}
        if isinstance(event, ReasoningDelta):
            additional_kwargs["thinking_delta"] = event.delta
        if self.refusal:
            additional_kwargs["refusal"] = self.refusal
        return ChatResponse(
            message=message_from_reply(so_far),
            delta=event.delta if isinstance(event, TextDelta) else "",
            additional_kwargs=additional_kwargs,
        )
