"""Request building: the body we send, the input item shapes, tool schemas, and which reasoning goes back."""

from __future__ import annotations

import copy
import json
from collections import OrderedDict
from enum import Enum
from typing import Any

import pytest

from cfai.wire import (
    REASONING_EFFORTS,
    assistant_item,
    build_request,
    function_call_item,
    function_call_output_item,
    function_tool,
    inline_refs,
    input_image,
    input_text,
    json_schema_format,
    message_item,
    prune_reasoning,
    reasoning_item,
    tool_choice_value,
    validate_reasoning_effort,
)
from cfai.wire.request import JSON_OBJECT_FORMAT, dumps, encode_body

WEATHER = function_tool(
    "get_weather",
    "Get current weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def test_minimal_request():
    assert build_request(model="@cf/openai/gpt-oss-120b", input="Hi") == {
        "model": "@cf/openai/gpt-oss-120b",
        "input": "Hi",
    }


def test_full_request_matches_the_documented_shape():
    body = build_request(
        model="@cf/openai/gpt-oss-120b",
        instructions="You are concise.",
        input=[message_item("user", "What's the weather in Paris?")],
        tools=[WEATHER],
        tool_choice="auto",
        parallel_tool_calls=False,
        reasoning_effort="low",
        max_output_tokens=2048,
        temperature=0.2,
        top_p=0.9,
        text_format=json_schema_format("answer", {"type": "object"}, strict=True),
    )
    assert body == {
        "model": "@cf/openai/gpt-oss-120b",
        "instructions": "You are concise.",
        "input": [{"role": "user", "content": "What's the weather in Paris?"}],
        "tools": [
            {
                "type": "function",
                "name": "get_weather",
                "description": "Get current weather for a city.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            }
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "reasoning": {"effort": "low"},
        "max_output_tokens": 2048,
        "temperature": 0.2,
        "top_p": 0.9,
        "text": {"format": {"type": "json_schema", "name": "answer", "schema": {"type": "object"}, "strict": True}},
    }


def test_never_sends_state_nulls_or_empty_tools():
    body = build_request(
        model="m",
        input=[message_item("user", "Hi")],
        instructions="",
        tools=[],
        tool_choice="required",
        parallel_tool_calls=True,
        reasoning_effort=None,
        text_format={},
        extra={"store": False, "previous_response_id": "resp_1", "user": None, "metadata": {"a": "b"}},
    )
    assert body == {"model": "m", "input": [{"role": "user", "content": "Hi"}], "metadata": {"a": "b"}}
    assert "null" not in json.dumps(body)


def test_temperature_zero_is_sent():
    assert build_request(model="m", input="x", temperature=0, top_p=0)["temperature"] == 0


def test_input_list_is_copied_not_aliased():
    items = [message_item("user", "Hi")]
    body = build_request(model="m", input=items)
    body["input"].append(message_item("user", "more"))
    assert len(items) == 1


@pytest.mark.parametrize("effort", REASONING_EFFORTS)
def test_reasoning_efforts(effort):
    assert validate_reasoning_effort(effort) == effort
    assert build_request(model="m", input="x", reasoning_effort=effort)["reasoning"] == {"effort": effort}


@pytest.mark.parametrize("effort", ["minimal", "none", "HIGH", "", "max"])
def test_invalid_reasoning_effort_is_a_clear_value_error(effort):
    with pytest.raises(ValueError, match=r"reasoning_effort must be one of low, medium, high") as caught:
        build_request(model="m", input="x", reasoning_effort=effort)
    assert repr(effort) in str(caught.value)
    assert "cannot be turned off" in str(caught.value)


@pytest.mark.parametrize("tokens", [0, -5])
def test_max_output_tokens_must_be_positive(tokens):
    with pytest.raises(ValueError, match="max_tokens must be a positive number"):
        build_request(model="m", input="x", max_output_tokens=tokens)


def test_json_object_format():
    assert build_request(model="m", input="x", text_format=JSON_OBJECT_FORMAT)["text"] == {
        "format": {"type": "json_object"}
    }


def test_input_item_shapes():
    assert message_item("developer", [input_text("a"), input_image("data:image/png;base64,AAAA", "low")]) == {
        "role": "developer",
        "content": [
            {"type": "input_text", "text": "a"},
            {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"},
        ],
    }
    assert input_image("https://x/y.png") == {"type": "input_image", "image_url": "https://x/y.png"}
    assert assistant_item("Sure.") == {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "Sure."}],
    }
    assert reasoning_item("think") == {
        "type": "reasoning",
        "summary": [],
        "content": [{"type": "reasoning_text", "text": "think"}],
    }


def test_tool_call_items_keep_unicode_and_stringify_arguments():
    assert function_call_item("call_1", "get_weather", {"city": "Zürich"}) == {
        "type": "function_call",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"city":"Zürich"}',
    }
    assert function_call_item("call_1", "f", '{"raw": 1}')["arguments"] == '{"raw": 1}'
    assert function_call_output_item("call_1", {"temp_c": 21, "sky": "☀"}) == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": '{"temp_c":21,"sky":"☀"}',
    }
    assert function_call_output_item("call_1", "plain")["output"] == "plain"
    assert dumps({"k": "東京"}) == '{"k":"東京"}'


