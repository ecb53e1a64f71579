"""Folding stream events into the reply a non-streamed call returns: the one path from events to a Reply.

Content is kept by output position (`index`), so a reader can ask what a stream has already said about one item
before it adds what the server's final word says is missing, and parallel tool calls keep their own arguments.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from cfai.wire.status import Status
from cfai.wire.types import (
    ReasoningDelta,
    ReasoningKind,
    RefusalDelta,
    Reply,
    ReplyDone,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallArgumentsDelta,
    ToolCallStarted,
    Usage,
)


@dataclass(slots=True)
class _ToolCallParts:
    """A streamed function call so far: its ids, its name and the pieces of its arguments."""

    call_id: str
    name: str
    id: str | None
    arguments: list[str] = field(default_factory=list)


def _parts_by_index() -> defaultdict[int, list[str]]:
    return defaultdict(list)


def _joined(parts_by_index: dict[int, list[str]], separator: str = "") -> str:
    texts = ("".join(parts_by_index[index]) for index in sorted(parts_by_index))
    return separator.join(text for text in texts if text)


@dataclass(slots=True)
class ReplyAccumulator:
    """Collects the content of stream events by output item; `reply()` builds the final Reply from it."""

    # Deltas by output index. `add` runs once per token: a defaultdict's missing-key default costs less than a check.
    text: defaultdict[int, list[str]] = field(default_factory=_parts_by_index)
    reasoning: defaultdict[int, list[str]] = field(default_factory=_parts_by_index)
    refusal: defaultdict[int, list[str]] = field(default_factory=_parts_by_index)
    tool_calls: dict[int, _ToolCallParts] = field(default_factory=dict)

    def add(self, event: StreamEvent) -> None:
        if isinstance(event, TextDelta):
            self.text[event.index].append(event.delta)
        elif isinstance(event, ReasoningDelta):
            self.reasoning[event.index].append(event.delta)
        elif isinstance(event, ToolCallArgumentsDelta):
            self.tool_calls[event.index].arguments.append(event.delta)
        elif isinstance(event, ToolCallStarted):
            self.tool_calls[event.index] = _ToolCallParts(event.call_id, event.name, event.id)
        elif isinstance(event, RefusalDelta):
            self.refusal[event.index].append(event.delta)

    def parts(self, channel: Literal["text", "reasoning", "refusal"], index: int) -> list[str]:
        """The list that one item's deltas in one channel are appended to, for a reader that knows its items before
        they arrive: appending to it is what `add` does."""
        channels = {"text": self.text, "reasoning": self.reasoning, "refusal": self.refusal}
        return channels[channel][index]

    def said(self, index: int) -> tuple[str, str, str, str | None]:
        """What the stream has carried for one item: (text, refusal, reasoning, tool-call arguments or None)."""
        call = self.tool_calls.get(index)
        return (
            "".join(self.text.get(index, ())),
            "".join(self.refusal.get(index, ())),
            "".join(self.reasoning.get(index, ())),
            "".join(call.arguments) if call is not None else None,
        )

    def reply(
        self,
        *,
        id: str,
        model: str,
        status: Status,
        usage: Usage | None,
        incomplete_reason: str | None = None,
        created_at: int | None = None,
        reasoning_kind: ReasoningKind | None = None,
        raw: dict[str, Any] | None = None,
    ) -> Reply:
        reasoning = _joined(self.reasoning, "\n\n")
        return Reply(
            id=id,
            model=model,
            status=status,
            text=_joined(self.text),
            reasoning=reasoning,
            tool_calls=tuple(
                ToolCall(call_id=parts.call_id, name=parts.name, arguments="".join(parts.arguments), id=parts.id)
                for _, parts in sorted(self.tool_calls.items())
            ),
            refusal=_joined(self.refusal),
            usage=usage,
            incomplete_reason=incomplete_reason,
            created_at=created_at,
            reasoning_kind=(reasoning_kind or "raw") if reasoning else None,
            raw=raw,
        )


def replay(reply: Reply) -> list[StreamEvent]:
    """The events that a stream of `reply` would have carried: reasoning, text, refusal, tool calls, the reply."""
    events: list[StreamEvent] = []
    if reply.reasoning:
        events.append(ReasoningDelta(reply.reasoning, index=0))
    if reply.text:
        events.append(TextDelta(reply.text, index=1))
    if reply.refusal:
        events.append(RefusalDelta(reply.refusal, index=1))
    for offset, call in enumerate(reply.tool_calls, start=2):
        events.append(ToolCallStarted(call.call_id, call.name, index=offset, id=call.id))
        if call.arguments:
            events.append(ToolCallArgumentsDelta(call.arguments, index=offset))
    events.append(ReplyDone(reply))
    return events
