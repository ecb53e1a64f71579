"""Translating a Responses SSE stream (OpenAI's event grammar) into our stream events, whatever server sent it.

Servers agree on the grammar but not on the details, so content is tied to its output item by `item_id` (by
`output_index` only when a server gives no ids): OpenAI's reference gpt-oss server numbers `output_index` on delta
events one lower than on the `.done` events of the same item. Reasoning arrives as raw `reasoning_text` deltas
(gpt-oss servers) or only as `reasoning_summary_text` deltas (LiteLLM's bridge, OpenAI). Some servers send an
item's content only in its `output_item.done` event, and LiteLLM's bridge sends a streamed tool call only inside
`response.completed`. So when an item closes, and again at the terminal event, what the stream carried is
reconciled with the server's final word: what is missing is emitted, nothing already sent is repeated.

Every other event type (including ones added to the grammar later) is ignored rather than fatal.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cfai.errors import ResponseFailedError, ResponseFormatError
from cfai.wire import lenient
from cfai.wire.accumulator import ReplyAccumulator
from cfai.wire.reply import (
    message_content,
    raise_for_failure,
    reasoning_content,
    reply_from_bytes,
    tool_call_from_json,
    usage_from_json,
)
from cfai.wire.sse import ServerSentEvent
from cfai.wire.status import Status, incomplete_reason_from, status_from
from cfai.wire.types import (
    ReasoningDelta,
    ReasoningKind,
    RefusalDelta,
    Reply,
    ReplyDone,
    StreamEvent,
    TextDelta,
    ToolCallArgumentsDelta,
    ToolCallStarted,
)

# The terminal events, and the status a reply has when the event's `response` does not say.
_TERMINAL: dict[str, Status] = {"response.completed": "completed", "response.incomplete": "incomplete"}


@dataclass(slots=True)
class _Item:
    """One output item as the stream has shown it so far."""

    index: int  # our position for it: the order in which items first appeared
    id: str | None
    kind: str | None = None  # "message", "reasoning" or "function_call", once known
    call_started: bool = False
    reasoning_kind: ReasoningKind | None = None  # which channel this item's reasoning came through
    summary_part: int = 0


def _unsaid(said: str, final: str) -> str:
    """What `final` adds to what was already said; nothing when the two disagree (never say a thing twice)."""
    return final[len(said) :] if final.startswith(said) else ""


class ResponsesStreamReader:
    """Feed decoded SSE events with `read`; the last event it returns is a ReplyDone."""

    def __init__(self) -> None:
        self.accumulator = ReplyAccumulator()
        self.done = False
        self._items: list[_Item] = []
        self._by_key: dict[object, _Item] = {}

    @staticmethod
    def whole_reply(content: bytes) -> Reply:
        """A server that ignored `stream: true` answered one JSON reply; read it as a non-streamed call would."""
        return reply_from_bytes(content)

    def read(self, sse: ServerSentEvent) -> list[StreamEvent]:
        if self.done or not sse.data or sse.data == "[DONE]":
            return []
        try:
            data = json.loads(sse.data)
        except (ValueError, RecursionError):
            raise ResponseFormatError(f"Unreadable Responses stream event: {sse.data[:120]!r}") from None
        if not isinstance(data, dict):
            return []
        kind = data.get("type")
        if not isinstance(kind, str):
            kind = sse.event
        events = self._translate(kind, data)
        for event in events:
            self.accumulator.add(event)
        if kind in _TERMINAL:
            events.append(self._finish(_TERMINAL[kind], data))
        return events

    def _translate(self, kind: str, data: dict[str, Any]) -> list[StreamEvent]:
        delta = data.get("delta")
        if isinstance(delta, str) and kind.endswith(".delta"):
            return self._delta(kind, delta, data)
        if kind == "response.output_item.added" or kind == "response.output_item.done":
            item = data.get("item")
            if not isinstance(item, dict):
                return []
            record = self._item(lenient.optional_text(item.get("id")), data.get("output_index"))
            record.kind = lenient.optional_text(item.get("type")) or record.kind
            if kind == "response.output_item.done":
                return self._reconcile(record, item)
            if record.kind == "function_call" and not record.call_started:
                return self._start_call(record, item)
            return []
        if kind in _TERMINAL:
            output = lenient.mapping(data.get("response")).get("output")
            return self._reconcile_all(lenient.items(output))
        if kind == "response.failed" or kind == "error":
            self._raise_failure(kind, data)
        return []

    def _delta(self, kind: str, delta: str, data: dict[str, Any]) -> list[StreamEvent]:
        record = self._item(lenient.optional_text(data.get("item_id")), data.get("output_index"))
        if kind == "response.function_call_arguments.delta":
            # Arguments of a call whose start was never announced arrive whole when the item closes.
            return [ToolCallArgumentsDelta(delta, record.index)] if record.call_started else []
        if kind == "response.output_text.delta":
            record.kind = record.kind or "message"
            return [TextDelta(delta, record.index)]
        if kind == "response.refusal.delta":
            record.kind = record.kind or "message"
            return [RefusalDelta(delta, record.index)]
        if kind == "response.reasoning_text.delta" and record.reasoning_kind != "summary":
            record.kind, record.reasoning_kind = "reasoning", "raw"
            return [ReasoningDelta(delta, record.index)]
        if kind == "response.reasoning_summary_text.delta" and record.reasoning_kind != "raw":
            record.kind, record.reasoning_kind = "reasoning", "summary"
            part = lenient.count(data.get("summary_index"))
            if part > record.summary_part:  # a new summary paragraph, as a whole reply separates them
                record.summary_part = part
                delta = "\n\n" + delta
            return [ReasoningDelta(delta, record.index)]
        return []

    def _item(self, item_id: str | None, output_index: Any) -> _Item:
        position = ("position", lenient.whole_number(output_index))
        if item_id is not None:
            record = self._by_key.get(item_id)
            if record is not None:
                return record
            # The same item announced earlier without an id, at the same position.
            record = self._by_key.get(position)
            if record is not None and record.id is None:
                record.id = item_id
                self._by_key[item_id] = record
                return record
        elif (record := self._by_key.get(position)) is not None:
            return record
        record = _Item(index=len(self._items), id=item_id)
        self._items.append(record)
        if item_id is not None:
            self._by_key[item_id] = record
        self._by_key.setdefault(position, record)
        return record

    def _start_call(self, record: _Item, item: dict[str, Any]) -> list[StreamEvent]:
        call = tool_call_from_json(item)
        record.call_started = True
        return [ToolCallStarted(call.call_id, call.name, record.index, call.id)]

    def _reconcile(self, record: _Item, item: dict[str, Any]) -> list[StreamEvent]:
        """The events that bring what the stream said about `record` up to the finished `item`."""
        text, refusal, reasoning, arguments = self.accumulator.said(record.index)
        events: list[StreamEvent] = []
        kind = item.get("type")
        if kind == "message":
            final_text, final_refusal = message_content(item)
            if missing := _unsaid(text, final_text):
                events.append(TextDelta(missing, record.index))
            if missing := _unsaid(refusal, final_refusal):
                events.append(RefusalDelta(missing, record.index))
        elif kind == "reasoning":
            raw, summary = reasoning_content(item)
            for final, channel in ((raw, "raw"), (summary, "summary")):
                if final and final.startswith(reasoning) and record.reasoning_kind in (None, channel, "summary"):
                    record.reasoning_kind = channel  # type: ignore[assignment]  # one of the two literals
                    if missing := final[len(reasoning) :]:
                        events.append(ReasoningDelta(missing, record.index))
                    break
        elif kind == "function_call":
            if not record.call_started:
                events.extend(self._start_call(record, item))
            call = tool_call_from_json(item)
            if missing := _unsaid(arguments or "", call.arguments):
                events.append(ToolCallArgumentsDelta(missing, record.index))
        return events

    def _reconcile_all(self, output: Iterable[Any]) -> list[StreamEvent]:
        """Reconciles every item of the final `response.output`; an item the stream never showed is emitted whole.

        A final item is the streamed item with its id, else the first streamed item of its type whose id the final
        output does not carry (servers that renumber ids between the stream and the final object).
        """
        finals = [item for item in output if isinstance(item, dict)]
        final_ids = {lenient.optional_text(item.get("id")) for item in finals}
        unmatched = [record for record in self._items if record.id not in final_ids]
        events: list[StreamEvent] = []
        for item in finals:
            item_id = lenient.optional_text(item.get("id"))
            record = self._by_key.get(item_id) if item_id is not None else None
            if record is None:
                kind = item.get("type")
                record = next((candidate for candidate in unmatched if candidate.kind == kind), None)
                if record is not None:
                    unmatched.remove(record)
                else:
                    record = _Item(index=len(self._items), id=item_id, kind=lenient.optional_text(kind))
                    self._items.append(record)
            events.extend(self._reconcile(record, item))
        return events

    def _raise_failure(self, kind: str, data: dict[str, Any]) -> None:
        response = lenient.mapping(data.get("response"))
        raise_for_failure(response)
        detail = lenient.mapping(data.get("error")) or data
        message = lenient.text(detail.get("message")) or "the stream reported an error"
        code = detail.get("code")
        raise ResponseFailedError(
            f"Workers AI stream error: {message}",
            code=code if isinstance(code, (str, int)) and not isinstance(code, bool) else None,
            body=data,
        )

    def _finish(self, default_status: Status, data: dict[str, Any]) -> ReplyDone:
        self.done = True
        response = lenient.mapping(data.get("response"))
        raise_for_failure(response)
        kinds = {record.reasoning_kind for record in self._items}
        return ReplyDone(
            self.accumulator.reply(
                id=lenient.text(response.get("id")),
                model=lenient.text(response.get("model")),
                status=status_from(response.get("status")) if "status" in response else default_status,
                usage=usage_from_json(response.get("usage")),
                incomplete_reason=incomplete_reason_from(response.get("incomplete_details")),
                created_at=lenient.whole_number(response.get("created_at")) or None,
                reasoning_kind="raw" if "raw" in kinds else "summary" if "summary" in kinds else None,
                raw=response or None,
            )
        )