def test_function_tool_shapes():
    empty = {"type": "object", "properties": {}}
    assert function_tool("ping") == {"type": "function", "name": "ping", "parameters": empty}
    assert function_tool("ping", strict=False)["strict"] is False
    assert "strict" not in WEATHER and "description" in WEATHER


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, None),
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("any", "required"),
        ("get_weather", {"type": "function", "name": "get_weather"}),
        ({"type": "function", "name": "get_weather"}, {"type": "function", "name": "get_weather"}),
        ({"type": "function", "function": {"name": "get_weather"}}, {"type": "function", "name": "get_weather"}),
    ],
)
def test_tool_choice_forms(choice, expected):
    assert tool_choice_value(choice, ["get_weather", "get_time"]) == expected


@pytest.mark.parametrize("choice", ["get_stock", {"type": "function", "name": "get_stock"}, {"type": "x"}, 3])
def test_tool_choice_must_name_a_bound_tool(choice):
    with pytest.raises(ValueError, match="tool_choice"):
        tool_choice_value(choice, ["get_weather"])


# encode_body: the bytes of `json.dumps(body, ensure_ascii=False, separators=(",", ":"))`, however it gets them.


class Role(str, Enum):
    USER = "user"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"model": "m", "input": 'Plain ASCII, with "quotes", \\ and\nnew lines.'}, id="ascii"),
        pytest.param({"input": "".join(map(chr, range(0x80)))}, id="every-ascii-character-del-and-controls"),
        pytest.param({"input": "Zürich, 你好, \U0001f600, \u2028"}, id="non-ascii"),
        pytest.param(
            {"input": [{"role": "user", "content": "hi"}, {"role": "user", "content": "café"}]}, id="one-late"
        ),
        pytest.param({"ключ": "value"}, id="non-ascii-key"),
        pytest.param({1: [1.5, -0.0, 10**30, True, None], 2.5: (1, "a"), None: False}, id="json-scalars-and-keys"),
        pytest.param({"role": Role.USER, "items": OrderedDict(a="b")}, id="str-and-dict-subclasses"),
        pytest.param({"input": "literal \\u00e9 escape in text"}, id="backslash-u-in-text"),
    ],
)
def test_encode_body_writes_what_json_dumps_writes(body: dict[Any, Any], json_library: str) -> None:
    assert encode_body(body) == json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        ({"input": "ok", "temperature": float("nan")}, ValueError, "NaN or infinity"),
        ({"input": "lone \ud800 surrogate"}, ValueError, "lone surrogate"),
        ({"input": "ok", "extra": object()}, TypeError, "not JSON"),
    ],
)
def test_encode_body_refuses_what_json_cannot_carry(
    body: dict[str, Any], error: type[Exception], message: str, json_library: str
) -> None:
    with pytest.raises(error, match=message):
        encode_body(body)


def test_encode_body_refuses_a_body_that_contains_itself(json_library: str) -> None:
    looped: list[Any] = ["x"]
    looped.append(looped)
    with pytest.raises(ValueError, match="contains itself"):
        encode_body({"input": looped})


# inline_refs: gpt-oss follows inlined schemas better than $ref (docs/wire.md, quirk 4).


