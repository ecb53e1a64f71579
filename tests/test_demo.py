"""The tour newcomers run first: `cfai demo` as a fresh process, and `examples/demo.py`, which runs the same tour.

Both serve the emulator on loopback themselves; no Cloudflare variable is set, so the first line must say so.
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from cfai.cli import main
from cfai.emulator import Emulator

# The tour serves the emulator on loopback.
pytestmark = [pytest.mark.loopback, pytest.mark.long]

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo.py"

# One line per step of the tour: LangChain's answer, tool call, structured answer; LlamaIndex's retrieval with
# Workers AI embeddings, its RAG answer and its agent.
EXPECTED = [
    "== LangChain: ChatWorkersAI ==",
    "  answer     You asked: In one sentence: why is the sky blue?",
    "  tool call  [('get_weather', {'city': 'Paris'})]",
    "  answer     Based on get_weather: Sunny and 21 °C in Paris",
    "  structured Trip(city='Kyoto', days=3)",
    "== LlamaIndex: WorkersAI and WorkersAIEmbedding ==",
    "  embedding  @cf/baai/bge-m3, 1024 dimensions",
    "  retrieved  The warranty covers manufacturing defects for two years from purchase.",
    "  agent      Based on get_time: It is 14:05 in Tokyo",
]


def check_tour(out: str, first_line: str = "Using the local Workers AI emulator, not Cloudflare") -> None:
    lines = out.splitlines()
    assert lines[0].startswith(first_line)
    assert [line for line in lines if line in EXPECTED] == EXPECTED  # all of them, in this order
    rag = next(line for line in lines if line.startswith("  RAG answer "))
    assert "The warranty covers manufacturing defects for two years" in rag and "How long is the warranty?" in rag
    assert next(line for line in lines if line.startswith("  cost USD ")) != "  cost USD   None"


def test_cfai_demo_runs_as_a_fresh_process() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "cfai", "demo"], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    check_tour(result.stdout)
    assert result.stderr == ""


def test_the_example_script_runs_the_same_tour(capsys: pytest.CaptureFixture[str]) -> None:
    assert runpy.run_path(str(DEMO), run_name="demo")["main"]([]) == 0
    check_tour(capsys.readouterr().out)


def test_with_credentials_the_tour_goes_where_they_point(
    workers_ai_env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo"]) == 0
    check_tour(capsys.readouterr().out, first_line="Using Workers AI with the credentials in the environment")
    routes = {request.path.rsplit("/", 1)[-1] for request in workers_ai_env.requests}
    assert routes == {"responses", "embeddings"}  # every step reached the server the environment names
