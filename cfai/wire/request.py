"""Building Responses requests: the item shapes of `input`, tool definitions, and the request body itself.

Pure functions returning new dicts. The rules come from what Cloudflare and other stateless Responses servers accept:
no `store`, no `previous_response_id`, no null fields, no empty `tools` list (docs/alternatives.md, pitfalls).
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TypeVar

from cfai.errors import DroppedInputWarning, warn_at_caller
from cfai.wire import json_codec

ReasoningEffort = Literal["low", "medium", "high"]
REASONING_EFFORTS: tuple[ReasoningEffort, ...] = ("low", "medium", "high")

# Server-side state is not documented for Workers AI; sending these breaks stateless servers.
_NEVER_SENT = frozenset({"store", "previous_response_id"})

# An input item, as the adapters build them (dicts) or as a caller hands them over (any mapping).
_ItemT = TypeVar("_ItemT", bound=Mapping[str, Any])

# Built once: `json.dumps` with options builds a new encoder on every call, which costs more than encoding a tool
# call's arguments (a long conversation encodes one per call it replays). Encoders keep no state between calls.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _check_number(setting: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{setting} must be a number; got a {type(value).__name__}.")
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{setting} must be a number from {low:g} to {high:g}; got {value!r}.")


def check_max_tokens(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"max_tokens must be a whole number of tokens; got a {type(value).__name__} ({value!r}).")
    if value < 1:
        raise ValueError(f"max_tokens must be a positive number of tokens; got {value}.")


def check_tool(tool: Any) -> None:
    """A function tool must have a name and an object schema for its parameters (the server refuses anything else)."""
    if not isinstance(tool, Mapping) or not isinstance(tool.get("name"), str) or not tool["name"]:
        raise ValueError(f"Each tool must be a mapping with a non-empty 'name'; got {str(tool)[:80]!r}.")
    name = tool["name"]
    parameters = tool.get("parameters")
    if parameters is None:
        return
    if not isinstance(parameters, Mapping):
        raise TypeError(f"Tool {name!r}: parameters must be a JSON schema object; got a {type(parameters).__name__}.")
    if parameters.get("type", "object") != "object":
        raise ValueError(
            f"Tool {name!r}: parameters must be an object schema (type 'object'); got {parameters.get('type')!r}."
        )
    properties = parameters.get("properties", {})
    if not isinstance(properties, Mapping) or not all(isinstance(value, Mapping) for value in properties.values()):
        raise ValueError(f"Tool {name!r}: parameters.properties must map each argument name to a schema object.")


def without_orphan_outputs(items: Sequence[_ItemT]) -> list[_ItemT]:
    """The items without tool results whose call is not in the conversation, with a warning for each dropped one.

    Chat memory that trims old turns can cut between a call and its result; the server refuses a result that
    answers no call (400), so the orphan is left out rather than the whole conversation failing.
    """
    calls = set()
    kept: list[_ItemT] = []
    for item in items:
        kind = item.get("type")
        if kind == "function_call":
            calls.add(item.get("call_id"))
        elif kind == "function_call_output" and item.get("call_id") not in calls:
            warn_at_caller(
                f"Left out the result of tool call {item.get('call_id')!r}: the call itself is not in the "
                "conversation (trimmed by chat memory?), and Workers AI refuses a result without its call.",
                DroppedInputWarning,
            )
            continue
        kept.append(item)
    return kept


def validate_reasoning_effort(effort: str | None) -> ReasoningEffort | None:
    if effort is None:
        return None
    for known in REASONING_EFFORTS:
        if effort == known:
            return known
    raise ValueError(
        f"reasoning_effort must be one of {', '.join(REASONING_EFFORTS)} for gpt-oss (reasoning cannot be "
        f"turned off); got {effort!r}."
    )


def dumps(value: Any) -> str:
    """JSON text as the model should see it: Unicode kept as is, no padding."""
    return _COMPACT.encode(value)


def encode_body(body: Any) -> bytes:
    """The bytes of a request body; a value JSON cannot carry is refused here, before anything is sent.

    The bytes are always those of `json.dumps(body, ensure_ascii=False, separators=(",", ":"))`, whichever library
    writes them (`cfai.wire.json_codec`).
    """
    try:
        return json_codec.dumps(body)
    except UnicodeEncodeError as error:  # a ValueError too: caught first
        raise ValueError(
            "The request holds text that is not valid Unicode (a lone surrogate, around character "
            f"{error.start} of the JSON body); clean the text, e.g. with .encode('utf-8', 'replace').decode()."
        ) from None
    except ValueError as error:
        if "Circular" in str(error):
            raise ValueError(
                "The request holds a list or dict that contains itself; check tool schemas and "
                "model_kwargs/additional_kwargs."
            ) from None
        raise ValueError(
            "The request holds a number JSON cannot carry (NaN or infinity); check temperature, top_p and the "
            "values in tool schemas and model_kwargs/additional_kwargs."
        ) from None
    except TypeError as error:
        raise TypeError(f"The request holds a value that is not JSON: {error}.") from None


# Input items.


def message_item(role: Literal["user", "system", "developer"], content: str | list[dict[str, Any]]) -> dict[str, Any]:
    return {"role": role, "content": content}


def input_text(text: str) -> dict[str, Any]:
    return {"type": "input_text", "text": text}


def input_image(url: str, detail: str | None = None) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "input_image", "image_url": url}
    if detail:
        part["detail"] = detail
    return part


def assistant_turn(text: str, reasoning: str, calls: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """An assistant turn's items in the order the model produced them: reasoning, text, then tool calls.

    Both adapters build turns here. Which reasoning is worth sending back is decided later, over the whole
    conversation, by `prune_reasoning`.
    """
    items = [reasoning_item(reasoning)] if reasoning else []
    if text:
        items.append(assistant_item(text))
    items += calls
    return items


def assistant_item(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}


def reasoning_item(text: str) -> dict[str, Any]:
    # Raw chain of thought goes back as content, never with the server's `rs_` id (stateless servers reject ids).
    return {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": text}]}


def function_call_item(call_id: str, name: str, arguments: str | Mapping[str, Any]) -> dict[str, Any]:
    text = arguments if isinstance(arguments, str) else dumps(arguments)
    return {"type": "function_call", "call_id": call_id, "name": name, "arguments": text}


def function_call_output_item(call_id: str, output: str | Any) -> dict[str, Any]:
    text = output if isinstance(output, str) else dumps(output)
    return {"type": "function_call_output", "call_id": call_id, "output": text}


# Tools and output formats.


def inline_refs(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Returns the schema with local `$ref`s to `$defs`/`definitions` replaced by their targets.

    gpt-oss does not follow references well (docs/wire.md, quirk 4). Recursive references are left as they are after
    one expansion, so the result stays finite; the definitions they point to are then kept so they still resolve.
    """
    definitions: dict[str, Any] = {**schema.get("definitions", {}), **schema.get("$defs", {})}
    recursive: list[str] = []

    def expand(node: Any, seen: frozenset[str]) -> Any:
        if isinstance(node, list):
            return [expand(item, seen) for item in node]
        if not isinstance(node, Mapping):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.rsplit("/", 1)[-1] in definitions:
            if ref in seen:
                recursive.append(ref)
            else:
                target = definitions[ref.rsplit("/", 1)[-1]]
                siblings = {key: value for key, value in node.items() if key != "$ref"}
                return expand({**target, **siblings}, seen | {ref})
        return {key: expand(value, seen) for key, value in node.items() if key not in ("$defs", "definitions")}

    result: dict[str, Any] = expand(copy.deepcopy(dict(schema)), frozenset())
    if recursive:
        result.update({key: copy.deepcopy(schema[key]) for key in ("definitions", "$defs") if key in schema})
    return result


