"""The benchmark harness runs end to end and reports every cfai row; no timing is asserted (machines are noisy)."""

from __future__ import annotations

from pathlib import Path

import pytest

# `--skip-alternatives` needs only the dev extra, so the harness is exercised by every test run, CI included;
# the alternatives (the bench extra) are measured only by the full command.
from benchmarks import run

EXPECTED_ROWS = (
    "ChatWorkersAI ÷ (raw httpx + FakeListChatModel), sync invoke/chat",
    "ChatWorkersAI ÷ (raw httpx + FakeListChatModel), async ainvoke/achat",
    "WorkersAI ÷ (raw httpx + MockLLM), sync invoke/chat",
    "WorkersAI ÷ (raw httpx + MockLLM), async ainvoke/achat",
    "cfai WorkersAIClient ÷ (raw httpx), sync invoke/chat",
    "ChatWorkersAI.stream, buffered",
    "ChatWorkersAI.stream, chat_completions",
    "WorkersAI.stream_chat, chat_completions",
    "construct ChatWorkersAI",
    "construct WorkersAI",
    "import langchain_cfai, added to langchain_core.language_models.chat_models",
    "import llamaindex_cfai, added to llama_index.core.llms",
    "ChatWorkersAI: TCP connections for 20 sequential calls (invoke, sync)",
    "WorkersAI: TCP connections for 20 sequential calls (achat, async)",
    "ChatWorkersAI: 200 ainvoke at concurrency 20",
    "WorkersAI: 200 ainvoke at concurrency 20",
    "ChatWorkersAI, sync: memory still allocated after 300 calls",
    "WorkersAI, async: memory still allocated after 300 calls",
)
ALTERNATIVES = ("ChatOpenAI", "ChatCloudflareWorkersAI", "OpenAIResponses")


def _rows(report: str) -> dict[str, list[str]]:
    """Table rows by their first cell."""
    cells = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in report.splitlines()]
    return {row[0]: row[1:] for row in cells if len(row) == 5 and row[0] not in ("measurement", "---")}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    output = tmp_path_factory.mktemp("bench") / "performance.md"
    return run.main(["--quick", "--skip-alternatives", "--output", str(output)]), output


def test_quick_run_reports_every_cfai_row(report: tuple[str, Path]) -> None:
    text, _ = report
    rows = _rows(text)
    missing = [label for label in EXPECTED_ROWS if label not in rows]
    assert not missing, f"rows missing from the report: {missing}"
    unmeasured = {label: rows[label] for label in EXPECTED_ROWS if rows[label][0] == "n/a"}
    assert not unmeasured, f"rows the harness could not measure: {unmeasured}"


def test_quick_run_marks_targets_and_writes_the_file(report: tuple[str, Path]) -> None:
    text, output = report
    assert output.read_text(encoding="utf-8") == text
    assert text.startswith("## Performance")
    assert "**Targets:" in text
    verdicts = [cells[-1] for cells in _rows(text).values() if cells[-2]]
    assert verdicts and all(verdict in ("pass", "**FAIL**") for verdict in verdicts)


def test_skip_alternatives_leaves_them_out(report: tuple[str, Path]) -> None:
    text, _ = report
    assert not [label for label in _rows(text) if label.startswith(ALTERNATIVES)]
