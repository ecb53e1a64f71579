"""Prompts that carry their protocol in the text, for agents that prompt instead of calling functions.

- ReAct, as LlamaIndex's `ReActAgent` writes it: a system prompt listing tools (`> Tool Name:`, `Tool Description:`,
  `Tool Args: <JSON schema>`) and asking for `Thought:` / `Action:` / `Action Input:` lines; the agent sends each
  tool's result back as a user message `Observation: ...`, and expects `Answer:` once it may stop.
- A JSON schema inside the user's message (LlamaIndex's `LLMTextCompletionProgram`: "Here's a JSON schema to
  follow: {...}"), the answer expected as JSON text. LlamaIndex sends such schemas with their braces doubled
  (`{{"type": ...}}`, left escaped for its own prompt templates); both spellings are read.

This module reads them out of a conversation given as (role, text) messages; `model.py` decides the answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cfai.emulator.envelope import CloudflareError
from cfai.emulator.schema_check import check_schema
from cfai.emulator.tool_plan import Tool

_REACT_TOOL = re.compile(
    r"^> Tool Name: *(?P<name>[^\n]+?) *\nTool Description: *(?P<description>.*?)\nTool Args: *(?P<args>[^\n]*)$",
    re.MULTILINE | re.DOTALL,
)
_OBSERVATION = "Observation:"
_ACTION = re.compile(r"^Action: *([^\s(]+)", re.MULTILINE)
_SCHEMA_MENTION = re.compile(r"schema", re.IGNORECASE)
_NO_ARGUMENTS: Mapping[str, Any] = {"type": "object", "properties": {}}


@dataclass(frozen=True)
class ReactConversation:
    """A ReAct prompt: its tools, the user's question, and the (action, observation) steps taken since."""

    tools: tuple[Tool, ...]
    question: str
    steps: tuple[tuple[str, str], ...]


Message = tuple[str, str]  # (role, text)


def react_conversation(system_text: str, messages: Sequence[Message]) -> ReactConversation | None:
    """The ReAct conversation when `system_text` is a ReAct prompt describing tools; else None."""
    if "Action Input:" not in system_text:
        return None
    tools = tuple(
        Tool(match["name"], match["description"].strip(), _tool_args(match["args"]))
        for match in _REACT_TOOL.finditer(system_text)
    )
    questions = [index for index, (role, text) in enumerate(messages) if role == "user" and not _observed(text)]
    if not tools or not questions:
        return None
    actions: list[str] = []
    steps: list[tuple[str, str]] = []
    for role, text in messages[questions[-1] + 1 :]:
        if role == "assistant":
            actions += _ACTION.findall(text)
        elif role == "user":
            action = actions[len(steps)] if len(steps) < len(actions) else "tool"
            steps.append((action, text.strip()[len(_OBSERVATION) :].strip()))
    return ReactConversation(tools, messages[questions[-1]][1].strip(), tuple(steps))


def _observed(text: str) -> bool:
    return text.lstrip().startswith(_OBSERVATION)


def _tool_args(text: str) -> Mapping[str, Any]:
    """The tool's argument schema; a tool whose schema cannot be read takes no arguments."""
    schema = parse_json_object(text.strip())
    if schema is None:
        return _NO_ARGUMENTS
    try:
        return check_schema(schema, "/")
    except CloudflareError:
        return _NO_ARGUMENTS


def embedded_schema(text: str) -> tuple[Mapping[str, Any], str] | None:
    """(the JSON schema a message asks to follow, the message's own words before it), or None.

    The words exclude the line introducing the schema ("Here's a JSON schema to follow:") and what follows the schema
    (instructions about the format), so that only the user's content fills the answer.
    """
    for mention in _SCHEMA_MENTION.finditer(text):
        start = text.find("{", mention.end())
        if start < 0:
            return None
        end = _object_end(text, start)
        schema = parse_json_object(text[start:end]) if end else None
        if isinstance(schema, Mapping) and ("properties" in schema or "type" in schema):
            try:
                check_schema(schema, "/")
            except CloudflareError:
                return None
            line_start = text.rfind("\n", 0, mention.start()) + 1
            return schema, text[:line_start].strip() or text[:start].strip()
    return None


def parse_json_object(text: str) -> dict[str, Any] | None:
    """A JSON object from `text`, also when its braces are doubled as in an unformatted prompt template."""
    for candidate in (text, text.replace("{{", "{").replace("}}", "}")):
        try:
            value = json.loads(candidate)
        except (json.JSONDecodeError, RecursionError):
            continue
        if isinstance(value, dict):
            return value
    return None


def _object_end(text: str, start: int) -> int | None:
    """The index just past the `}` closing the object opened at `start` (strings are skipped), or None."""
    depth, in_string, escaped = 0, False, False
    for index in range(start, len(text)):
        char = text[index]
        if escaped:
            escaped = False
        elif in_string:
            escaped, in_string = char == "\\", char != '"'
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    return None
