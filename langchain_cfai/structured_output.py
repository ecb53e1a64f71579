"""`with_structured_output` for ChatWorkersAI: how each method asks for JSON, and which parser reads it back.

- `json_schema` (default): `text.format = {"type": "json_schema", ...}`; the answer text is the JSON.
- `function_calling`: one forced tool whose arguments are the JSON.
- `json_mode`: `text.format = {"type": "json_object"}`; the prompt must describe the keys.

Parsers are LangChain's cumulative ones, so streaming yields growing partial objects.
"""

from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.output_parsers.openai_tools import JsonOutputKeyToolsParser, PydanticToolsParser
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.utils.pydantic import is_basemodel_subclass

from cfai.wire.request import JSON_OBJECT_FORMAT
from langchain_cfai.tools import json_schema_text_format, tool_name

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

StructuredOutputMethod = Literal["json_schema", "function_calling", "json_mode"]
METHODS: tuple[StructuredOutputMethod, ...] = ("json_schema", "function_calling", "json_mode")


def _is_pydantic_class(schema: Any) -> bool:
    return isinstance(schema, type) and is_basemodel_subclass(schema)


def _bind_for(
    model: BaseChatModel, schema: Any, method: StructuredOutputMethod, strict: bool | None
) -> Runnable[Any, Any]:
    trace: dict[str, Any] = {}
    if schema is not None:
        trace = {"ls_structured_output_format": {"kwargs": {"method": method, "strict": strict}, "schema": schema}}
    if method == "function_calling":
        return model.bind_tools(
            [schema], tool_choice=tool_name(schema), parallel_tool_calls=False, strict=strict, **trace
        )
    if method == "json_schema":
        return model.bind(text_format=json_schema_text_format(schema, strict=strict), **trace)
    return model.bind(text_format=dict(JSON_OBJECT_FORMAT), **trace)


def _parser_for(schema: Any, method: StructuredOutputMethod) -> Runnable[Any, Any]:
    if method == "function_calling":
        if _is_pydantic_class(schema):
            return PydanticToolsParser(tools=[schema], first_tool_only=True)
        return JsonOutputKeyToolsParser(key_name=tool_name(schema), first_tool_only=True)
    if _is_pydantic_class(schema):
        return PydanticOutputParser(pydantic_object=schema)
    return JsonOutputParser()


def structured_output(
    model: BaseChatModel,
    schema: Any,
    *,
    method: str = "json_schema",
    strict: bool | None = None,
    include_raw: bool = False,
) -> Runnable[Any, Any]:
    """The runnable `with_structured_output` returns: the bound model piped into the matching parser."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}.")
    chosen: StructuredOutputMethod = method
    if schema is None and chosen != "json_mode":
        raise ValueError(f"method={chosen!r} needs a schema; pass one, or use method='json_mode'.")
    if chosen == "json_mode" and strict is not None:
        raise ValueError("strict applies to json_schema and function_calling, not json_mode.")
    bound = _bind_for(model, schema, chosen, strict)
    parser = _parser_for(schema, chosen)
    if not include_raw:
        return bound | parser
    parse = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser, parsing_error=lambda _: None)
    keep_error = RunnablePassthrough.assign(parsed=lambda _: None)
    return RunnableMap(raw=bound) | parse.with_fallbacks([keep_error], exception_key="parsing_error")
