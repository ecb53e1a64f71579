"""JSON on the wire, with one result whichever library writes or reads it.

orjson, where it is installed (LangChain's langsmith requires it too), writes a long conversation's request about
thirty times faster than the standard library and reads replies about twice as fast (benchmarks/). It is used only
where its result is the standard library's:

- Writing: the bytes are always those of `json.dumps(value, ensure_ascii=False, separators=(",", ":"),
  allow_nan=False)`. orjson writes exactly those for plain dicts, lists and tuples of strings, integers, booleans,
  None and floats that both libraries print in decimal notation; a walk checks that first. What orjson refuses (a
  lone surrogate, an integer beyond 64 bits, a key that is not a string) and anything else goes to the standard
  library, which raises what it raises. Without orjson, the standard library's ASCII mode, which CPython writes
  faster, is used when it gives the same bytes.
- Reading: orjson's value when the text cannot hold an integer beyond 64 bits, which orjson reads as a float and
  the standard library exactly; otherwise, and for whatever orjson does not read (NaN, lone surrogate escapes, a
  byte order mark), `json.loads` decides, so values and errors are unchanged. Stream events are read by
  `loads_event` instead, with the standard library alone: on a token's small chunk, that check costs more than
  orjson saves.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

_orjson: ModuleType | None
try:
    import orjson as _orjson
except ImportError:  # PyPy, Pyodide, or a slim install: the standard library does it all
    _orjson = None

# What `json.loads` decodes with, which a stream calls once per token.
_decode_json = json.JSONDecoder().raw_decode
_JSON_WHITESPACE = " \t\n\r"
# Built once: `json.dumps` with options builds a new encoder on every call.
_BODY = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
# For ASCII text other than DEL, `ensure_ascii` writes the same bytes, a third faster on a long conversation.
_ASCII_BODY = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False)
# Containers a walk reads before it gives up: a value that contains itself ends there too.
_WALK_LIMIT = 100_000
_SCALARS = frozenset({int, float, bool, type(None)})
# Both libraries print a float in decimal notation from 1e-4 up to 1e16 (and 0), with the same shortest digits;
# outside that range Python writes `1e-05` where orjson writes `0.00001`.
_DECIMAL_FROM, _DECIMAL_BELOW = 1e-4, 1e16
# orjson reads integers from -2**63 to 2**64 - 1 exactly, and larger ones as floats (-2**63 - 1 as -2.0**63).
_WIDE = 2.0**63
# Every integer of 18 digits or fewer is within that range. A text is searched for a longer run of digits with one
# translation (digits to "0", every other byte to " ") and one search; texts longer than that are walked instead.
_DIGIT_RUN = b"0" * 19
_DIGITS_AS_ZERO = bytes(ord("0") if ord("0") <= byte <= ord("9") else ord(" ") for byte in range(256))
_SEARCHED_BELOW = 8192


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, Unicode kept as is, NaN and infinities refused (ValueError), as described above."""
    if _orjson is not None and _written_alike(value, by_orjson=True):
        try:
            return _orjson.dumps(value)  # type: ignore[no-any-return]
        except _orjson.JSONEncodeError:
            pass  # the standard library raises its own error, or writes what orjson would not
    return (_ASCII_BODY if _written_alike(value, by_orjson=False) else _BODY).encode(value).encode()


def loads(data: str | bytes) -> Any:
    """The value of a JSON document (a whole reply); raises what `json.loads` raises (ValueError, RecursionError)."""
    if _orjson is not None:
        try:
            value = _orjson.loads(data)
        except _orjson.JSONDecodeError:
            pass  # strict JSON it is not: the standard library accepts more, and words its own errors
        else:
            if not _may_hold_wide_integer(data, value):
                return value
    return json.loads(data)


def loads_event(data: str) -> Any:
    """The JSON value one stream event's data holds; raises what `json.loads` raises (ValueError, RecursionError).

    The usual data, one value with nothing before it, is decoded directly: `json.loads`'s wrapper calls and
    whitespace regexes around the decoding made about a third of its cost on a token's chunk (benchmarks/). Anything
    else is left to `json.loads`, so its verdict stands.
    """
    try:
        value, end = _decode_json(data)
    except ValueError:
        return json.loads(data)  # leading whitespace, or not JSON at all
    if end != len(data) and data[end:].strip(_JSON_WHITESPACE):
        return json.loads(data)  # raises: something follows the value
    return value


def _may_hold_wide_integer(data: str | bytes, value: Any) -> bool:
    """Whether orjson may have read an integer beyond 64 bits (as a float) in `data`, decoded as `value`.

    Such an integer has at least 19 digits. A short text is searched for a run of 19 digits, in C, faster than
    walking its value; a long one is checked by walking its value, which has few items for its size.
    """
    if isinstance(data, bytes) and len(data) <= _SEARCHED_BELOW:
        return _DIGIT_RUN in data.translate(_DIGITS_AS_ZERO)
    return _holds_wide_float(value)


def _holds_wide_float(value: Any) -> bool:
    """Whether a decoded value holds a whole float beyond 64-bit integers: orjson's reading of such an integer."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            pending += item.values()
        elif kind is list:
            pending += item
        elif kind is float and not -_WIDE < item < _WIDE and item.is_integer():
            return True
    return False


def _written_alike(value: Any, *, by_orjson: bool) -> bool:
    """Whether `value` is written as `_BODY` writes it: by orjson (`by_orjson`), or by the standard library's ASCII
    mode.

    Both need plain dicts, lists and tuples of strings, numbers, booleans and None; anything else answers False and
    is written by `_BODY`, which raises what it raises. orjson also needs floats it prints in decimal notation; the
    ASCII mode needs ASCII strings and keys without DEL, the one ASCII character it escapes.
    """
    pending = [value]
    containers = 0
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is str:
            if not by_orjson and (not item.isascii() or "\x7f" in item):
                return False
            continue
        if kind is dict:
            if not by_orjson and not _ascii_keys(item):
                return False
            pending += item.values()
        elif kind is list or kind is tuple:
            pending += item
        elif kind is float:
            # NaN fails both comparisons, an infinity the second.
            if by_orjson and item != 0.0 and not _DECIMAL_FROM <= abs(item) < _DECIMAL_BELOW:
                return False
            continue
        elif kind in _SCALARS:
            continue
        else:
            return False
        containers += 1
        if containers > _WALK_LIMIT:
            return False
    return True


def _ascii_keys(item: dict[Any, Any]) -> bool:
    try:
        keys = "".join(item)  # all keys in one string: a quarter of the walk's time saved on a long body
    except TypeError:  # a key that is not a string
        return False
    return keys.isascii() and "\x7f" not in keys
