"""The Responses surface (`/ai/v1/responses`, and `/ai/run/{model}` for gpt-oss): request checks and reply objects.

Replies carry vLLM's field set (what serves gpt-oss at Cloudflare; docs/wire.md "The Responses reply"), the request's
parameters echoed back, and ids shaped like Cloudflare's (`resp_`, `rs_`, `msg_`, `fc_` + `call_` sharing a hex).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from cfai.emulator import validation
from cfai.emulator.envelope import bad_input
from cfai.emulator.model import Prompt, Turn
from cfai.emulator.tool_plan import Tool

_ROLES = ("user", "assistant", "system", "developer")
_PART_TYPES = ("input_text", "input_image", "output_text", "refusal")
_REQUIRED_FIELDS = {
    "function_call": ("call_id", "name", "arguments"),
    "function_call_output": ("call_id", "output"),
    "reasoning": (),
}


def prompt_from_request(body: Mapping[str, Any], model: str, context_window: int) -> Prompt:
    """Check a Responses request body like Cloudflare does and turn it into the model's `Prompt`."""
    if "input" not in body or body["input"] is None:
        raise bad_input(validation.MISSING_INPUT)
    items = input_items(body["input"])
    tools = _tools(body.get("tools"))
    reasoning = body.get("reasoning")
    if reasoning is not None and not isinstance(reasoning, Mapping):
        raise bad_input("Error: type at '/reasoning' not met: must be object")
    choice = body.get("tool_choice")
    forced_name = choice.get("name") if isinstance(choice, Mapping) else None
    text = body.get("text")
    if text is not None and not isinstance(text, Mapping):
        raise bad_input("Error: type at '/text' not met: must be object")
    validation.check_numbers(body, ("temperature", "top_p"))
    tool_choice, forced = validation.tool_choice(choice, [tool.name for tool in tools], forced_name)
    instructions = body.get("instructions")
    return Prompt(
        model=model,
        items=items,
        instructions=instructions if isinstance(instructions, str) else "",
        tools=tools,
        tool_choice=tool_choice,
        forced_tool=forced,
        parallel_tool_calls=validation.check_bool(body, "parallel_tool_calls") is not False,
        output_format=validation.output_format((text or {}).get("format"), "/text/format"),
        effort=validation.effort((reasoning or {}).get("effort"), "/reasoning/effort"),
        max_output_tokens=validation.optional_int(body, "max_output_tokens"),
        context_window=context_window,
    )


def input_items(value: Any) -> tuple[Mapping[str, Any], ...]:
    if isinstance(value, str):
        return ({"type": "message", "role": "user", "content": value},)
    if not isinstance(value, list):
        raise bad_input("Error: oneOf at '/input' not met: must be string or array")
    items = tuple(_input_item(item, f"/input/{index}") for index, item in enumerate(value))
    validation.check_call_ids(items, "/input")
    return items


