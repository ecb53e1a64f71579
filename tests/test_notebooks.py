"""The notebooks in notebooks/ run from top to bottom in a fresh Jupyter kernel, against the emulator they start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

# The Jupyter kernel and the emulator both listen on loopback.
pytestmark = [pytest.mark.loopback, pytest.mark.long]

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
CELL_TIMEOUT_SECONDS = 120

# What each notebook must show, one output per feature it demonstrates.
EXPECTED = {
    "langchain_chat_workers_ai.ipynb": [
        "'You asked: Why is the sky blue?'",
        "'output_token_details': {'reasoning': ",
        "USD",
        "'You asked: I love programming.'",
        "You asked: Name three prime numbers.",
        "'name': 'GetWeather'",
        "Person(name='Ada Lovelace', birthplace='London', born=1815)",
        "Based on get_weather: Sunny and 21 °C in Paris",
        "128000 tokens of context",
    ],
    "llamaindex_workers_ai.ipynb": [
        "context_window=128000",
        "is_function_calling_model=True",
        "You asked: What is a vector index?",
        "thinking: ",
        "'cost_usd': ",
        "The warranty covers manufacturing defects for two years",
        "Based on get_time: It is 14:05 in Tokyo",
        "Person(name='Ada Lovelace', birthplace='London', born=1815)",
    ],
    "rag_workers_ai.ipynb": [
        "1024 dimensions",
        "0.313  The warranty covers manufacturing defects for two years after purchase.",
        "You asked: Context: The warranty covers manufacturing defects for two years after purchase.",
        "Question: How long is the warranty?",
        "cost USD:  ",
        "0.500  Shipping takes three to five business days within the European Union.",
        "source: Our support team answers emails in English, French and German.",
        "Query: Which languages does support answer emails in?",
        "source: Returns are accepted within thirty days if the product is unused.",
    ],
}


def test_every_notebook_is_checked() -> None:
    assert sorted(path.name for path in NOTEBOOKS.glob("*.ipynb")) == sorted(EXPECTED)


def _text(output: Any) -> str:
    if output.output_type == "stream":
        return str(output.text)
    return str(output.get("data", {}).get("text/plain", ""))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs_against_the_emulator(name: str, tmp_path: Path) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    # The committed notebook must never call Cloudflare when executed here.
    assert "LIVE = False" in notebook.cells[2].source
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        shutdown_kernel="immediate",  # the last cell stopped the emulator; nothing is left for a graceful exit to do
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, if any cell fails
    shown = "\n".join(_text(output) for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs)
    missing = [expected for expected in EXPECTED[name] if expected not in shown]
    assert not missing, f"{name} did not show {missing}"
