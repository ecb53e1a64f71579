"""Tools and output formats as LangChain users write them, turned into their Responses form.

`bind_tools` accepts LangChain tools, pydantic models, functions and dicts (Chat Completions' nested shape or the flat
Responses shape); `tool_choice` accepts LangChain's words; `response_format` accepts the Chat Completions shape that
`create_agent`'s provider strategy binds. All pure; conversions happen once, when tools are bound.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from langchain_core.utils.function_calling import convert_to_openai_tool

from cfai.wire import function_tool, json_schema_format, tool_choice_value
from cfai.wire.request import JSON_OBJECT_FORMAT

if TYPE_CHECKING:
    # For type checkers only: importing BaseTool builds LangChain's tool classes (about 5 ms, benchmarks/: import
    # time), which a program that makes tools has loaded already and `convert_to_openai_tool` loads when it meets one.
    from langchain_core.tools import BaseTool

ToolLike: TypeAlias = "Mapping[str, Any] | type | Callable[..., Any] | BaseTool"


def is_responses_tool(tool: object) -> bool:
    """True for a tool already in the flat Responses shape `{"type": "function", "name", "parameters", ...}`."""
    return isinstance(tool, Mapping) and tool.get("type") == "function" and "name" in tool and "function" not in tool


def to_responses_tool(tool: ToolLike, *, strict: bool | None = None) -> dict[str, Any]:
    if is_responses_tool(tool):
        assert isinstance(tool, Mapping)
        return function_tool(
            str(tool["name"]),
            tool.get("description"),
            tool.get("parameters"),
            strict=tool.get("strict", strict),
        )
    converted = convert_to_openai_tool(tool, strict=strict)
    function = converted.get("function")
    if converted.get("type") != "function" or not isinstance(function, Mapping):
        raise ValueError(
            f"Workers AI serves function tools only; got a {converted.get('type')!r} tool. "
            "Built-in tools (web search, file search, code interpreter, MCP) are not available."
        )
    return function_tool(
        str(function["name"]),
        function.get("description"),
        function.get("parameters"),
        strict=function.get("strict", strict),
    )


def to_responses_tools(tools: Sequence[ToolLike], *, strict: bool | None = None) -> list[dict[str, Any]]:
    return [to_responses_tool(tool, strict=strict) for tool in tools]


def to_tool_choice(choice: str | bool | Mapping[str, Any] | None, tools: Sequence[Mapping[str, Any]]) -> Any:
    """LangChain's `tool_choice` in Responses form.

    `"any"`, `"required"` and `True` with a single bound tool name that tool: Cloudflare treats `"required"` as
    advisory only (docs/wire.md), while a named function is honoured.
    """
    names = [str(tool["name"]) for tool in tools]
    if choice is False:
        return "none"
    if choice is True or choice in ("any", "required"):
        return {"type": "function", "name": names[0]} if len(names) == 1 else "required"
    return tool_choice_value(choice, names)


def text_format_from_response_format(response_format: Any) -> dict[str, Any] | None:
    """The Responses `text.format` for a Chat Completions `response_format` (or a pydantic class / JSON schema)."""
    if response_format is None:
        return None
    if isinstance(response_format, Mapping):
        kind = response_format.get("type")
        if kind == "json_object":
            return dict(JSON_OBJECT_FORMAT)
        if kind == "json_schema" and isinstance(response_format.get("json_schema"), Mapping):
            spec = response_format["json_schema"]
            return json_schema_format(
                str(spec.get("name") or "response"), spec.get("schema") or {}, strict=spec.get("strict")
            )
        if kind == "json_schema" and "schema" in response_format:
            return json_schema_format(
                str(response_format.get("name") or "response"),
                response_format["schema"],
                strict=response_format.get("strict"),
            )
    return json_schema_text_format(response_format)


def json_schema_text_format(schema: Any, *, strict: bool | None = None) -> dict[str, Any]:
    """`text.format` asking for JSON that matches `schema` (pydantic class, TypedDict, JSON schema or tool)."""
    function = convert_to_openai_tool(schema, strict=strict)["function"]
    return json_schema_format(function["name"], function.get("parameters") or {}, strict=strict)


def tool_name(schema: Any) -> str:
    return str(convert_to_openai_tool(schema)["function"]["name"])
