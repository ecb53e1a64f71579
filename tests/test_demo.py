"""The demo the README tells newcomers to run must keep working (it serves the emulator on loopback itself)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

DEMO = Path(__file__).parent.parent / "examples" / "demo.py"


def test_demo_tours_both_adapters(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(DEMO), run_name="demo")["main"]([])
    out = capsys.readouterr().out
    assert "== LangChain: ChatWorkersAI ==" in out and "== LlamaIndex: WorkersAI ==" in out
    assert "answer:    You asked: In one sentence: why is the sky blue?" in out
    assert "Based on get_weather: Sunny and 21 °C in Paris" in out
    assert "agent:     Based on get_time: It is 14:05 in Tokyo" in out
