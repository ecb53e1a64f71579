"""One call's Responses request: the model's settings, overridden by the call's options, plus the messages.

Pure: `prepare_call` returns the JSON body and the client-side stop strings; ChatWorkersAI's sync and async paths
both start here. What a call may carry is the core's one policy (`cfai.call_options`), shared with LlamaIndex.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage

from cfai.call_options import check_call_options, merge_call_options
from cfai.wire import build_request
from langchain_cfai.convert import to_responses_input
from langchain_cfai.tools import is_responses_tool, text_format_from_response_format, to_responses_tool, to_tool_choice

# LangChain's own call options besides the shared ones (cfai.call_options): `stream` is LangChain's switch, handled
# before we are called; `response_format` is what `create_agent` binds.
LANGCHAIN_OPTIONS = frozenset({"response_format", "stream"})


@dataclass(frozen=True, slots=True)
class PreparedCall:
    """One request: the JSON body, the stop strings the client applies, and the model name asked for."""

    body: dict[str, Any]
    stop: list[str] | None
    model: str


def prepare_call(
    messages: Sequence[BaseMessage],
    *,
    defaults: Mapping[str, Any],
    options: Mapping[str, Any],
    stop: Sequence[str] | None,
    extra: Mapping[str, Any],
) -> PreparedCall:
    """`defaults` holds the model's settings (`model`, `reasoning_effort`, `max_tokens`, `temperature`, `top_p`,
    `stop`, `send_reasoning`); `options` the call's, which win when given; `extra` the `model_kwargs` fields."""
    check_call_options(options, model_class="ChatWorkersAI", extra_setting="model_kwargs", also=LANGCHAIN_OPTIONS)
    settings = merge_call_options(defaults, options)
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
        send_reasoning=settings.get("send_reasoning", True),
    )
    stop_strings = list(stop if stop is not None else settings.get("stop") or ())
    return PreparedCall(body=body, stop=stop_strings or None, model=settings["model"])
