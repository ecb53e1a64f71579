"""Signatures kept on the adapters' methods (`cfai.signatures`) are the ones `inspect` computes, so the frameworks
that read them on every call (LangChain: does `_generate` take `run_manager`? LlamaIndex: binding each call's
arguments for its spans) see exactly what they saw before."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from cfai.signatures import signature_computed_once
from langchain_cfai import ChatWorkersAI
from llamaindex_cfai import WorkersAI

LLAMAINDEX_ENTRY_POINTS = (
    *("chat", "achat", "stream_chat", "astream_chat"),
    *("complete", "acomplete", "stream_complete", "astream_complete"),
)


def _kept(function: Callable[..., Any]) -> Callable[..., Any]:
    # LlamaIndex wraps its entry points in its instrumentation's span after the class body ran: the signature is
    # kept on the function inside.
    return getattr(function, "__wrapped__", function)


KEPT = {
    **{f"ChatWorkersAI.{name}": getattr(ChatWorkersAI, name) for name in ("_generate", "_agenerate")},
    **{f"WorkersAI.{name}": _kept(WorkersAI.__dict__[name]) for name in LLAMAINDEX_ENTRY_POINTS},
}


@pytest.mark.parametrize("name", list(KEPT))
def test_a_kept_signature_is_the_one_inspect_computes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    function = KEPT[name]
    kept = inspect.signature(function)
    assert kept is function.__signature__  # returned as kept, not computed again
    monkeypatch.delattr(function, "__signature__")
    assert inspect.signature(function) == kept


def test_the_helper_keeps_parameters_defaults_and_annotations() -> None:
    def tool(query: str, limit: int = 3, *more: str, exact: bool, **options: Any) -> list[str]:
        return [query, *more][:limit] if exact or options else []

    expected = inspect.signature(tool)
    assert signature_computed_once(tool) is tool
    assert inspect.signature(tool) is tool.__signature__ == expected  # type: ignore[attr-defined]
    assert tool("a", 1, exact=True) == ["a"]
