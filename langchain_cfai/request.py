"""One call's Responses request: the model's settings, overridden by the call's options, plus the messages.

Pure: `prepare_call` returns the JSON body and the client-side stop strings; ChatWorkersAI's sync and async paths
both start here. The option names a call may carry are listed once, in `CALL_OPTIONS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage

from cfai.wire import build_request
from langchain_cfai.convert import to_responses_input
from langchain_cfai.tools import is_responses_tool, text_format_from_response_format, to_responses_tool, to_tool_choice

# What `invoke(..., **options)` and `bind(...)` accept; anything else is a mistake worth an error. `stream` is
# LangChain's own switch, handled before we are called; `response_format` is what `create_agent` binds.
CALL_OPTIONS = frozenset(
    {
        *("model", "reasoning_effort", "max_tokens", "max_output_tokens", "temperature", "top_p"),
        *("tools", "tool_choice", "parallel_tool_calls", "text_format", "response_format", "stream"),
    }
)
# Request fields that have a parameter of their own, and that parameter: `model_kwargs` may not set them.
OWNED_FIELDS = {
    "model": "model",
    "input": "the messages",
    "instructions": "a system message",
    "tools": "bind_tools",
    "tool_choice": "bind_tools(tool_choice=)",
    "parallel_tool_calls": "bind_tools(parallel_tool_calls=)",
    "reasoning": "reasoning_effort",
    "max_output_tokens": "max_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "text": "with_structured_output",
    "stream": "stream() and stream_mode",
    "store": "nothing: Workers AI keeps no conversation state",
    "previous_response_id": "nothing: Workers AI keeps no conversation state",
}


@dataclass(frozen=True, slots=True)
class PreparedCall:
    """One request: the JSON body, the stop strings the client applies, and the model name asked for."""

    body: dict[str, Any]
    stop: list[str] | None
    model: str


def check_model_kwargs(model_kwargs: Mapping[str, Any]) -> None:
    for key in model_kwargs:
        if key in OWNED_FIELDS:
            raise ValueError(f"model_kwargs may not set {key!r}; use {OWNED_FIELDS[key]} instead.")


def prepare_call(
    messages: Sequence[BaseMessage],
    *,
    defaults: Mapping[str, Any],
    options: Mapping[str, Any],
    stop: Sequence[str] | None,
    extra: Mapping[str, Any],
) -> PreparedCall:
    """`defaults` holds the model's settings (`model`, `reasoning_effort`, `max_tokens`, `temperature`, `top_p`,
    `stop`); `options` the call's, which win when given; `extra` the `model_kwargs` fields."""
    unknown = sorted(set(options) - CALL_OPTIONS)
    if unknown:
        raise TypeError(
            f"ChatWorkersAI got unexpected call options {unknown}; accepted: {', '.join(sorted(CALL_OPTIONS))}. "
            "Put extra Responses fields in model_kwargs."
        )
    given = {key: value for key, value in options.items() if value is not None}
    if "max_output_tokens" in given:
        given.setdefault("max_tokens", given["max_output_tokens"])
    settings = {**defaults, **given}
    tools = [tool if is_responses_tool(tool) else to_responses_tool(tool) for tool in settings.get("tools") or ()]
    choice = settings.get("tool_choice")
    instructions, items = to_responses_input(messages)
    body = build_request(
        model=settings["model"],
        input=items,
        instructions=instructions,
        tools=tools,
        tool_choice=to_tool_choice(choice, tools) if tools and choice is not None else None,
        parallel_tool_calls=settings.get("parallel_tool_calls"),
        reasoning_effort=settings.get("reasoning_effort"),
        max_output_tokens=settings.get("max_tokens"),
        temperature=settings.get("temperature"),
        top_p=settings.get("top_p"),
        text_format=settings.get("text_format") or text_format_from_response_format(settings.get("response_format")),
        extra=extra,
    )
    stop_strings = list(stop if stop is not None else settings.get("stop") or ())
    return PreparedCall(body=body, stop=stop_strings or None, model=settings["model"])
