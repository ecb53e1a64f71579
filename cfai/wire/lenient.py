"""Reading single values out of decoded JSON sent by servers we do not control.

Every reader returns a value of the expected type or a default; none raises, whatever the JSON holds (a list where
a number belongs, `1e400`, `NaN`, an ISO date in a Unix-time field). Which structures are required, and the errors
when they are missing, stay with the parsers that use these.
"""

from __future__ import annotations

import math
from typing import Any


def whole_number(value: Any) -> int | None:
    """A finite number as an int (floats truncated: streamed usage carries float `neurons`), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    return None


def count(value: Any) -> int:
    """A token count: a non-negative whole number, 0 for anything else."""
    if type(value) is int:  # what servers send, checked first: a reply reads five of these (not bool: a subclass)
        return value if value > 0 else 0
    number = whole_number(value)
    return number if number is not None and number > 0 else 0


def text(value: Any) -> str:
    """A string field, "" when absent or not a string."""
    return value if isinstance(value, str) else ""


def optional_text(value: Any) -> str | None:
    """A string field, None when absent, empty or not a string."""
    return value if isinstance(value, str) and value else None


def mapping(value: Any) -> dict[str, Any]:
    """An object field, {} when absent or not an object."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    """An array field, [] when absent or not an array."""
    return value if isinstance(value, list) else []
