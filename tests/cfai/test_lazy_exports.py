"""`import cfai` loads nothing heavy; each public name loads its module on first use."""

from __future__ import annotations

import subprocess
import sys

import pytest

import cfai


def test_importing_cfai_loads_neither_the_transport_nor_httpx() -> None:
    code = "import sys, cfai; print(sorted(m for m in ('cfai.transport', 'httpx') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_public_names_resolve_and_unknown_names_raise() -> None:
    from cfai.transport import WorkersAIClient

    assert cfai.WorkersAIClient is WorkersAIClient
    assert cfai.get_model_info("@cf/openai/gpt-oss-20b").context_window == 128_000
    assert set(cfai.__all__) <= set(dir(cfai))
    with pytest.raises(AttributeError, match="no attribute 'Missing'"):
        cfai.Missing  # noqa: B018
