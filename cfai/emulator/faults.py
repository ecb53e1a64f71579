"""Scripted replies and faults: what `Emulator.enqueue` accepts, and the model-level quirks they apply.

Two kinds of script, both immutable values:

- `CannedReply(json=..., status=..., headers=..., body=..., content_type=..., delay=...)` is sent as is,
  whatever was asked.
- `Fault.<kind>(...)` bends the emulator's own behaviour: errors in Cloudflare's envelope (`rate_limited`,
  `daily_limit_exceeded`, `server_error`, `error`), a non-JSON gateway page (`bad_gateway_html`), transport trouble
  (`delay`, `disconnect`, `disconnect_midway`, `truncated_json`), and gpt-oss quirks from docs/wire.md
  (`leaked_tool_call`, `reasoning_only`). Every constructor takes `delay=` (seconds to wait before answering).

The queue (in `state.py`) applies scripts first in, first out, each to the next request on a matching route.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from cfai.emulator import envelope
from cfai.emulator.model import Turn

Route = Literal["responses", "run", "chat_completions", "embeddings"]
FaultKind = Literal[
    "error",
    "bad_gateway_html",
    "delay",
    "disconnect",
    "disconnect_midway",
    "truncated_json",
    "leaked_tool_call",
    "reasoning_only",
]


@dataclass(frozen=True)
class CannedReply:
    """A reply sent verbatim: `json` (any JSON value) or raw `body`, with `status`, `headers` and `content_type`."""

    json: Any = None
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | str | None = None
    content_type: str | None = None
    delay: float = 0.0

    def content(self) -> tuple[bytes, str]:
        """(body bytes, content type) to send."""
        if self.body is not None:
            raw = self.body.encode() if isinstance(self.body, str) else self.body
            return raw, self.content_type or "application/octet-stream"
        return envelope.json_bytes(self.json), self.content_type or "application/json"


@dataclass(frozen=True)
class Fault:
    """One scripted fault; build it with the class methods, e.g. `Fault.rate_limited(retry_after=2)`."""

    kind: FaultKind
    status: int = 200
    code: int = 0
    message: str = ""
    retry_after: str | None = None
    after_events: int = 0
    tool_name: str | None = None
    tool_arguments: Mapping[str, Any] | None = None
    delay: float = 0.0

    @classmethod
    def error(
        cls, status: int, code: int, message: str, *, retry_after: float | str | None = None, delay: float = 0.0
    ) -> Fault:
        """Any Cloudflare v4 error envelope `{"success": false, "errors": [{"code", "message"}]}`."""
        header = None if retry_after is None else _retry_after(retry_after)
        return cls("error", status=status, code=code, message=message, retry_after=header, delay=delay)

    @classmethod
    def rate_limited(cls, retry_after: float | str | None = None, *, delay: float = 0.0) -> Fault:
        """429/3040, out of capacity (retryable); `Retry-After` only when given (Cloudflare rarely sends it)."""
        return cls.error(429, envelope.OUT_OF_CAPACITY, envelope.CAPACITY_MESSAGE, retry_after=retry_after, delay=delay)

    @classmethod
    def daily_limit_exceeded(cls, *, delay: float = 0.0) -> Fault:
        """429/3036, the free daily neuron allocation is used up (not retryable)."""
        return cls.error(429, envelope.DAILY_LIMIT, envelope.DAILY_LIMIT_MESSAGE, delay=delay)

    @classmethod
    def server_error(
        cls,
        status: int = 500,
        *,
        code: int = envelope.SERVER_ERROR,
        message: str = "AiError: Internal server error",
        delay: float = 0.0,
    ) -> Fault:
        """A 5xx in Cloudflare's envelope."""
        return cls.error(status, code, message, delay=delay)

    @classmethod
    def bad_gateway_html(cls, *, delay: float = 0.0) -> Fault:
        """502 with Cloudflare's HTML error page instead of JSON."""
        return cls("bad_gateway_html", status=502, delay=delay)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """The normal reply, after `seconds` (for timeout tests; the wait ends early if the client goes away)."""
        return cls("delay", delay=seconds)

    @classmethod
    def disconnect(cls, *, delay: float = 0.0) -> Fault:
        """Close the connection without any response (in-process: raises `httpx.RemoteProtocolError`)."""
        return cls("disconnect", delay=delay)

    @classmethod
    def disconnect_midway(cls, after_events: int = 3, *, delay: float = 0.0) -> Fault:
        """Start the normal reply, then cut the connection: a stream after `after_events` events, no terminal event;
        a JSON body after half its bytes. In-process there is no socket, so the body simply ends there."""
        return cls("disconnect_midway", after_events=after_events, delay=delay)

    @classmethod
    def truncated_json(cls, *, delay: float = 0.0) -> Fault:
        """A complete 200 HTTP reply whose JSON body is cut in half."""
        return cls("truncated_json", delay=delay)

    @classmethod
    def leaked_tool_call(
        cls, name: str | None = None, arguments: Mapping[str, Any] | None = None, *, delay: float = 0.0
    ) -> Fault:
        """docs/wire.md quirk 2: the tool call comes back as answer text `{"name": ..., "arguments": {...}}`, with no
        function_call item. Defaults to the call the emulator would have made."""
        return cls("leaked_tool_call", tool_name=name, tool_arguments=arguments, delay=delay)

    @classmethod
    def reasoning_only(cls, *, delay: float = 0.0) -> Fault:
        """docs/wire.md quirk 3: reasoning used the whole budget; `incomplete`, no message and no tool call."""
        return cls("reasoning_only", delay=delay)


Script = CannedReply | Fault
# The name this class first had.
Reply = CannedReply


def _retry_after(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


def apply_to_turn(fault: Fault | None, turn: Turn) -> Turn:
    """The model-level quirks: what the model "said" under `fault` (other faults leave the turn alone)."""
    if fault is None:
        return turn
    if fault.kind == "reasoning_only":
        return replace(turn, text=None, tool_calls=(), incomplete=True)
    if fault.kind == "leaked_tool_call":
        call = turn.tool_calls[0] if turn.tool_calls else None
        name = fault.tool_name or (call.name if call else "tool")
        if fault.tool_arguments is not None:
            arguments = dict(fault.tool_arguments)
        else:
            arguments = json.loads(call.arguments) if call and fault.tool_name in (None, call.name) else {}
        leaked = json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
        return replace(turn, text=leaked, tool_calls=(), incomplete=False)
    return turn