def function_tool(
    name: str,
    description: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    *,
    strict: bool | None = None,
) -> dict[str, Any]:
    """A tool in the flat Responses shape (not the nested Chat Completions one)."""
    tool: dict[str, Any] = {
        "type": "function",
        "name": name,
        "parameters": inline_refs(parameters or {"type": "object", "properties": {}}),
    }
    if description:
        tool["description"] = description
    if strict is not None:
        tool["strict"] = strict
    return tool


def tool_choice_value(choice: str | Mapping[str, Any] | None, tool_names: Sequence[str]) -> Any:
    """Normalises the choices users write (`"any"`, a tool name, nested dicts) to the Responses form."""
    if choice is None or choice in ("auto", "none", "required"):
        return choice
    if choice == "any":
        return "required"
    if isinstance(choice, str):
        if choice not in tool_names:
            raise ValueError(f"tool_choice names {choice!r}, which is not among the bound tools {list(tool_names)}.")
        return {"type": "function", "name": choice}
    if isinstance(choice, Mapping):
        name = choice.get("name") or (choice.get("function") or {}).get("name")
        if isinstance(name, str):
            return tool_choice_value(name, tool_names)
    raise ValueError(f"Unsupported tool_choice {choice!r}: use 'auto', 'none', 'required'/'any' or a tool name.")


