"""Folding stream events into the reply a non-streamed call returns: the one path from events to a Reply."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cfai.wire.types import (
    ReasoningDelta,
    Reply,
    ReplyDone,
    Status,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallArgumentsDelta,
    ToolCallStarted,
    Usage,
)


@dataclass(slots=True)
class _ToolCallParts:
    call_id: str
    name: str
    id: str | None
    arguments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ReplyAccumulator:
    """Collects the content of stream events by output item; `reply()` builds the final Reply from it."""

    reasoning: dict[int, list[str]] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)
    tool_calls: dict[int, _ToolCallParts] = field(default_factory=dict)

    def add(self, event: StreamEvent) -> None:
        if isinstance(event, TextDelta):
            self.text.append(event.delta)
        elif isinstance(event, ReasoningDelta):
            self.reasoning.setdefault(event.index, []).append(event.delta)
        elif isinstance(event, ToolCallStarted):
            self.tool_calls[event.index] = _ToolCallParts(event.call_id, event.name, event.id)
        elif isinstance(event, ToolCallArgumentsDelta):
            self.tool_calls[event.index].arguments.append(event.delta)

    def has_content(self, index: int) -> bool:
        calls = self.tool_calls.get(index)
        return bool(self.reasoning.get(index)) or bool(calls and calls.arguments)

    def reply(
        self,
        *,
        id: str,
        model: str,
        status: Status,
        usage: Usage | None,
        incomplete_reason: str | None = None,
        created_at: int | None = None,
        raw: dict[str, Any] | None = None,
    ) -> Reply:
        reasoning = ("".join(self.reasoning[index]) for index in sorted(self.reasoning))
        return Reply(
            id=id,
            model=model,
            status=status,
            text="".join(self.text),
            reasoning="\n\n".join(part for part in reasoning if part),
            tool_calls=tuple(
                ToolCall(call_id=parts.call_id, name=parts.name, arguments="".join(parts.arguments), id=parts.id)
                for _, parts in sorted(self.tool_calls.items())
            ),
            usage=usage,
            incomplete_reason=incomplete_reason,
            created_at=created_at,
            raw=raw,
        )


def replay(reply: Reply) -> list[StreamEvent]:
    """The events that a stream of `reply` would have carried: reasoning, text, tool calls, then the reply itself."""
    events: list[StreamEvent] = []
    if reply.reasoning:
        events.append(ReasoningDelta(reply.reasoning, index=0))
    if reply.text:
        events.append(TextDelta(reply.text, index=1))
    for offset, call in enumerate(reply.tool_calls, start=2):
        events.append(ToolCallStarted(call.call_id, call.name, index=offset, id=call.id))
        if call.arguments:
            events.append(ToolCallArgumentsDelta(call.arguments, index=offset))
    events.append(ReplyDone(reply))
    return events