def _input_item(item: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise bad_input(f"Error: type at '{where}' not met: must be object")
    kind = item.get("type", "message" if "role" in item else None)
    if kind == "message":
        if item.get("role") not in _ROLES:
            raise bad_input(f"Error: enum at '{where}/role' not met: must be one of {', '.join(_ROLES)}")
        _check_content(item.get("content"), f"{where}/content")
        return {**item, "type": "message"}
    if kind not in _REQUIRED_FIELDS:
        raise bad_input(f"Error: oneOf at '{where}' not met: unknown input item type {kind!r}")
    missing = [name for name in _REQUIRED_FIELDS[kind] if not isinstance(item.get(name), str)]
    if missing:
        raise bad_input(f"Error: required properties at '{where}' are {', '.join(repr(m) for m in missing)}")
    return item


def _check_content(content: Any, where: str) -> None:
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise bad_input(f"Error: oneOf at '{where}' not met: must be string or array")
    for index, part in enumerate(content):
        if not isinstance(part, Mapping) or part.get("type") not in _PART_TYPES:
            raise bad_input(
                f"Error: oneOf at '{where}/{index}' not met: part type must be one of {', '.join(_PART_TYPES)}"
            )


def _tools(value: Any) -> tuple[Tool, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise bad_input("Error: type at '/tools' not met: must be array")
    tools = []
    for index, tool in enumerate(value):
        where = f"/tools/{index}"
        if not isinstance(tool, Mapping) or tool.get("type") != "function":
            raise bad_input(f"Error: enum at '{where}/type' not met: only function tools are supported")
        if "function" in tool and "name" not in tool:
            raise bad_input(
                f"Error: required properties at '{where}' are 'name' (the Chat Completions shape "
                '{"type": "function", "function": {...}} is not accepted here; use a flat function tool)'
            )
        if not isinstance(tool.get("name"), str) or not tool["name"]:
            raise bad_input(f"Error: required properties at '{where}' are 'name'")
        parameters = validation.check_parameters(tool.get("parameters"), where)
        tools.append(Tool(tool["name"], str(tool.get("description") or ""), parameters))
    return tuple(tools)


def response_object(turn: Turn, body: Mapping[str, Any], model: str, context_window: int) -> dict[str, Any]:
    """The Response a gpt-oss deployment returns for `turn`, echoing the request's parameters."""
    reasoning = body.get("reasoning")
    effort = reasoning.get("effort") if isinstance(reasoning, Mapping) else None
    max_output = body.get("max_output_tokens") or context_window - turn.input_tokens
    return {
        "id": f"resp_{uuid.uuid4().hex}",
        "created_at": int(time.time()),
        "incomplete_details": {"reason": "max_output_tokens"} if turn.incomplete else None,
        "instructions": body.get("instructions"),
        "metadata": body.get("metadata"),
        "model": model,
        "object": "response",
        "output": output_items(turn),
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "temperature": body.get("temperature", 1.0),
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": [_echo_tool(tool) for tool in body.get("tools") or []],
        "top_p": body.get("top_p", 1.0),
        "background": False,
        "max_output_tokens": max_output,
        "max_tool_calls": None,
        "previous_response_id": body.get("previous_response_id"),
        "prompt": None,
        "reasoning": {"effort": effort or "medium", "generate_summary": None, "summary": None},
        "service_tier": "auto",
        "status": "incomplete" if turn.incomplete else "completed",
        "text": body.get("text"),
        "top_logprobs": None,
        "truncation": "disabled",
        "usage": usage(turn),
        "user": None,
    }


def output_items(turn: Turn) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [
        {
            "id": f"rs_{uuid.uuid4().hex}",
            "summary": [],
            "type": "reasoning",
            "content": [{"text": turn.reasoning, "type": "reasoning_text"}],
            "encrypted_content": None,
            "status": None,
        }
    ]
    for call in turn.tool_calls:
        shared = uuid.uuid4().hex
        items.append(
            {
                "arguments": call.arguments,
                "call_id": f"call_{shared}",
                "name": call.name,
                "type": "function_call",
                "id": f"fc_{shared}",
                "status": None,
            }
        )
    if turn.text is not None:
        items.append(
            {
                "id": f"msg_{uuid.uuid4().hex}",
                "type": "message",
                "role": "assistant",
                "status": "incomplete" if turn.incomplete else "completed",
                "content": [{"type": "output_text", "text": turn.text, "annotations": [], "logprobs": None}],
            }
        )
    return items


def usage(turn: Turn) -> dict[str, Any]:
    return {
        "input_tokens": turn.input_tokens,
        "input_tokens_details": {"cached_tokens": turn.cached_tokens},
        "output_tokens": turn.output_tokens,
        "output_tokens_details": {"reasoning_tokens": turn.reasoning_tokens},
        "total_tokens": turn.input_tokens + turn.output_tokens,
    }


def _echo_tool(tool: Any) -> Any:
    if not isinstance(tool, Mapping):
        return tool
    return {
        "name": tool.get("name"),
        "parameters": tool.get("parameters"),
        "strict": tool.get("strict"),
        "type": "function",
        "description": tool.get("description"),
    }