def json_schema_format(name: str, schema: Mapping[str, Any], *, strict: bool | None = None) -> dict[str, Any]:
    fmt: dict[str, Any] = {"type": "json_schema", "name": name, "schema": inline_refs(schema)}
    if strict is not None:
        fmt["strict"] = strict
    return fmt


JSON_OBJECT_FORMAT: Mapping[str, str] = {"type": "json_object"}


def build_request(
    *,
    model: str,
    input: str | Sequence[Mapping[str, Any]],
    instructions: str | None = None,
    tools: Iterable[Mapping[str, Any]] | None = None,
    tool_choice: Any = None,
    parallel_tool_calls: bool | None = None,
    reasoning_effort: str | None = None,
    max_output_tokens: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    text_format: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    send_reasoning: bool = True,
) -> dict[str, Any]:
    """The JSON body of `POST /responses`; unset options are left out rather than sent as null.

    Every value is checked here, before anything is sent: an empty conversation, a max_tokens that is not a
    positive whole number, a temperature or top_p out of range (or NaN), a tool without an object schema.
    `send_reasoning=False` leaves every `reasoning` item out of the input, for servers that refuse them
    (docs/wire.md, quirk 9); the model then continues a tool turn without the chain of thought that led to it.
    """
    effort = validate_reasoning_effort(reasoning_effort)
    if not isinstance(model, str) or not model.strip():
        raise ValueError("model must be a non-empty model name, such as '@cf/openai/gpt-oss-120b'.")
    body: dict[str, Any] = {"model": model}
    if instructions:
        body["instructions"] = instructions
    if not isinstance(input, str) and not send_reasoning:
        input = [item for item in input if item.get("type") != "reasoning"]
    body["input"] = input if isinstance(input, str) else without_orphan_outputs(input)
    if not body["input"]:
        raise ValueError(
            "The conversation is empty: Workers AI needs at least one input message (system messages alone become "
            "instructions)."
        )
    tool_list = list(tools or ())
    for tool in tool_list:
        check_tool(tool)
    if tool_list:
        body["tools"] = tool_list
        if tool_choice is not None:
            body["tool_choice"] = tool_choice
        if parallel_tool_calls is not None:
            body["parallel_tool_calls"] = parallel_tool_calls
    if effort:
        body["reasoning"] = {"effort": effort}
    if max_output_tokens is not None:
        check_max_tokens(max_output_tokens)
        body["max_output_tokens"] = max_output_tokens
    if temperature is not None:
        _check_number("temperature", temperature, 0, 2)
        body["temperature"] = temperature
    if top_p is not None:
        _check_number("top_p", top_p, 0, 1)
        body["top_p"] = top_p
    if text_format:
        body["text"] = {"format": dict(text_format)}
    for key, value in (extra or {}).items():
        if value is not None and key not in _NEVER_SENT:
            body[key] = value
    return body


def _same_turn_filler(item: Mapping[str, Any]) -> bool:
    return item.get("type") == "reasoning" or (item.get("type") == "message" and item.get("role") == "assistant")


def _continues_with_call(items: Sequence[Mapping[str, Any]], position: int) -> bool:
    """Whether the turn of the reasoning at `position` goes on to a `function_call`, past its own filler."""
    rest = range(position + 1, len(items))
    following = next((items[after] for after in rest if not _same_turn_filler(items[after])), None)
    return following is not None and following.get("type") == "function_call"


def prune_reasoning(items: Sequence[_ItemT]) -> list[_ItemT]:
    """Keeps only the reasoning of the tool-calling turn still in progress (gpt-oss's harmony convention).

    A reasoning item survives when it comes after the last user message and its own turn (the items up to the next
    that is neither reasoning nor the assistant's text, which a reply may put between reasoning and its calls)
    continues with a `function_call`: the model is then continuing the turn that reasoned its way to those calls.
    Reasoning of completed turns is dropped, as the model was trained to see it.
    """
    if not any(item.get("type") == "reasoning" for item in items):
        return list(items)  # most requests: nothing to prune, and nothing else to search
    # Searched from the end: the last user message is usually near it, and a long history is not read twice.
    last_user = next((i for i in range(len(items) - 1, -1, -1) if items[i].get("role") == "user"), -1)
    return [
        item
        for position, item in enumerate(items)
        if item.get("type") != "reasoning" or (position >= last_user and _continues_with_call(items, position))
    ]
