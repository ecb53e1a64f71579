"""Translating a Responses SSE stream (OpenAI's event grammar) into our stream events, whatever server sent it.

Servers agree on the grammar but not on the details, and the ones we meet disagree on exactly the fields a reader
would tie events together with:

- OpenAI's reference gpt-oss server numbers `output_index` on delta events one lower than on the `.done` events of
  the same item, and sends a function call only as its `output_item.done`.
- LiteLLM's bridge gives every reasoning delta an `item_id` of its own, uses other ids again for the `.done`
  events and the final object, streams reasoning only as `reasoning_summary_text` deltas, and sends a tool call
  only inside `response.completed`.

So a delta belongs to the item its `item_id` names when that id has been seen before, and otherwise to the open
item of its kind (a message, a reasoning item, a function call); `output_index` is not trusted at all. Output items
come one after another, which is what makes "the open item of its kind" well defined.

When the stream ends, what it carried is reconciled once with the server's final word (`response.output`, or the
items of the `output_item.done` events when the final object has none): for each channel (answer text, refusal,
reasoning) the final items are matched, in order, against what was streamed in that channel; what is missing is
emitted, nothing already said is repeated. Tool calls are matched by `call_id`.

Every other event type (including ones added to the grammar later) is ignored rather than fatal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cfai.errors import ResponseFailedError, ResponseFormatError
from cfai.wire import lenient
from cfai.wire.accumulator import ReplyAccumulator
from cfai.wire.json_codec import loads_event
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
    ToolCall,
    ToolCallArgumentsDelta,
    ToolCallStarted,
)

# The terminal events, and the status a reply has when the event's `response` does not say.
_TERMINAL: dict[str, Status] = {"response.completed": "completed", "response.incomplete": "incomplete"}
# The kind of output item each delta event feeds.
_DELTA_KINDS = {
    "response.output_text.delta": "message",
    "response.refusal.delta": "message",
    "response.reasoning_text.delta": "reasoning",
    "response.reasoning_summary_text.delta": "reasoning",
    "response.function_call_arguments.delta": "function_call",
}


@dataclass(slots=True, eq=False)
class _Item:
    """One output item as the stream has shown it so far."""

    index: int  # our position for it: the order in which items first appeared
    kind: str
    call: ToolCall | None = None  # a function call's name and ids, once announced
    reasoning_kind: ReasoningKind | None = None  # which channel this item's reasoning came through
    summary_part: int = 0


@dataclass(slots=True)
class _Channel:
    """Everything a stream said in one channel (answer text, refusal or reasoning), in order."""

    said: list[str] = field(default_factory=list)
    last_index: int | None = None

    def add(self, delta: str, index: int) -> None:
        self.said.append(delta)
        self.last_index = index


class ResponsesStreamReader:
    """Feed decoded SSE events with `read`; the last event it returns is a ReplyDone."""

    def __init__(self) -> None:
        self.accumulator = ReplyAccumulator()
        self.done = False
        self._items: list[_Item] = []
        self._by_id: dict[str, _Item] = {}
        self._open: dict[str, _Item] = {}  # by kind: the item that receives deltas without a known id
        self._closed: list[dict[str, Any]] = []  # items of the output_item.done events, the fallback final word
        self._channels = {"text": _Channel(), "refusal": _Channel(), "reasoning": _Channel()}

    @staticmethod
    def whole_reply(content: bytes) -> Reply:
        """A server that ignored `stream: true` answered one JSON reply; read it as a non-streamed call would."""
        return reply_from_bytes(content)

    def read(self, sse: ServerSentEvent) -> list[StreamEvent]:
        if self.done or not sse.data or sse.data == "[DONE]":
            return []
        try:
            data = loads_event(sse.data)
        except (ValueError, RecursionError):
            raise ResponseFormatError(f"Unreadable Responses stream event: {sse.data[:120]!r}") from None
        if not isinstance(data, dict):
            return []
        kind = data.get("type")
        if not isinstance(kind, str):
            kind = sse.event
        if kind in _TERMINAL:
            return self._finish(_TERMINAL[kind], lenient.mapping(data.get("response")))
        events = self._translate(kind, data)
        for event in events:
            self.accumulator.add(event)
        return events

    def _translate(self, kind: str, data: dict[str, Any]) -> list[StreamEvent]:
        delta = data.get("delta")
        item_kind = _DELTA_KINDS.get(kind)
        if item_kind is not None and isinstance(delta, str):
            record = self._item(item_kind, lenient.optional_text(data.get("item_id")))
            return self._delta(kind, delta, record, data)
        item = data.get("item")
        if kind == "response.output_item.added" and isinstance(item, dict):
            return self._added(item)
        if kind == "response.output_item.done" and isinstance(item, dict):
            self._closed.append(item)
            closed = self._known(item)
            if closed is not None and self._open.get(closed.kind) is closed:
                del self._open[closed.kind]
            return []
        if kind == "response.failed" or kind == "error":
            self._raise_failure(data)
        return []

    def _delta(self, kind: str, delta: str, record: _Item, data: dict[str, Any]) -> list[StreamEvent]:
        if kind == "response.output_text.delta":
            self._channels["text"].add(delta, record.index)
            return [TextDelta(delta, record.index)]
        if kind == "response.refusal.delta":
            self._channels["refusal"].add(delta, record.index)
            return [RefusalDelta(delta, record.index)]
        if kind == "response.function_call_arguments.delta":
            # Arguments of a call whose start was never announced arrive whole at the end.
            return [ToolCallArgumentsDelta(delta, record.index)] if record.call is not None else []
        channel = "raw" if kind == "response.reasoning_text.delta" else "summary"
        if record.reasoning_kind not in (None, channel):
            return []  # an item's reasoning comes through one channel; the final word may still add to it
        record.reasoning_kind = channel  # type: ignore[assignment]  # one of the two literals
        part = lenient.count(data.get("summary_index"))
        if channel == "summary" and part > record.summary_part:
            record.summary_part = part
            delta = "\n\n" + delta  # a new summary paragraph, as a whole reply separates them
        self._channels["reasoning"].add(delta, record.index)
        return [ReasoningDelta(delta, record.index)]

    def _item(self, kind: str, item_id: str | None) -> _Item:
        """The item a delta belongs to: the one its id named before, else the open item of its kind, else new."""
        record = self._by_id.get(item_id) if item_id is not None else None
        if record is None or record.kind != kind:
            record = self._open.get(kind)
            if record is None:
                record = self._new(kind)
            if item_id is not None:
                self._by_id.setdefault(item_id, record)
        return record

    def _new(self, kind: str) -> _Item:
        record = _Item(index=len(self._items), kind=kind)
        self._items.append(record)
        self._open[kind] = record
        return record

    def _known(self, item: dict[str, Any]) -> _Item | None:
        """A finished item's record: by its id, else the open item of its type."""
        item_id = lenient.optional_text(item.get("id"))
        record = self._by_id.get(item_id) if item_id is not None else None
        return record or self._open.get(lenient.text(item.get("type")))

    def _added(self, item: dict[str, Any]) -> list[StreamEvent]:
        kind = lenient.text(item.get("type"))
        if kind not in ("message", "reasoning", "function_call"):
            return []
        record = self._new(kind)
        if item_id := lenient.optional_text(item.get("id")):
            self._by_id[item_id] = record
        return self._start_call(record, item) if kind == "function_call" else []

    def _start_call(self, record: _Item, item: dict[str, Any]) -> list[StreamEvent]:
        record.call = call = tool_call_from_json(item)
        return [ToolCallStarted(call.call_id, call.name, record.index, call.id)]

    # The end of the stream.

    def _finish(self, default_status: Status, response: dict[str, Any]) -> list[StreamEvent]:
        raise_for_failure(response)
        output = [item for item in lenient.items(response.get("output")) if isinstance(item, dict)]
        events, final_kinds = self._reconcile(output or self._closed)
        for event in events:
            self.accumulator.add(event)
        self.done = True
        # The final word says what kind of reasoning the reply holds; the deltas' channels only when it is silent.
        kinds = final_kinds or {record.reasoning_kind for record in self._items}
        reply = self.accumulator.reply(
            id=lenient.text(response.get("id")),
            model=lenient.text(response.get("model")),
            status=status_from(response.get("status")) if "status" in response else default_status,
            usage=usage_from_json(response.get("usage")),
            incomplete_reason=incomplete_reason_from(response.get("incomplete_details")),
            created_at=lenient.whole_number(response.get("created_at")) or None,
            reasoning_kind="raw" if "raw" in kinds else "summary" if "summary" in kinds else None,
            raw=response or None,
        )
        return [*events, ReplyDone(reply)]

    def _reconcile(self, final: list[dict[str, Any]]) -> tuple[list[StreamEvent], set[ReasoningKind | None]]:
        """The events that bring what was streamed up to the final items, channel by channel, and the kinds of
        reasoning the final items hold."""
        cursors = {name: _Cursor("".join(channel.said)) for name, channel in self._channels.items()}
        calls = {record.call.call_id: record for record in self._items if record.call is not None}
        events: list[StreamEvent] = []
        kinds: set[ReasoningKind | None] = set()
        for item in final:
            kind = item.get("type")
            if kind == "message":
                text, refusal = message_content(item)
                events.extend(TextDelta(missing, index) for missing, index in self._unsaid("text", cursors, text, item))
                events.extend(
                    RefusalDelta(missing, index) for missing, index in self._unsaid("refusal", cursors, refusal, item)
                )
            elif kind == "reasoning":
                raw, summary = reasoning_content(item)
                missing_parts = self._unsaid("reasoning", cursors, raw or summary, item)
                events.extend(ReasoningDelta(missing, index) for missing, index in missing_parts)
                if raw or summary:
                    kinds.add("raw" if raw else "summary")
            elif kind == "function_call":
                events.extend(self._reconcile_call(item, calls))
        return events, kinds

    def _unsaid(
        self, channel: str, cursors: dict[str, _Cursor], final: str, item: dict[str, Any]
    ) -> list[tuple[str, int]]:
        if not final:
            return []
        missing = cursors[channel].take(final)
        if not missing:
            return []
        said_part = len(final) > len(missing)
        last = self._channels[channel].last_index
        if said_part and last is not None:
            index = last  # the rest of an item whose beginning was streamed
        else:
            record = self._record_for(item, "reasoning" if channel == "reasoning" else "message")
            index = record.index if record is not None else self._new(item.get("type") or channel).index
        return [(missing, index)]

    def _record_for(self, item: dict[str, Any], kind: str) -> _Item | None:
        item_id = lenient.optional_text(item.get("id"))
        record = self._by_id.get(item_id) if item_id is not None else None
        return record if record is not None and record.kind == kind else None

    def _reconcile_call(self, item: dict[str, Any], calls: dict[str, _Item]) -> list[StreamEvent]:
        call = tool_call_from_json(item)
        record = calls.get(call.call_id) or self._record_for(item, "function_call")
        events: list[StreamEvent] = []
        if record is None or record.call is None:
            record = record or self._new("function_call")
            events.extend(self._start_call(record, item))
            said = ""
        else:
            said = self.accumulator.said(record.index)[3] or ""
        if call.arguments.startswith(said) and (missing := call.arguments[len(said) :]):
            events.append(ToolCallArgumentsDelta(missing, record.index))
        return events

    def _raise_failure(self, data: dict[str, Any]) -> None:
        raise_for_failure(lenient.mapping(data.get("response")))
        detail = lenient.mapping(data.get("error")) or data
        message = lenient.text(detail.get("message")) or "the stream reported an error"
        code = detail.get("code")
        raise ResponseFailedError(
            f"Workers AI stream error: {message}",
            code=code if isinstance(code, (str, int)) and not isinstance(code, bool) else None,
            body=data,
        )


@dataclass(slots=True)
class _Cursor:
    """How far the final items of one channel have been matched against what the stream said in it."""

    said: str
    position: int = 0

    def take(self, final: str) -> str:
        """Matches the next final item; returns what the stream has not said of it (all of it, part, or nothing)."""
        unmatched = self.said[self.position :]
        if unmatched.startswith(final):
            self.position += len(final)
            return ""
        if final.startswith(unmatched):
            self.position = len(self.said)
            return final[len(unmatched) :]
        found = unmatched.find(final)
        if found != -1:
            self.position += found + len(final)
        return ""  # the stream and the final word disagree: what the caller already has stands
