"""The Chat Completions surface (`/ai/v1/chat/completions`): request checks and `chat.completion` replies.

Requests are OpenAI chat bodies (tools in the nested `{"type": "function", "function": {...}}` shape); they become
the same `Prompt` as a Responses request, so both surfaces answer alike. Reply fields follow Cloudflare's recorded
traffic: `id-<ms>` ids, `reasoning_content`, tool call ids `chatcmpl-tool-<hex>`, harmony `stop_reason` tokens.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from cfai.emulator import validation
from cfai.emulator.envelope import bad_input
from cfai.emulator.model import Prompt, Turn, content_text
from cfai.emulator.tool_plan import Tool

# harmony's stop tokens, which vLLM reports as stop_reason: <|call|> ends a tool call, <|return|> an answer
CALL_STOP_TOKEN = 200012
RETURN_STOP_TOKEN = 200002
_ROLES = ("system", "developer", "user", "assistant", "tool")
# Neurons per million tokens (input, output): Cloudflare bills $0.011 per 1,000 neurons (docs/wire.md, prices)
_NEURONS_PER_MILLION = {
    "@cf/openai/gpt-oss-120b": (31_818.0, 68_182.0),
    "@cf/openai/gpt-oss-20b": (18_182.0, 27_273.0),
}


def prompt_from_request(body: Mapping[str, Any], model: str, context_window: int) -> Prompt:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_input("Error: required properties at '/' are 'messages' (a non-empty array)")
    instructions, items = _items(messages)
    validation.check_call_ids(items, "/messages")
    tools = _tools(body.get("tools"))
    choice = body.get("tool_choice")
    function = choice.get("function") if isinstance(choice, Mapping) else None
    forced_name = function.get("name") if isinstance(function, Mapping) else None
    tool_choice, forced = validation.tool_choice(choice, [tool.name for tool in tools], forced_name)
    validation.check_numbers(body, ("temperature", "top_p"))
    validation.check_bool(body, "stream")
    return Prompt(
        model=model,
        items=items,
        instructions=instructions,
        tools=tools,
        tool_choice=tool_choice,
        forced_tool=forced,
        parallel_tool_calls=validation.check_bool(body, "parallel_tool_calls") is not False,
        output_format=_output_format(body.get("response_format")),
        effort=validation.effort(body.get("reasoning_effort"), "/reasoning_effort"),
        max_output_tokens=validation.optional_int(body, "max_completion_tokens")
        or validation.optional_int(body, "max_tokens"),
        context_window=context_window,
    )


def _items(messages: list[Any]) -> tuple[str, tuple[Mapping[str, Any], ...]]:
    """(instructions, Responses items): a leading system message is the instructions, as on /responses."""
    instructions = ""
    items: list[Mapping[str, Any]] = []
    for index, message in enumerate(messages):
        where = f"/messages/{index}"
        if not isinstance(message, Mapping) or message.get("role") not in _ROLES:
            raise bad_input(f"Error: enum at '{where}/role' not met: must be one of {', '.join(_ROLES)}")
        role, text = message["role"], content_text(message.get("content"))
        if role == "system" and index == 0:
            instructions = text
        elif role == "tool":
            if not isinstance(message.get("tool_call_id"), str):
                raise bad_input(f"Error: required properties at '{where}' are 'tool_call_id'")
            items.append({"type": "function_call_output", "call_id": message["tool_call_id"], "output": text})
        else:
            if text or role != "assistant":
                items.append({"type": "message", "role": role, "content": text})
            items.extend(_tool_call_items(message.get("tool_calls") or [], where))
    return instructions, tuple(items)


def _tool_call_items(tool_calls: Any, where: str) -> list[Mapping[str, Any]]:
    if not isinstance(tool_calls, list):
        raise bad_input(f"Error: type at '{where}/tool_calls' not met: must be array")
    items: list[Mapping[str, Any]] = []
    for index, call in enumerate(tool_calls):
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(function, Mapping) or not isinstance(call.get("id"), str):
            raise bad_input(f"Error: required properties at '{where}/tool_calls/{index}' are 'id', 'function'")
        arguments = function.get("arguments")
        items.append(
            {
                "type": "function_call",
                "call_id": call["id"],
                "name": str(function.get("name", "")),
                "arguments": arguments if isinstance(arguments, str) else "{}",
            }
        )
    return items


def _tools(value: Any) -> tuple[Tool, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise bad_input("Error: type at '/tools' not met: must be array")
    tools = []
    for index, tool in enumerate(value):
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(function, Mapping) or tool.get("type") != "function":
            raise bad_input(
                f"Error: required properties at '/tools/{index}' are 'function' "
                '(chat tools are {"type": "function", "function": {"name", "parameters"}})'
            )
        if not isinstance(function.get("name"), str) or not function["name"]:
            raise bad_input(f"Error: required properties at '/tools/{index}/function' are 'name'")
        parameters = validation.check_parameters(function.get("parameters"), f"/tools/{index}/function")
        tools.append(Tool(function["name"], str(function.get("description") or ""), parameters))
    return tuple(tools)


def _output_format(response_format: Any) -> Mapping[str, Any] | None:
    if isinstance(response_format, Mapping) and response_format.get("type") == "json_schema":
        inner = response_format.get("json_schema")
        if not isinstance(inner, Mapping):
            raise bad_input("Error: required properties at '/response_format' are 'json_schema'")
        response_format = {"type": "json_schema", "name": inner.get("name"), "schema": inner.get("schema")}
    return validation.output_format(response_format, "/response_format")


def finish_reason(turn: Turn) -> str:
    if turn.incomplete:
        return "length"
    return "tool_calls" if turn.tool_calls else "stop"


def stop_reason(turn: Turn) -> int | None:
    if turn.incomplete:
        return None
    return CALL_STOP_TOKEN if turn.tool_calls else RETURN_STOP_TOKEN


def completion_id() -> str:
    return f"id-{time.time_ns() // 1_000_000}"


def tool_call_id() -> str:
    return f"chatcmpl-tool-{uuid.uuid4().hex}"


def usage(turn: Turn) -> dict[str, Any]:
    return {
        "prompt_tokens": turn.input_tokens,
        "completion_tokens": turn.output_tokens,
        "total_tokens": turn.input_tokens + turn.output_tokens,
        "prompt_tokens_details": {"cached_tokens": turn.cached_tokens},
    }


def neurons(turn: Turn, model: str) -> float:
    """The float `neurons` figure Cloudflare adds to streamed usage (unknown models are billed like the 120b)."""
    per_input, per_output = _NEURONS_PER_MILLION.get(model, _NEURONS_PER_MILLION["@cf/openai/gpt-oss-120b"])
    return round((turn.input_tokens * per_input + turn.output_tokens * per_output) / 1_000_000, 6)


def chat_completion(turn: Turn, model: str) -> dict[str, Any]:
    tool_calls = [
        {"id": tool_call_id(), "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
        for call in turn.tool_calls
    ]
    message = {"role": "assistant", "content": turn.text, "reasoning_content": turn.reasoning, "tool_calls": tool_calls}
    return {
        "id": completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason(turn),
                "stop_reason": stop_reason(turn),
            }
        ],
        "usage": usage(turn),
    }
