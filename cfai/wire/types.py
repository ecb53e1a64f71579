"""The Responses reply and stream-event types every layer above the wire speaks.

A reply is reduced to what the adapters map (reasoning, answer text, tool calls, usage, status); the raw JSON is kept
beside it for callers that want more. Stream events are the few kinds the adapters turn into chunks, whatever the
server sent (Responses SSE, Chat Completions SSE, or a non-streamed reply replayed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from cfai.wire.status import FinishReason, Status, finish_reason_of

ReasoningKind = Literal["raw", "summary"]


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one reply; `cached_tokens` are part of `input_tokens`, `reasoning_tokens` of `output_tokens`."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A `function_call` output item; `arguments` is the JSON text exactly as the model wrote it."""

    call_id: str
    name: str
    arguments: str
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """One model reply, the same whether it arrived whole or was folded from stream events."""

    id: str
    model: str
    status: Status
    text: str = ""
    reasoning: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    refusal: str = ""
    usage: Usage | None = None
    incomplete_reason: str | None = None
    created_at: int | None = None
    # Whether `reasoning` is the raw chain of thought or, from servers that send only that, a summary of it.
    reasoning_kind: ReasoningKind | None = None
    # USD at the catalog's prices, computed once as the reply leaves the core (None when the price is unknown).
    # Derived from `usage` and `model`, so it takes no part in comparing replies.
    cost_usd: float | None = field(default=None, compare=False)
    raw: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def finish_reason(self) -> FinishReason:
        """The Chat Completions name of why the reply ended, which both frameworks report."""
        return finish_reason_of(self.status, self.incomplete_reason, bool(self.tool_calls))


# Stream events. `index` is the output item's position, so parallel tool calls keep their own argument streams.


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's reasoning."""

    delta: str
    index: int = 0
    kind: Literal["reasoning"] = "reasoning"


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer."""

    delta: str
    index: int = 0
    kind: Literal["text"] = "text"


@dataclass(frozen=True, slots=True)
class RefusalDelta:
    """Text of the model declining to answer; kept apart from the answer, as a non-streamed reply keeps it."""

    delta: str
    index: int = 0
    kind: Literal["refusal"] = "refusal"


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """A function call begins; its arguments follow as `ToolCallArgumentsDelta`s with the same `index`."""

    call_id: str
    name: str
    index: int = 0
    id: str | None = None
    kind: Literal["tool_call"] = "tool_call"


@dataclass(frozen=True, slots=True)
class ToolCallArgumentsDelta:
    """A piece of the JSON arguments of the function call started at the same `index`."""

    delta: str
    index: int = 0
    kind: Literal["tool_call_arguments"] = "tool_call_arguments"


@dataclass(frozen=True, slots=True)
class ReplyDone:
    """The last event of every stream: the whole reply, with usage, status and ids (usage appears only here)."""

    reply: Reply
    kind: Literal["done"] = "done"


StreamEvent = ReasoningDelta | TextDelta | RefusalDelta | ToolCallStarted | ToolCallArgumentsDelta | ReplyDone
