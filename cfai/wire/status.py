"""Why a reply ended: the one table from a server's status words to the finish reasons the frameworks report.

Responses replies say `status` (+ `incomplete_details.reason`); Chat Completions replies say `finish_reason`. Both
are read here, and every path (whole replies, both stream readers, the emulator-independent replay) uses these
functions, so a reply reports the same finish reason however it arrived.
"""

from __future__ import annotations

from typing import Any, Literal

Status = Literal["completed", "incomplete", "failed", "in_progress", "queued", "cancelled"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]

STATUSES: frozenset[str] = frozenset({"completed", "incomplete", "failed", "in_progress", "queued", "cancelled"})

# A finished reply's finish reason by (status, incomplete reason); `None` stands for any other reason. A reply that
# was not cut short says "tool_calls" when it carries calls, else "stop".
_INCOMPLETE_FINISH: dict[str | None, FinishReason] = {
    "content_filter": "content_filter",
    "max_output_tokens": "length",
    None: "length",
}

# Chat Completions' `finish_reason` as a Responses status and incomplete reason.
_CHAT_FINISH: dict[str, tuple[Status, str | None]] = {
    "stop": ("completed", None),
    "tool_calls": ("completed", None),
    "function_call": ("completed", None),
    "length": ("incomplete", "max_output_tokens"),
    "content_filter": ("incomplete", "content_filter"),
}


def status_from(value: Any) -> Status:
    """A server's `status`, or "completed" for a missing or unknown one (the reply is read leniently)."""
    if isinstance(value, str) and value in STATUSES:
        return value  # type: ignore[return-value]  # checked against the Literal's values just above
    return "completed"


def incomplete_reason_from(details: Any) -> str | None:
    reason = details.get("reason") if isinstance(details, dict) else None
    return reason if isinstance(reason, str) and reason else None


def finish_reason_of(status: Status, incomplete_reason: str | None, has_tool_calls: bool) -> FinishReason:
    if status == "incomplete":
        return _INCOMPLETE_FINISH.get(incomplete_reason, _INCOMPLETE_FINISH[None])
    return "tool_calls" if has_tool_calls else "stop"


def status_from_chat_finish(finish_reason: Any) -> tuple[Status, str | None]:
    """(status, incomplete reason) for a Chat Completions `finish_reason`; unknown or missing ones count as done."""
    if isinstance(finish_reason, str):
        return _CHAT_FINISH.get(finish_reason, ("completed", None))
    return "completed", None