def test_inline_refs_nested_definitions():
    schema = {
        "type": "object",
        "properties": {
            "home": {"$ref": "#/$defs/Address"},
            "offices": {"type": "array", "items": {"$ref": "#/$defs/Address", "description": "an office"}},
        },
        "$defs": {
            "Address": {"type": "object", "properties": {"city": {"type": "string"}, "geo": {"$ref": "#/$defs/Geo"}}},
            "Geo": {"type": "object", "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}}},
        },
    }
    before = copy.deepcopy(schema)
    geo = {"type": "object", "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}}}
    address = {"type": "object", "properties": {"city": {"type": "string"}, "geo": geo}}

    assert inline_refs(schema) == {
        "type": "object",
        "properties": {
            "home": address,
            "offices": {"type": "array", "items": {**address, "description": "an office"}},
        },
    }
    assert schema == before


def test_inline_refs_old_style_definitions():
    schema = {"properties": {"a": {"$ref": "#/definitions/A"}}, "definitions": {"A": {"type": "integer"}}}
    assert inline_refs(schema) == {"properties": {"a": {"type": "integer"}}}


def test_inline_refs_recursive_schema_stays_finite_and_resolvable():
    schema = {
        "type": "object",
        "properties": {"root": {"$ref": "#/$defs/Node"}},
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                },
            }
        },
    }
    result = inline_refs(schema)
    root = result["properties"]["root"]
    assert root["properties"]["name"] == {"type": "string"}
    # One expansion, then the recursive reference stays a reference...
    assert root["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    # ...which must still resolve: the definition it points to is kept.
    assert result["$defs"]["Node"] == schema["$defs"]["Node"]
    json.dumps(result)


def test_inline_refs_leaves_unknown_refs_alone():
    schema = {"properties": {"a": {"$ref": "https://example.com/schemas/a.json"}}}
    assert inline_refs(schema) == schema


def test_tools_and_formats_are_inlined():
    schema = {"properties": {"a": {"$ref": "#/$defs/A"}}, "$defs": {"A": {"type": "string"}}}
    assert function_tool("f", parameters=schema)["parameters"] == {"properties": {"a": {"type": "string"}}}
    assert json_schema_format("out", schema)["schema"] == {"properties": {"a": {"type": "string"}}}


# prune_reasoning: only the in-progress tool-calling turn keeps its chain of thought.


def test_prune_keeps_reasoning_of_the_turn_awaiting_tool_results():
    items = [
        message_item("user", "Weather in Paris?"),
        reasoning_item("I should call get_weather."),
        function_call_item("call_1", "get_weather", {"city": "Paris"}),
        function_call_output_item("call_1", "21C"),
    ]
    assert prune_reasoning(items) == items


def test_prune_drops_reasoning_of_completed_turns():
    first_turn = [
        message_item("user", "Weather in Paris?"),
        reasoning_item("old thought before the call"),
        function_call_item("call_1", "get_weather", {"city": "Paris"}),
        function_call_output_item("call_1", "21C"),
        reasoning_item("old thought before the answer"),
        assistant_item("It is 21C."),
    ]
    second_turn = [
        message_item("user", "And Tokyo?"),
        reasoning_item("new thought"),
        reasoning_item("more new thought"),
        function_call_item("call_2", "get_weather", {"city": "Tokyo"}),
        function_call_output_item("call_2", "25C"),
        reasoning_item("second round"),
        function_call_item("call_3", "get_time", {"city": "Tokyo"}),
    ]
    kept = prune_reasoning(first_turn + second_turn)
    assert [item for item in kept if item.get("type") == "reasoning"] == [
        reasoning_item("new thought"),
        reasoning_item("more new thought"),
        reasoning_item("second round"),
    ]
    assert [item for item in kept if item.get("type") != "reasoning"] == [
        item for item in first_turn + second_turn if item.get("type") != "reasoning"
    ]


def test_prune_looks_past_the_assistant_text_of_the_same_turn():
    items = [
        message_item("user", "Weather in Paris?"),
        reasoning_item("I will say so, then call."),
        assistant_item("Let me check."),
        function_call_item("call_1", "get_weather", {"city": "Paris"}),
    ]
    assert prune_reasoning(items) == items


def test_prune_drops_reasoning_not_followed_by_a_call():
    items = [message_item("user", "Hi"), reasoning_item("trailing thought")]
    assert prune_reasoning(items) == [message_item("user", "Hi")]
    assert prune_reasoning([reasoning_item("t"), assistant_item("a")]) == [assistant_item("a")]


def test_prune_does_not_mutate_its_input():
    items = [message_item("user", "Hi"), reasoning_item("t"), assistant_item("a")]
    before = copy.deepcopy(items)
    prune_reasoning(items)
    assert items == before
