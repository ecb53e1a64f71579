"""Translating a Responses SSE stream (OpenAI's event grammar) into our stream events.

Only the events that carry content or the final state matter; every other type (including ones added to the grammar
later) is ignored rather than fatal. Servers that send an item's content only in its `output_item.done` event,
without deltas, are covered too: such content is emitted once, when the item closes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from cfai.errors import ResponseFailedError, ResponseFormatError
from cfai.wire.accumulator import ReplyAccumulator
from cfai.wire.reply import (
    _STATUSES,
    raise_for_failure,
    reply_from_bytes,
    salvage_tool_call,
    tool_call_from_json,
    usage_from_json,
)
from cfai.wire.sse import ServerSentEvent
from cfai.wire.types import (
    ReasoningDelta,
    Reply,
    ReplyDone,
    Status,
    StreamEvent,
    TextDelta,
    ToolCallArgumentsDelta,
    ToolCallStarted,
)

_TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})


class ResponsesStreamReader:
    """Feed decoded SSE events with `read`; the last event it returns is a ReplyDone."""

    def __init__(self) -> None:
        self.accumulator = ReplyAccumulator()
        self.done = False
        self._text_indexes: set[int] = set()

    @staticmethod
    def whole_reply(content: bytes, body: Mapping[str, Any]) -> Reply:
        """A server that ignored `stream: true` answered one JSON reply; read it as a non-streamed call would."""
        return salvage_tool_call(reply_from_bytes(content), body)

    def read(self, sse: ServerSentEvent) -> list[StreamEvent]:
        if self.done or not sse.data or sse.data == "[DONE]":
            return []
        try:
            data = json.loads(sse.data)
        except ValueError:
            raise ResponseFormatError(f"Unreadable Responses stream event: {sse.data[:120]!r}") from None
        if not isinstance(data, Mapping):
            return []
        kind = str(data.get("type") or sse.event)
        events = self._translate(kind, data)
        for event in events:
            self.accumulator.add(event)
        if kind in _TERMINAL:
            events.append(self._finish(data))
        return events

    def _translate(self, kind: str, data: Mapping[str, Any]) -> list[StreamEvent]:
        index = int(data.get("output_index") or 0)
        delta = data.get("delta")
        if kind == "error":
            message = str(data.get("message") or "the stream reported an error")
            raise ResponseFailedError(f"Workers AI stream error: {message}", code=data.get("code"), body=dict(data))
        if kind in ("response.output_text.delta", "response.refusal.delta") and isinstance(delta, str):
            self._text_indexes.add(index)
            return [TextDelta(delta, index)]
        if kind == "response.reasoning_text.delta" and isinstance(delta, str):
            return [ReasoningDelta(delta, index)]
        if kind == "response.function_call_arguments.delta" and isinstance(delta, str):
            return [ToolCallArgumentsDelta(delta, index)] if index in self.accumulator.tool_calls else []
        item = data.get("item")
        if not isinstance(item, Mapping):
            return []
        if kind == "response.output_item.added" and item.get("type") == "function_call":
            call = tool_call_from_json(item)
            return [ToolCallStarted(call.call_id, call.name, index, call.id)]
        if kind == "response.output_item.done":
            return self._late_content(index, item)
        return []

    def _late_content(self, index: int, item: Mapping[str, Any]) -> list[StreamEvent]:
        """Content of a finished item that arrived without deltas."""
        kind = item.get("type")
        if kind == "function_call":
            call = tool_call_from_json(item)
            events: list[StreamEvent] = []
            if index not in self.accumulator.tool_calls:
                events.append(ToolCallStarted(call.call_id, call.name, index, call.id))
            if not self.accumulator.has_content(index) and call.arguments:
                events.append(ToolCallArgumentsDelta(call.arguments, index))
            return events
        content = item.get("content")
        if not isinstance(content, list):
            content = []
        if kind == "reasoning" and not self.accumulator.has_content(index):
            text = "".join(str(part.get("text") or "") for part in content if isinstance(part, Mapping))
            return [ReasoningDelta(text, index)] if text else []
        if kind == "message" and index not in self._text_indexes:
            text = "".join(
                str(part.get("text") or part.get("refusal") or "") for part in content if isinstance(part, Mapping)
            )
            return [TextDelta(text, index)] if text else []
        return []

    def _finish(self, data: Mapping[str, Any]) -> ReplyDone:
        self.done = True
        response = data.get("response") if isinstance(data.get("response"), Mapping) else {}
        assert isinstance(response, Mapping)
        raise_for_failure(response)
        status = response.get("status")
        details = response.get("incomplete_details")
        return ReplyDone(
            self.accumulator.reply(
                id=str(response.get("id") or ""),
                model=str(response.get("model") or ""),
                status=cast(Status, status if status in _STATUSES else "completed"),
                usage=usage_from_json(response.get("usage")),
                incomplete_reason=str(details.get("reason")) if isinstance(details, Mapping) else None,
                created_at=int(response.get("created_at") or 0) or None,
                raw=dict(response),
            )
        )
