"""Request checks shared by the Responses, run and Chat Completions surfaces, failing like Cloudflare (400/5006).

Cloudflare validates inputs against the model's JSON schema and rejects what does not fit; unknown top-level fields
are ignored. The emulator is strict in the same places so that client bugs surface offline.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from cfai.emulator.envelope import NO_SUCH_MODEL, CloudflareError, bad_input
from cfai.emulator.schema_check import check_schema

EFFORTS = ("low", "medium", "high")
MISSING_INPUT = (
    "Error: oneOf at '/' not met, 0 matches: required properties at '/' are 'input', "
    "required properties at '/' are 'requests'"
)


def parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise bad_input(f"Error: malformed JSON body: {error}") from None
    except RecursionError:
        raise bad_input("Error: malformed JSON body: nested too deeply") from None
    if not isinstance(value, dict):
        raise bad_input("Error: type at '/' not met: must be object")
    return value


def check_model(model: Any, models: Collection[str]) -> str:
    if not isinstance(model, str) or not model:
        raise bad_input("Error: required properties at '/' are 'model'")
    if model not in models:
        raise CloudflareError(400, NO_SUCH_MODEL, f"No such model {model} or task")
    return model


def effort(value: Any, where: str) -> str:
    if value is None:
        return "medium"
    if value not in EFFORTS:
        raise bad_input(f"Error: enum at '{where}' not met: must be one of {', '.join(EFFORTS)}")
    return str(value)


def optional_int(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise bad_input(f"Error: type at '/{name}' not met: must be a positive integer")
    return value


def check_numbers(body: Mapping[str, Any], names: Sequence[str]) -> None:
    for name in names:
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise bad_input(f"Error: type at '/{name}' not met: must be number")


def check_bool(body: Mapping[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise bad_input(f"Error: type at '/{name}' not met: must be boolean")
    return value


def check_call_ids(items: Sequence[Mapping[str, Any]], where: str) -> None:
    """A tool result must answer a tool call that comes earlier in the conversation."""
    issued: set[str] = set()
    for index, item in enumerate(items):
        if item.get("type") == "function_call":
            issued.add(str(item.get("call_id")))
        elif item.get("type") == "function_call_output" and str(item.get("call_id")) not in issued:
            raise bad_input(
                f"Error: no function call with call_id {item.get('call_id')!r} precedes the tool output at "
                f"'{where}/{index}'"
            )


def check_parameters(parameters: Any, where: str) -> Mapping[str, Any]:
    if parameters is None:
        return {}
    return check_schema(parameters, f"{where}/parameters")


def output_format(fmt: Any, where: str) -> Mapping[str, Any] | None:
    """A normalised `{"type": "json_schema", "name", "schema"}` / `{"type": "json_object"}`, or None for text."""
    if fmt is None:
        return None
    if not isinstance(fmt, Mapping) or fmt.get("type") not in ("text", "json_schema", "json_object"):
        raise bad_input(f"Error: oneOf at '{where}' not met: type must be text, json_schema or json_object")
    if fmt["type"] == "text":
        return None
    if fmt["type"] == "json_schema":
        if "schema" not in fmt:
            raise bad_input(f"Error: required properties at '{where}' are 'schema'")
        check_schema(fmt["schema"], f"{where}/schema")
    return {"type": fmt["type"], "name": fmt.get("name", "response"), "schema": fmt.get("schema")}


def tool_choice(value: Any, tool_names: Collection[str], forced_name: Any) -> tuple[str, str | None]:
    """("auto" | "none" | "required", forced tool name or None) from an already-unwrapped tool_choice."""
    if value is None:
        return "auto", None
    if value in ("auto", "none", "required"):
        return str(value), None
    if isinstance(value, Mapping) and value.get("type") == "function":
        if forced_name not in tool_names:
            raise bad_input(f"Error: tool_choice names {forced_name!r}, which is not one of the tools")
        return "required", str(forced_name)
    raise bad_input("Error: oneOf at '/tool_choice' not met: must be auto, none, required or a named function")
