"""Checks that a JSON schema (tool parameters, structured output) has the shape JSON Schema gives its keywords.

Cloudflare validates a request against the model's input schema, where tool `parameters` and output schemas are
JSON Schema objects; a keyword of the wrong type (`"properties": 5`, `"required": "city"`, a `$ref` that points
nowhere) is refused as bad input (400/5006). The emulator refuses the same, naming where the fault is, so that the
synthesis in `schema_synth.py` only ever sees schemas it can walk. Annotations (`title`, `description`, `default`,
`examples` entries) are not checked, and `pattern` is not compiled: JavaScript and Python regular expressions differ.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from cfai.emulator.envelope import bad_input

TYPES = frozenset({"object", "array", "string", "integer", "number", "boolean", "null"})
_MAX_DEPTH = 64
# keyword -> what its value must be; "schema" also admits true/false, as JSON Schema does for subschemas
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SUBSCHEMAS = (
    "additionalProperties",
    "additionalItems",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
)
_COUNTS = ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties", "minContains")
_NUMBERS = ("minimum", "maximum")


def check_schema(schema: Any, where: str) -> Mapping[str, Any]:
    """`schema` itself when it is a well-formed JSON Schema object; otherwise a 400/5006 naming the fault's place."""
    if not isinstance(schema, Mapping):
        raise _not_met("type", where, "must be object")
    _check(schema, schema, where, 0)
    return schema


def _check(schema: Any, root: Mapping[str, Any], where: str, depth: int) -> None:
    if isinstance(schema, bool):
        return
    if not isinstance(schema, Mapping):
        raise _not_met("type", where, "must be object or boolean (a schema)")
    if depth > _MAX_DEPTH:
        raise bad_input(f"Error: schema at '{where}' is nested more than {_MAX_DEPTH} levels deep")
    _check_type(schema.get("type", "object"), f"{where}/type")
    _check_keywords(schema, where)
    for key in _SCHEMA_MAPS:
        for name, subschema in _mapping(schema, key, where).items():
            _check(subschema, root, f"{where}/{key}/{name}", depth + 1)
    for key in _SCHEMA_LISTS:
        for index, subschema in enumerate(_list(schema, key, where, non_empty=True)):
            _check(subschema, root, f"{where}/{key}/{index}", depth + 1)
    for key in _SUBSCHEMAS:
        if key in schema:
            _check(schema[key], root, f"{where}/{key}", depth + 1)
    items = schema.get("items")
    subschemas = items if isinstance(items, list) else [] if items is None else [items]  # draft-4 tuple form
    for index, subschema in enumerate(subschemas):
        _check(subschema, root, f"{where}/items" + (f"/{index}" if isinstance(items, list) else ""), depth + 1)
    if "$ref" in schema:
        _check_ref(schema["$ref"], root, f"{where}/$ref")


def _check_type(declared: Any, where: str) -> None:
    kinds = declared if isinstance(declared, list) else [declared]
    if not kinds or not all(isinstance(kind, str) and kind in TYPES for kind in kinds):
        raise _not_met("enum", where, f"must be one of {', '.join(sorted(TYPES))}, or an array of them")


def _check_keywords(schema: Mapping[str, Any], where: str) -> None:
    required = _list(schema, "required", where, non_empty=False)
    if not all(isinstance(name, str) for name in required):
        raise _not_met("type", f"{where}/required", "must be an array of strings")
    _list(schema, "enum", where, non_empty=False)
    _list(schema, "examples", where, non_empty=False)
    for key in _COUNTS:
        value = schema.get(key)
        if value is not None and (not _is_number(value) or value < 0 or value != int(value)):
            raise _not_met("type", f"{where}/{key}", "must be a non-negative integer")
    for key in _NUMBERS:
        if key in schema and not _is_number(schema[key]):
            raise _not_met("type", f"{where}/{key}", "must be a finite number")
    for key in ("exclusiveMinimum", "exclusiveMaximum"):
        if key in schema and not (_is_number(schema[key]) or isinstance(schema[key], bool)):
            raise _not_met("type", f"{where}/{key}", "must be a finite number or boolean")
    multiple = schema.get("multipleOf")
    if multiple is not None and not (_is_number(multiple) and multiple > 0):
        raise _not_met("type", f"{where}/multipleOf", "must be a number greater than 0")
    for key in ("pattern", "format", "$ref"):
        if key in schema and not isinstance(schema[key], str):
            raise _not_met("type", f"{where}/{key}", "must be string")
    if "uniqueItems" in schema and not isinstance(schema["uniqueItems"], bool):
        raise _not_met("type", f"{where}/uniqueItems", "must be boolean")


def _check_ref(ref: str, root: Mapping[str, Any], where: str) -> None:
    """Only local pointers resolve offline (gpt-oss takes inlined schemas best anyway: docs/wire.md quirk 4)."""
    node: Any = root
    if not ref.startswith("#"):
        raise bad_input(f"Error: $ref at '{where}' not met: {ref!r} is not a local reference (#/...)")
    for part in filter(None, ref[1:].split("/")):
        key = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or key not in node:
            raise bad_input(f"Error: $ref at '{where}' not met: {ref!r} does not resolve")
        node = node[key]
    if not isinstance(node, (Mapping, bool)):
        raise bad_input(f"Error: $ref at '{where}' not met: {ref!r} does not point to a schema")


def _mapping(schema: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = schema.get(key, {})
    if not isinstance(value, Mapping):
        raise _not_met("type", f"{where}/{key}", "must be object")
    return value


def _list(schema: Mapping[str, Any], key: str, where: str, *, non_empty: bool) -> list[Any]:
    value = schema.get(key, [])
    if not isinstance(value, list) or (non_empty and key in schema and not value):
        raise _not_met("type", f"{where}/{key}", "must be a non-empty array" if non_empty else "must be array")
    return value


def _is_number(value: object) -> bool:
    # 1e400 parses as infinity: no bound a schema means
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _not_met(rule: str, where: str, detail: str) -> Exception:
    return bad_input(f"Error: {rule} at '{where}' not met: {detail}")
