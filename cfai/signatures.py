"""Signatures computed once, for frameworks that inspect an adapter's methods on every call.

LangChain asks `inspect.signature(self._generate)` on each `invoke` (does it take `run_manager`?), and LlamaIndex's
instrumentation binds each `chat` call's arguments to `inspect.signature` of the method: 15 to 20 µs a call on
CPython 3.11, rebuilt from the code object every time (benchmarks/). `inspect.signature` returns a function's
`__signature__` as it is, so storing the signature it computed makes every later answer the same, at once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["signature_computed_once"]

F = TypeVar("F", bound=Callable[..., Any])


def signature_computed_once(function: F) -> F:
    """`function`, with the signature `inspect.signature` gives it now kept as its `__signature__`."""
    function.__signature__ = inspect.signature(function)  # type: ignore[attr-defined]
    return function
