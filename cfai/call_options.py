"""What one call may set, for both adapters: one policy, so that the two frameworks accept and refuse the same.

A call (LangChain's `invoke(..., **options)` or `bind(...)`, LlamaIndex's `chat(messages, **options)`) may override
the model's own settings named in `CALL_OPTIONS`. Anything else is a TypeError that names the accepted options: a
misspelt option must be neither sent nor silently dropped, and no call option may replace the conversation. Extra
Responses fields go in the model's `model_kwargs` (LangChain) or `additional_kwargs` (LlamaIndex), which may not set a
field the package owns: `OWNED_FIELDS` names the setting that does.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

__all__ = ["CALL_OPTIONS", "OWNED_FIELDS", "check_call_options", "check_extra_fields", "merge_call_options"]

CALL_OPTIONS = frozenset(
    {
        *("model", "reasoning_effort", "max_tokens", "max_output_tokens", "temperature", "top_p", "stop"),
        *("tools", "tool_choice", "parallel_tool_calls", "text_format"),
    }
)

# Request fields that have a setting of their own, and that setting.
OWNED_FIELDS: Mapping[str, str] = {
    "model": "model",
    "input": "the messages",
    "instructions": "a system message",
    "tools": "the tools bound to the call",
    "tool_choice": "tool_choice",
    "parallel_tool_calls": "parallel_tool_calls",
    "reasoning": "reasoning_effort",
    "max_output_tokens": "max_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "text": "structured output",
    "stream": "stream() and stream_mode",
    "store": "nothing: Workers AI keeps no conversation state",
    "previous_response_id": "nothing: Workers AI keeps no conversation state",
}


def check_call_options(
    options: Iterable[str], *, model_class: str, extra_setting: str, also: Collection[str] = ()
) -> None:
    """Raises TypeError for a call option that is neither in CALL_OPTIONS nor in `also` (the framework's own)."""
    unknown = sorted({option for option in options if option not in CALL_OPTIONS and option not in also})
    if unknown:
        accepted = CALL_OPTIONS | frozenset(also)
        raise TypeError(
            f"{model_class} got unexpected call options {unknown}; accepted: {', '.join(sorted(accepted))}. "
            f"Put extra Responses fields in {extra_setting}."
        )


def check_extra_fields(fields: Mapping[str, Any], *, setting: str) -> None:
    """Raises ValueError when `model_kwargs`/`additional_kwargs` would set a field the package owns."""
    for key in fields:
        if key in OWNED_FIELDS:
            raise ValueError(f"{setting} may not set {key!r}; use {OWNED_FIELDS[key]} instead.")


def merge_call_options(defaults: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """The model's settings with the call's on top; an option given as None leaves the setting as it is."""
    if not options:
        return dict(defaults)  # most calls
    given = {key: value for key, value in options.items() if value is not None}
    if "max_output_tokens" in given:
        given.setdefault("max_tokens", given.pop("max_output_tokens"))
    return {**defaults, **given}
