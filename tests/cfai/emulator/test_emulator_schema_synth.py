"""JSON synthesised from schemas must validate and carry the prompt's values (pydantic validates the results)."""

from __future__ import annotations

import enum
import json
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from cfai.emulator.prompt_facts import ValuePool, capitalised_phrases, numbers, quoted_phrases
from cfai.emulator.schema_synth import synthesize
from cfai.emulator.tokens import count_tokens, token_pieces, truncate_tokens


class Color(str, enum.Enum):
    red = "red"
    green = "green"
    blue = "blue"


class Address(BaseModel):
    city: str
    country: str | None = None
    postcode: int | None = None


class Person(BaseModel):
    name: str
    age: int = Field(ge=0, le=150)
    favourite: Color
    home: Address
    tags: list[str] = Field(default_factory=list)
    nickname: str | None = None


class Node(BaseModel):
    label: str
    children: list[Node] = Field(default_factory=list)


class Measurement(BaseModel):
    value: float = Field(gt=0, lt=10)
    unit: Literal["cm", "mm", "m"]
    count: int = Field(ge=5, multiple_of=5)
    codes: list[int] = Field(min_length=3, max_length=3)
    note: str = Field(min_length=10, max_length=12)


def test_pydantic_schema_with_defs_refs_enums_and_optionals_validates_with_prompt_values() -> None:
    schema = Person.model_json_schema()
    assert "$defs" in schema  # the $ref path is really exercised
    pool = ValuePool('Describe "Ada Lovelace", 36 years old, who likes blue and lives in São Paulo, Brazil.')
    person = Person.model_validate(synthesize(schema, pool))
    assert person.name == "Ada Lovelace"
    assert person.age == 36
    assert person.favourite is Color.blue
    assert person.home.city == "São Paulo"
    assert person.home.country == "Brazil"


def test_recursive_schema_terminates_and_validates() -> None:
    value = synthesize(Node.model_json_schema(), ValuePool("Build a tree named Root"))
    node = Node.model_validate(value)
    depth, current = 0, node
    while current.children:
        depth, current = depth + 1, current.children[0]
    assert 0 < depth < 10


def test_numeric_string_and_array_constraints_hold() -> None:
    value = synthesize(Measurement.model_json_schema(), ValuePool("It measured 42 units, codes 7 and 8"))
    measurement = Measurement.model_validate(value)
    assert 0 < measurement.value < 10  # 42 clamped below the exclusive maximum
    assert measurement.count % 5 == 0 and measurement.count >= 5
    assert len(measurement.codes) == 3
    assert 10 <= len(measurement.note) <= 12


def test_unicode_values_survive_json_encoding() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    value = synthesize(schema, ValuePool('Weather in "東京" please'))
    assert json.dumps(value, ensure_ascii=False) == '{"city": "東京"}'


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "format": "date"}, "2024-05-17"),
        ({"type": ["null", "integer"]}, 3),
        ({"anyOf": [{"type": "null"}, {"type": "number"}]}, 3),
        ({"const": "fixed"}, "fixed"),
        ({"enum": ["low", "high"]}, "high"),
        ({"type": "boolean", "default": False}, False),
        ({"type": "array", "items": {"type": "integer"}, "uniqueItems": True}, [3]),
    ],
)
def test_keywords(schema: dict[str, Any], expected: Any) -> None:
    assert synthesize(schema, ValuePool("On 2024-05-17 set 3 to high")) == expected


def test_all_of_merges_properties_and_required() -> None:
    schema = {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
            {"properties": {"b": {"type": "string"}}, "required": ["b"]},
        ]
    }
    assert synthesize(schema, ValuePool('Use 4 and "x"')) == {"a": 4, "b": "x"}


def test_strings_without_phrases_fall_back_to_the_question_then_field_names() -> None:
    schema = {"type": "object", "properties": {"query": {"type": "string"}, "lang": {"type": "string"}}}
    assert synthesize(schema, ValuePool("what is the capital of france?")) == {
        "query": "what is the capital of france?",
        "lang": "lang",
    }


def test_prompt_facts() -> None:
    text = 'Call get_weather for New York and "Saint-Étienne". I need 2,500 and -4.5 for gpt-oss-20b. Paris is nice.'
    assert quoted_phrases(text) == ["Saint-Étienne"]
    assert capitalised_phrases(text) == ["New York", "Saint-Étienne"]  # "Call", "I", lone "Paris" opener skipped
    assert numbers(text) == [2500, -4.5]
    pool = ValuePool(text, exclude=["Saint-Étienne"])
    assert [pool.take_phrase(), pool.take_phrase()] == ["New York", None]


def test_token_arithmetic_is_consistent() -> None:
    text = 'Hello, world! {"city":"Paris"} — ok'
    assert count_tokens(text) == 15  # words and punctuation marks, the dash included
    assert "".join(token_pieces(text)) == text
    assert len(token_pieces(text)) == count_tokens(text)
    assert truncate_tokens(text, 3) == "Hello, world"
    assert text.startswith(truncate_tokens(text, 9))
    assert truncate_tokens(text, 100) == text
    assert truncate_tokens(text, 0) == ""
