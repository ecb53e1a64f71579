"""Synthesise a JSON value that validates against a JSON schema, filled from a prompt's values.

Covers what tool parameters and structured-output schemas use in practice (pydantic, zod, hand-written): `type`
(including type lists), `properties`/`required`, `items`/`prefixItems`, `minItems`/`maxItems`/`uniqueItems`,
`enum`, `const`, `anyOf`/`oneOf`/`allOf`, `$ref` into `$defs`/`definitions` (recursion bounded), `default`,
`format` (date, date-time, time, email, uri, uuid), `minLength`/`maxLength`, numeric bounds and `multipleOf`.
`pattern` is honoured only by preferring a `default` or `examples` entry that matches it.

Schemas come checked by `schema_check.py`; what is well-formed but absurd is bounded here: at most `_MAX_NODES`
values in all, `_MAX_ITEMS_CAP` elements per array and `_MAX_STRING` characters per string (a schema that demands more
gets a shorter value rather than a server that hangs), and a `pattern` Python cannot compile is ignored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from cfai.emulator.prompt_facts import ValuePool

Schema = Mapping[str, Any]

_OPTIONAL_DEPTH = 4  # below this depth only required properties and minItems elements are built (ends recursion)
_MAX_DEPTH = 32
_MAX_ITEMS = 5
_MAX_ITEMS_CAP = 64
_MAX_STRING = 4_096
_MAX_NODES = 2_000  # a schema whose required properties recurse would otherwise grow exponentially
_FORMATS = {
    "date-time": "2025-01-01T12:00:00Z",
    "time": "12:00:00",
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "hostname": "example.com",
    "ipv4": "127.0.0.1",
}


@dataclass
class _Context:
    root: Schema
    pool: ValuePool
    nodes: int = 0


def synthesize(schema: Schema, pool: ValuePool) -> Any:
    """A value valid against `schema`, drawing strings, numbers and enum choices from `pool` in order."""
    return _value(schema, _Context(schema, pool), 0, None)


def _value(schema: Schema, context: _Context, depth: int, field: str | None) -> Any:
    schema = _resolve(schema, context.root)
    context.nodes += 1
    if depth > _MAX_DEPTH or context.nodes > _MAX_NODES:
        return None
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return _enum(list(schema["enum"]), context.pool)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return _value(_pick_branch(schema[key], context.root), context, depth, field)
    if "allOf" in schema:
        return _value(_merge_all_of(schema, context.root), context, depth, field)
    return _BUILDERS[_type_of(schema)](schema, context, depth, field)


def _resolve(schema: Schema | bool, root: Schema) -> Schema:
    """Follow `$ref` chains; keywords beside a `$ref` (description, default) override the target's.

    A boolean schema (`true`: anything, `false`: nothing) is built like an empty schema.
    """
    if not isinstance(schema, Mapping):
        return {}
    seen: set[str] = set()
    while isinstance(schema.get("$ref"), str) and schema["$ref"] not in seen:
        ref = schema["$ref"]
        seen.add(ref)
        target = _pointer(root, ref)
        schema = {**target, **{key: value for key, value in schema.items() if key != "$ref"}}
    return schema


def _pointer(root: Schema, ref: str) -> Schema:
    if not ref.startswith("#"):
        raise ValueError(f"only local $ref pointers are supported, got {ref!r}")
    node: Any = root
    for part in filter(None, ref[1:].split("/")):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node if isinstance(node, Mapping) else {}


def _pick_branch(branches: list[Schema], root: Schema) -> Schema:
    for branch in branches:
        if _type_of(_resolve(branch, root)) != "null":
            return branch
    return branches[0] if branches else {}


def _merge_all_of(schema: Schema, root: Schema) -> Schema:
    merged: dict[str, Any] = {key: value for key, value in schema.items() if key != "allOf"}
    properties: dict[str, Any] = dict(merged.get("properties", {}))
    required: list[str] = list(merged.get("required", []))
    for part in schema["allOf"]:
        part = _resolve(part, root)
        properties.update(part.get("properties", {}))
        required += [name for name in part.get("required", []) if name not in required]
        merged.update({key: value for key, value in part.items() if key not in ("properties", "required")})
    if properties:
        merged["properties"] = properties
    if required:
        merged["required"] = required
    return merged


def _type_of(schema: Schema) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = next((kind for kind in declared if kind != "null"), "null")
    if isinstance(declared, str) and declared in _BUILDERS:
        return declared
    if "properties" in schema or "additionalProperties" in schema or "required" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    return "string"


def _enum(choices: list[Any], pool: ValuePool) -> Any:
    for choice in choices:
        if isinstance(choice, str) and pool.mentions(choice):
            return choice
    return next((choice for choice in choices if choice is not None), choices[0] if choices else None)


def _object(schema: Schema, context: _Context, depth: int, field: str | None) -> dict[str, Any]:
    properties: Mapping[str, Schema] = schema.get("properties", {})
    required = [name for name in schema.get("required", []) if isinstance(name, str)]
    result: dict[str, Any] = {}
    for name, subschema in properties.items():
        if name in required or depth < _OPTIONAL_DEPTH:
            result[name] = _value(subschema, context, depth + 1, name)
    for name in required:
        if name not in result:
            result[name] = context.pool.fallback_text(name)
    return result


def _array(schema: Schema, context: _Context, depth: int, field: str | None) -> list[Any]:
    prefix = [_value(item, context, depth + 1, field) for item in schema.get("prefixItems", [])]
    items: Schema = schema["items"] if isinstance(schema.get("items"), Mapping) else {}
    low = int(schema.get("minItems", 0))
    high = int(schema.get("maxItems", _MAX_ITEMS))
    wanted = low if depth >= _OPTIONAL_DEPTH else max(low, _suggested_count(items, context))
    count = min(wanted, high, _MAX_ITEMS_CAP) - len(prefix)
    values = prefix + [_value(items, context, depth + 1, field) for _ in range(max(0, count))]
    if schema.get("uniqueItems"):
        values = _distinct(values)
    return values


def _suggested_count(items: Schema, context: _Context) -> int:
    """As many elements as the prompt has values of the item type (one at least)."""
    kind = _type_of(_resolve(items, context.root))
    available = {"string": context.pool.phrases_left, "integer": context.pool.numbers_left}
    available["number"] = context.pool.numbers_left
    return max(1, min(_MAX_ITEMS, available.get(kind, 1)))


def _distinct(values: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def _string(schema: Schema, context: _Context, depth: int, field: str | None) -> str:
    fmt = schema.get("format")
    default = schema.get("default")
    if fmt == "date":
        value = context.pool.date() or "2025-01-01"
    elif isinstance(fmt, str) and fmt in _FORMATS:
        value = _FORMATS[fmt]
    else:
        taken = context.pool.take_phrase() or (default if isinstance(default, str) else None)
        value = taken or context.pool.fallback_text(field)
    pattern = _compiled(schema.get("pattern"))
    if pattern is not None and not pattern.search(value):
        candidates = [default, *schema.get("examples", [])]
        value = next((c for c in candidates if isinstance(c, str) and pattern.search(c)), value)
    return _fit_length(value, min(int(schema.get("minLength", 0)), _MAX_STRING), schema.get("maxLength"))


def _compiled(pattern: Any) -> re.Pattern[str] | None:
    if not isinstance(pattern, str):
        return None
    try:
        return re.compile(pattern)
    except re.error:  # an ECMA-only construct (\p{L}, ...): Cloudflare's validator may take it, Python's re cannot
        return None


def _fit_length(value: str, low: int, high: Any) -> str:
    if len(value) < low:
        value = (value or "x") * (low // max(1, len(value)) + 1)
    if isinstance(high, (int, float)):
        value = value[: int(high)]
    return value


def _number(schema: Schema, context: _Context, depth: int, field: str | None) -> int | float:
    is_integer = _type_of(schema) == "integer"
    lower, upper = _bounds(schema, step=1 if is_integer else 1e-6)
    value = _raw_number(schema, context)
    if is_integer:
        value = round(value)
        lower = math.ceil(lower) if math.isfinite(lower) else lower
        upper = math.floor(upper) if math.isfinite(upper) else upper
    multiple = schema.get("multipleOf")
    if _is_number(multiple) and multiple > 0:
        value = math.ceil(max(value, lower) / multiple) * multiple
        if value > upper:
            value = math.floor(upper / multiple) * multiple
    value = min(max(value, lower), upper)
    return int(value) if is_integer else value


def _bounds(schema: Schema, step: float) -> tuple[float, float]:
    lowers = [schema.get("minimum"), _shift(schema.get("exclusiveMinimum"), step)]
    uppers = [schema.get("maximum"), _shift(schema.get("exclusiveMaximum"), -step)]
    return (
        max((bound for bound in lowers if _is_number(bound)), default=-math.inf),
        min((bound for bound in uppers if _is_number(bound)), default=math.inf),
    )


def _shift(bound: Any, step: float) -> Any:
    # draft 4 used booleans for exclusive bounds; those carry no number to shift
    return bound + step if _is_number(bound) else None


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _raw_number(schema: Schema, context: _Context) -> float:
    taken = context.pool.take_number()
    if taken is not None:
        return taken
    default = schema.get("default")
    return default if _is_number(default) else 0


def _boolean(schema: Schema, context: _Context, depth: int, field: str | None) -> bool:
    default = schema.get("default")
    return default if isinstance(default, bool) else True


def _null(schema: Schema, context: _Context, depth: int, field: str | None) -> None:
    return None


_BUILDERS: dict[str, Callable[[Schema, _Context, int, str | None], Any]] = {
    "object": _object,
    "array": _array,
    "string": _string,
    "integer": _number,
    "number": _number,
    "boolean": _boolean,
    "null": _null,
}
