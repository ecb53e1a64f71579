"""A Responses request laid out as the harmony messages a gpt-oss server renders from it. Pure, no tokenizing.

Harmony, gpt-oss's prompt format, renders each message as `<|start|>{header}<|message|>{content}<|end|>`; the header
names the role and, for the assistant and tools, a channel and a recipient. A gpt-oss server (vLLM, for one) turns a
request into: its own system message, a developer message with `instructions`, tool definitions and the response
format, then one message per input item. This module models that layout closely enough to count it; the system
message, which carries no request text, is left to the caller.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class HarmonyMessage:
    """One harmony message.

    `header` holds the header's text pieces (role, ` to=` recipient, channel, content type) and `special_tokens`
    counts harmony's markers around them; harmony tokenizes each piece on its own. `content` holds the text the
    server renders verbatim, one string per content part. `before` and `after` are text laid out here around the
    content in the same run (the developer message's headings, tool definitions, response format), so counting
    them gives an estimate. `certain` is False for what a server may leave out: reasoning sent back.
    """

    header: tuple[str, ...]
    content: tuple[str, ...]
    special_tokens: int = 3
    before: str = ""
    after: str = ""
    certain: bool = True


def _message(
    role: str, content: tuple[str, ...], *, channel: str = "", recipient: str = "", content_type: str = ""
) -> HarmonyMessage:
    pieces = (role, f" to={recipient}" if recipient else "", channel, f" {content_type}" if content_type else "")
    # <|start|>, <|message|> and <|end|> (or <|call|>), plus <|channel|> before a channel's name.
    return HarmonyMessage(tuple(piece for piece in pieces if piece), content, special_tokens=4 if channel else 3)


def _text_parts(content: Any) -> tuple[str, ...]:
    """A message's text: the string, or the text of each part (images and unknown parts carry none)."""
    if isinstance(content, str):
        return (content,)
    if not isinstance(content, list):
        return ()
    texts = (part.get("text") or part.get("refusal") for part in content if isinstance(part, (dict, Mapping)))
    return tuple(text for text in texts if isinstance(text, str) and text)


# JSON-schema types as harmony's TypeScript-like notation for tool parameters names them.
_TYPESCRIPT_TYPES = {"string": "string", "number": "number", "integer": "number", "boolean": "boolean", "null": "null"}


def _typescript(schema: Any, indent: str = "") -> str:
    """A JSON schema in harmony's notation for tool parameters (the common subset: this feeds an estimate)."""
    if not isinstance(schema, Mapping):
        return "any"
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return " | ".join(json.dumps(value, ensure_ascii=False) for value in schema["enum"])
    variants = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(variants, list):
        return " | ".join(_typescript(variant, indent) for variant in variants)
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(_TYPESCRIPT_TYPES.get(str(name), "any") for name in kind)
    if kind == "array":
        return f"{_typescript(schema.get('items'), indent)}[]"
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        return _typescript_object(properties, schema.get("required") or (), indent)
    return _TYPESCRIPT_TYPES.get(str(kind), "object" if kind == "object" else "any")


def _typescript_object(properties: Mapping[str, Any], required: Iterable[str], indent: str) -> str:
    required_names = set(required)
    lines = ["{"]
    for name, field in properties.items():
        description = field.get("description") if isinstance(field, Mapping) else None
        if isinstance(description, str):
            lines += [f"{indent}// {line}" for line in description.splitlines()]
        optional = "" if name in required_names else "?"
        lines.append(f"{indent}{name}{optional}: {_typescript(field, indent + '    ')},")
    lines.append(f"{indent}}}")
    return "\n".join(lines)


def _function_tools(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    tools = body.get("tools")
    return [tool for tool in tools or () if isinstance(tool, Mapping) and tool.get("type") == "function"]


def _tools_section(functions: list[Mapping[str, Any]]) -> str:
    if not functions:
        return ""
    lines = ["# Tools", "", "## functions", "", "namespace functions {", ""]
    for tool in functions:
        description = tool.get("description")
        if isinstance(description, str):
            lines += [f"// {line}" for line in description.splitlines()]
        parameters = tool.get("parameters")
        signature = f"(_: {_typescript(parameters)})" if isinstance(parameters, Mapping) else "()"
        lines += [f"type {tool.get('name', '')} = {signature} => any;", ""]
    return "\n".join([*lines, "} // namespace functions"])


def has_function_tools(body: Mapping[str, Any]) -> bool:
    """Whether the request defines function tools (the server's system message then says where calls go)."""
    return bool(_function_tools(body))


def _response_format_section(text: Any) -> str:
    fmt = text.get("format") if isinstance(text, Mapping) else None
    if not isinstance(fmt, Mapping) or fmt.get("type") != "json_schema":
        return ""
    schema = json.dumps(fmt.get("schema"), ensure_ascii=False, separators=(",", ":"))
    return f"# Response Formats\n\n## {fmt.get('name', '')}\n\n{schema}"


def _developer_message(instructions: tuple[str, ...], sections: Iterable[str]) -> HarmonyMessage | None:
    """`# Instructions`, the instructions, then the other sections, a blank line between each."""
    rest = "\n\n".join(section for section in sections if section)
    if not instructions and not rest:
        return None
    before = "# Instructions\n\n" if instructions else ""
    return HarmonyMessage(("developer",), instructions, before=before, after=f"\n\n{rest}" if before and rest else rest)


def _verbatim(item: Mapping[str, Any]) -> tuple[str, ...]:
    """The text of an input item that every server renders as it is; none for reasoning, which a server may drop."""
    kind = item.get("type")
    if kind == "function_call":
        return _text_parts(item.get("arguments"))
    if kind == "function_call_output":
        return _text_parts(item.get("output"))
    if kind in (None, "message") and isinstance(item.get("role"), str):
        return _text_parts(item.get("content"))
    return ()


def _item_message(item: Mapping[str, Any], call_names: Mapping[str, str]) -> HarmonyMessage | None:
    kind, role = item.get("type"), item.get("role")
    if kind == "function_call":
        recipient = f"functions.{item.get('name', '')}"
        return _message("assistant", _verbatim(item), channel="commentary", recipient=recipient, content_type="json")
    if kind == "function_call_output":
        author = f"functions.{call_names.get(str(item.get('call_id')), '')}"
        return _message(author, _verbatim(item), channel="commentary", recipient="assistant")
    if kind == "reasoning":
        thought = "\n".join(text for part in item.get("content") or () for text in _text_parts([part]))
        header = _message("assistant", (), channel="analysis")
        return HarmonyMessage(header.header, (thought,), header.special_tokens, certain=False)
    if kind not in (None, "message") or not isinstance(role, str):
        return None
    if role in ("system", "developer"):
        return _developer_message(_verbatim(item), ())
    return _message(role, _verbatim(item), channel="final" if role == "assistant" else "")


def _input_items(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = body.get("input")
    if isinstance(raw, str):
        return [{"role": "user", "content": raw}]
    # `dict` named first: items nearly always are, and the abstract check costs as much as reading the item.
    return [item for item in raw or () if isinstance(item, (dict, Mapping))]


def content_texts(body: Mapping[str, Any]) -> list[str]:
    """The texts of a request that every server renders verbatim: the `content` of its `certain` messages.

    Cheaper than `to_harmony_messages`, which also lays out the tool definitions.
    """
    instructions = body.get("instructions")
    texts = [instructions] if isinstance(instructions, str) and instructions else []
    for item in _input_items(body):
        texts += _verbatim(item)
    return texts


def to_harmony_messages(body: Mapping[str, Any]) -> list[HarmonyMessage]:
    """The messages a gpt-oss server renders for a Responses request body, its own system message aside.

    Reasoning followed later by an answer is left out: harmony drops the chain of thought of completed turns.
    """
    instructions = body.get("instructions")
    developer = _developer_message(
        (instructions,) if isinstance(instructions, str) and instructions else (),
        (_tools_section(_function_tools(body)), _response_format_section(body.get("text"))),
    )
    items = _input_items(body)
    call_names = {
        str(item.get("call_id")): str(item.get("name", "")) for item in items if item.get("type") == "function_call"
    }
    last_answer = max((i for i, item in enumerate(items) if item.get("role") == "assistant"), default=-1)
    messages = [developer] if developer else []
    for position, item in enumerate(items):
        if item.get("type") == "reasoning" and position < last_answer:
            continue
        message = _item_message(item, call_names)
        if message is not None:
            messages.append(message)
    return messages
