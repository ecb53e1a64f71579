"""Odd JSON schemas in tools and structured output: a malformed one is Cloudflare's 400/5006, never a 500."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MODEL = "@cf/openai/gpt-oss-120b"

MALFORMED = [
    (5, "/parameters' not met: must be object"),
    ([], "/parameters' not met: must be object"),
    ("object", "/parameters' not met: must be object"),
    ({"properties": 5}, "/parameters/properties' not met: must be object"),
    ({"properties": []}, "/parameters/properties' not met: must be object"),
    ({"properties": {"city": 5}}, "/parameters/properties/city' not met"),
    ({"properties": {"city": "string"}}, "/parameters/properties/city' not met"),
    ({"properties": {"city": None}}, "/parameters/properties/city' not met"),
    ({"type": "dict"}, "/parameters/type' not met"),
    ({"type": ["string", 5]}, "/parameters/type' not met"),
    ({"required": "city"}, "/parameters/required' not met"),
    ({"required": ["city", 5]}, "/parameters/required' not met"),
    ({"properties": {"a": {"enum": 5}}}, "/properties/a/enum' not met"),
    ({"properties": {"a": {"anyOf": 5}}}, "/properties/a/anyOf' not met"),
    ({"properties": {"a": {"anyOf": []}}}, "/properties/a/anyOf' not met"),
    ({"properties": {"a": {"oneOf": [5]}}}, "/properties/a/oneOf/0' not met"),
    ({"allOf": [{"properties": 5}]}, "/allOf/0/properties' not met"),
    ({"properties": {"a": {"type": "array", "items": 5}}}, "/properties/a/items' not met"),
    ({"properties": {"a": {"type": "array", "prefixItems": [5]}}}, "/prefixItems/0' not met"),
    ({"properties": {"a": {"type": "array", "minItems": "3"}}}, "/properties/a/minItems' not met"),
    ({"properties": {"a": {"type": "string", "maxLength": -1}}}, "/properties/a/maxLength' not met"),
    ({"properties": {"a": {"type": "integer", "minimum": "1"}}}, "/properties/a/minimum' not met"),
    ({"properties": {"a": {"type": "integer", "minimum": 1e400}}}, "/properties/a/minimum' not met"),
    ({"properties": {"a": {"type": "number", "multipleOf": 0}}}, "/properties/a/multipleOf' not met"),
    ({"properties": {"a": {"type": "string", "pattern": 5}}}, "/properties/a/pattern' not met"),
    ({"properties": {"a": {"$ref": "#/$defs/missing"}}}, "'#/$defs/missing' does not resolve"),
    ({"properties": {"a": {"$ref": "https://example.com/s.json"}}}, "is not a local reference"),
    ({"additionalProperties": 5}, "/parameters/additionalProperties' not met"),
]


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    # json.dumps, not httpx's encoder: 1e400 must reach the server as the literal it is
    return client.post(path, content=json.dumps(body), headers={"content-type": "application/json"})


def _surfaces(schema: Any) -> list[tuple[str, dict[str, Any], str]]:
    """(path, body, where the schema sits) for every place a request carries a JSON schema."""
    flat_tool = {"type": "function", "name": "get_weather", "parameters": schema}
    chat_tool = {"type": "function", "function": {"name": "get_weather", "parameters": schema}}
    chat = {"model": MODEL, "messages": [{"role": "user", "content": "Weather in Paris?"}]}
    return [
        ("/responses", {"model": MODEL, "input": "Weather in Paris?", "tools": [flat_tool]}, "/tools/0/parameters"),
        ("/chat/completions", {**chat, "tools": [chat_tool]}, "/tools/0/function/parameters"),
        (
            "/responses",
            {"model": MODEL, "input": "x", "text": {"format": {"type": "json_schema", "name": "n", "schema": schema}}},
            "/text/format/schema",
        ),
        (
            "/chat/completions",
            {**chat, "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": schema}}},
            "/response_format/schema",
        ),
    ]


@pytest.mark.parametrize(("schema", "expected"), MALFORMED, ids=[json.dumps(s)[:40] for s, _ in MALFORMED])
def test_a_malformed_schema_is_a_400_5006_naming_where(sync_client: httpx.Client, schema: Any, expected: str) -> None:
    for path, body, where in _surfaces(schema):
        reply = _post(sync_client, path, body)
        assert reply.status_code == 400, (path, reply.text)
        (error,) = reply.json()["errors"]
        assert error["code"] == 5006
        assert error["message"].startswith("AiError: Bad input: Error: ")
        assert expected.replace("/parameters", "") in error["message"]
        assert f"'{where}" in error["message"]


WELL_FORMED_BUT_ODD = [
    # required properties that recurse: every value would hold two more, forever
    {"properties": {"a": {"$ref": "#"}, "b": {"$ref": "#"}}, "required": ["a", "b"]},
    {"properties": {"s": {"type": "string", "minLength": 1_000_000_000}}, "required": ["s"]},
    {"properties": {"l": {"type": "array", "minItems": 1_000_000_000, "maxItems": 1_000_000_000}}, "required": ["l"]},
    {"properties": {"s": {"type": "string", "pattern": "^\\p{Lu}+$"}}, "required": ["s"]},  # ECMA-only syntax
    {"properties": {"n": {"type": "integer", "minimum": 5, "maximum": 1}}, "required": ["n"]},
    {"properties": {"e": {"enum": []}, "f": True, "g": False}},
    {"items": [{"type": "string"}], "type": "array"},  # draft-4 tuple items, top level not an object
    {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"},
]


@pytest.mark.parametrize("schema", WELL_FORMED_BUT_ODD, ids=[json.dumps(s)[:40] for s in WELL_FORMED_BUT_ODD])
def test_a_well_formed_but_odd_schema_gets_an_answer(sync_client: httpx.Client, schema: dict[str, Any]) -> None:
    for path, body, _ in _surfaces(schema):
        reply = _post(sync_client, path, body)
        assert reply.status_code == 200, (path, reply.text)
        assert len(reply.content) < 1_000_000  # bounded, whatever the schema demands


def test_a_body_nested_too_deeply_for_the_json_parser_is_a_400(sync_client: httpx.Client) -> None:
    reply = sync_client.post("/responses", content=b'{"model": "x", "input": ' + b"[" * 100_000)
    assert reply.status_code == 400 and reply.json()["errors"][0]["code"] == 5006


_KEYS = st.sampled_from(
    """
    type properties required items enum anyOf allOf $ref $defs minItems maxLength minimum multipleOf pattern const
    default prefixItems additionalProperties city
    """.split()  # noqa: SIM905 (a word list reads better as words)
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**20) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS | st.text(max_size=4), inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schema=_JSON, surface=st.integers(0, 3))
def test_any_json_as_a_schema_is_answered_or_refused_never_a_server_error(
    sync_client: httpx.Client, schema: Any, surface: int
) -> None:
    if isinstance(schema, float) and not math.isfinite(schema):
        schema = {"minimum": schema}
    path, body, _ = _surfaces(schema)[surface]
    reply = _post(sync_client, path, body)
    assert reply.status_code in (200, 400), reply.text
    assert reply.json()["errors" if reply.status_code == 400 else "model"]
