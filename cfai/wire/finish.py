"""The one exit for replies: every Reply leaving the core, whole or as the last stream event, passes through here.

Three things change a reply on its way out, in this order, the same for every stream mode:

1. A forced tool call that the server wrote as answer text is recovered as a call (docs/wire.md, quirk 2). In a
   stream, text that could still be such a call (it starts with `{` while a tool is forced and no call has come)
   is held back until the stream ends, so the caller never sees JSON that turns out to be a call.
2. Stop strings cut the answer (the Responses API has none: `cfai.wire.stop`).
3. The cost is computed from the catalog's prices, for the model that answered (else the one asked for).

`missing_answer` words the warning for a finished reply that carries no answer at all.
"""

from __future__ import annotations

import dataclasses
import json
import operator
from collections.abc import Mapping, Sequence
from typing import Any

from cfai.catalog import get_model_info
from cfai.wire.stop import StopFilter, stop_reply
from cfai.wire.types import (
    Reply,
    ReplyDone,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallArgumentsDelta,
    ToolCallStarted,
)


def forced_tool_names(body: Mapping[str, Any]) -> list[str]:
    """The tools a request obliges the model to call (`required`, or one named tool), else empty."""
    tools = [str(tool.get("name")) for tool in body.get("tools") or () if isinstance(tool, Mapping)]
    choice = body.get("tool_choice")
    if choice == "required":
        return tools
    if isinstance(choice, Mapping) and choice.get("name") in tools:
        return [str(choice["name"])]
    return []


def salvage_tool_call(reply: Reply, forced: Sequence[str]) -> Reply:
    """The reply with a forced call recovered from its answer text; the same object when there is none.

    Only when a tool was forced, no call came back, and the whole answer is `{"name", "arguments"}` JSON naming one
    of the forced tools (or, with one forced tool, naming none); anything else is left untouched.
    """
    if not forced or not reply.text or reply.tool_calls:
        return reply
    try:
        data = json.loads(reply.text)
    except (ValueError, RecursionError):
        return reply
    if not isinstance(data, dict):
        return reply
    name = data.get("name") if data.get("name") in forced else (forced[0] if len(forced) == 1 else None)
    arguments = data.get("arguments", data.get("parameters"))
    if name is None or not isinstance(arguments, (dict, str)):
        return reply
    call = ToolCall(
        call_id=f"call_{reply.id or 'salvaged'}_0",
        name=str(name),
        arguments=arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False),
    )
    return dataclasses.replace(reply, text="", tool_calls=(call,))


def finish_reply(reply: Reply, body: Mapping[str, Any], stop: Sequence[str] | None = None) -> Reply:
    """A whole reply as it leaves the core."""
    return ReplyFinisher(body, stop).finish(reply)


class ReplyFinisher:
    """The exit of one request: `finish` for a whole reply, `feed` for each stream event (forward what it returns)."""

    def __init__(self, body: Mapping[str, Any], stop: Sequence[str] | None = None) -> None:
        self._model = str(body.get("model") or "")
        self._forced = forced_tool_names(body)
        self._stop_filter = StopFilter(stop) if stop and any(stop) else None
        self._holding = bool(self._forced)  # text is held while it may still be a leaked forced call
        self._held: list[TextDelta] = []
        self._next_index = 0

    @property
    def passes_deltas(self) -> bool:
        """Whether `feed` returns every event but the last unchanged (no tool is forced, no stop string is set), so a
        stream may forward them without feeding each one."""
        return not self._forced and self._stop_filter is None

    def finish(self, reply: Reply) -> Reply:
        reply = salvage_tool_call(reply, self._forced)
        return self._priced(stop_reply(reply, self._stop_filter.stop) if self._stop_filter else reply)

    def _priced(self, reply: Reply) -> Reply:
        cost = get_model_info(reply.model or self._model).cost(reply.usage)
        return _with_cost(reply, cost) if cost != reply.cost_usd else reply

    def feed(self, event: StreamEvent) -> list[StreamEvent]:
        if isinstance(event, ReplyDone):
            return self._done(event.reply)
        self._next_index = max(self._next_index, event.index + 1)
        if self._holding:
            if isinstance(event, TextDelta):
                self._held.append(event)
                start = "".join(held.delta for held in self._held).lstrip()
                if not start or start.startswith("{"):
                    return []
            if isinstance(event, (TextDelta, ToolCallStarted)):
                # Plain text, or a real call: nothing held can be a leaked call any more.
                released = self._release()
                return released if isinstance(event, TextDelta) else [*released, event]
        if self._stop_filter is not None:
            return self._stop_filter.feed(event)
        return [event]

    def _release(self) -> list[StreamEvent]:
        self._holding = False
        held, self._held = self._held, []
        if self._stop_filter is None:
            return list(held)
        return [released for event in held for released in self._stop_filter.feed(event)]

    def _done(self, reply: Reply) -> list[StreamEvent]:
        salvaged = salvage_tool_call(reply, self._forced)
        events: list[StreamEvent] = []
        if salvaged is not reply:
            self._held = []
            call = salvaged.tool_calls[0]
            events.append(ToolCallStarted(call.call_id, call.name, self._next_index, call.id))
            events.append(ToolCallArgumentsDelta(call.arguments, self._next_index))
        else:
            events.extend(self._release())
        done = ReplyDone(salvaged)
        finished = self._stop_filter.feed(done) if self._stop_filter else [done]
        last = finished[-1]
        assert isinstance(last, ReplyDone)
        return [*events, *finished[:-1], ReplyDone(self._priced(last.reply))]


_REPLY_FIELDS = [field.name for field in dataclasses.fields(Reply)]
_reply_values = operator.attrgetter(*_REPLY_FIELDS)
_COST_AT = _REPLY_FIELDS.index("cost_usd")


def _with_cost(reply: Reply, cost: float | None) -> Reply:
    """`dataclasses.replace(reply, cost_usd=cost)`, in half its time: it runs once per reply (benchmarks/)."""
    values = list(_reply_values(reply))
    values[_COST_AT] = cost
    return Reply(*values)


def missing_answer(reply: Reply, max_output_tokens: int | None = None) -> str | None:
    """Why a finished reply carries no answer, worded for the caller; None when it has text, a refusal or a call.

    Both adapters warn with this text rather than hand back an empty answer as if it were one (docs/wire.md,
    quirk 3).
    """
    if reply.text or reply.tool_calls or reply.refusal:
        return None
    if reply.status != "incomplete":
        return "Workers AI returned an empty answer: no text and no tool call (status 'completed')."
    spent = f"all {reply.usage.output_tokens} output tokens" if reply.usage else "its whole output budget"
    budget = f", max_tokens={max_output_tokens}" if max_output_tokens else ""
    return (
        f"Workers AI spent {spent} on reasoning and returned no answer (status 'incomplete', "
        f"finish_reason 'length'{budget}). Raise max_tokens, or lower reasoning_effort."
    )
