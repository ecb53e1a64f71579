"""The benchmark harness runs every section end to end (`--smoke`) and reports every cfai row measured; no timing
is asserted (machines are noisy, and speed claims belong to the full run)."""

from __future__ import annotations

from pathlib import Path

import pytest

# `--skip-alternatives` needs only the dev extra, so the harness is exercised by every test run, CI included;
# the alternatives (the bench extra) are measured by the full command.
from benchmarks import run

pytestmark = pytest.mark.long

# Row labels start with these; what follows can carry the run's budget (call counts, concurrency).
EXPECTED_ROWS = (
    "ChatWorkersAI ÷ (raw httpx, prebuilt request + FakeListChatModel), sync invoke/chat",
    "ChatWorkersAI ÷ (raw httpx, prebuilt request + FakeListChatModel), async ainvoke/achat",
    "WorkersAI ÷ (raw httpx, prebuilt request + LlamaIndex canned chat), sync invoke/chat",
    "WorkersAI ÷ (raw httpx, prebuilt request + LlamaIndex canned chat), async ainvoke/achat",
    "cfai WorkersAIClient ÷ (raw httpx, prebuilt request), sync invoke/chat",
    "ChatWorkersAI.stream, chat_completions: reasoning kept across the stream",
    "WorkersAI.stream_chat, chat_completions: reasoning kept across the stream",
    "ChatWorkersAI.stream, buffered: CPU per chunk",
    "ChatWorkersAI.stream, chat_completions: CPU per chunk",
    "WorkersAI.stream_chat, chat_completions: CPU per chunk",
    "ChatWorkersAI.invoke ÷ (json.dumps(request) + json.loads(reply))",
    "WorkersAI.chat ÷ (json.dumps(request) + json.loads(reply))",
    "langchain_cfai.convert.to_responses_input alone per call",
    "llamaindex_cfai.convert.to_input_items alone per call",
    "LangChain alone: FakeListChatModel.invoke of the same messages per call",
    "LlamaIndex alone: a canned LLM's chat of the same messages per call",
    "ChatWorkersAI.invoke ÷ (json.dumps(request) + json.loads(reply) + LangChain alone)",
    "WorkersAI.chat ÷ (json.dumps(request) + json.loads(reply) + LlamaIndex alone)",
    "construct ChatWorkersAI",
    "construct WorkersAI",
    "import langchain_cfai.chat_models, ÷ import langchain_core.language_models.chat_models",
    "import llamaindex_cfai.llm, ÷ import llama_index.core.llms",
    "ChatWorkersAI: TCP connections for 20 sequential calls (invoke, sync)",
    "WorkersAI: TCP connections for 20 sequential calls (achat, async)",
    "ChatWorkersAI ÷ raw aiohttp, calls/s at concurrency",
    "WorkersAI ÷ raw aiohttp, calls/s at concurrency",
    "raw aiohttp, then FakeListChatModel ÷ raw aiohttp, calls/s at concurrency",
    "ChatWorkersAI ÷ raw aiohttp, then FakeListChatModel, calls/s at concurrency",
    "WorkersAI ÷ raw aiohttp, then LlamaIndex canned chat, calls/s at concurrency",
    "ChatWorkersAI: ",
    "WorkersAI: ",
    "raw aiohttp: ",
    "httpx, 100-connection pool: ",
    "aiohttp ClientSession: ",
    "ChatWorkersAI, sync: memory still allocated",
    "WorkersAI, async: memory still allocated",
)
ALTERNATIVES = ("ChatOpenAI", "ChatCloudflareWorkersAI", "OpenAIResponses")
SECTION_TITLES = ("### 1. ", "### 2. ", "### 3. ", "### 4. ", "### 5. ", "### 6. ", "### 7. ")


def _rows(report: str) -> dict[str, list[str]]:
    """Table rows by their first cell."""
    cells = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in report.splitlines()]
    return {row[0]: row[1:] for row in cells if len(row) == 6 and row[0] not in ("measurement", "---")}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    output = tmp_path_factory.mktemp("bench") / "performance.md"
    return run.main(["--smoke", "--skip-alternatives", "--output", str(output)]), output


def test_smoke_run_reports_every_cfai_row_measured(report: tuple[str, Path]) -> None:
    text, _ = report
    rows = _rows(text)
    found = {prefix: [label for label in rows if label.startswith(prefix)] for prefix in EXPECTED_ROWS}
    missing = [prefix for prefix, labels in found.items() if not labels]
    assert not missing, f"rows missing from the report: {missing}"
    unmeasured = {label: rows[label] for labels in found.values() for label in labels if rows[label][0] == "n/a"}
    assert not unmeasured, f"rows the harness could not measure: {unmeasured}"


def test_smoke_run_has_every_section_and_marks_targets(report: tuple[str, Path]) -> None:
    text, output = report
    assert output.read_text(encoding="utf-8") == text
    assert text.startswith("## Performance")
    assert [title for title in SECTION_TITLES if title not in text] == []
    assert "**Targets:" in text
    verdicts = [cells[-1] for cells in _rows(text).values() if cells[-2]]
    assert verdicts and all(verdict in ("pass", "**FAIL**") for verdict in verdicts)


def test_the_long_conversation_reaches_each_adapter_as_the_floor_sends_it(report: tuple[str, Path]) -> None:
    rows = _rows(report[0])
    for label in (
        "ChatWorkersAI.invoke ÷ (json.dumps(request) + json.loads(reply))",
        "WorkersAI.chat ÷ (json.dumps(request) + json.loads(reply))",
    ):
        assert "the same items as the floor's" in rows[label][2], rows[label]


def test_skip_alternatives_leaves_them_out(report: tuple[str, Path]) -> None:
    text, _ = report
    assert not [label for label in _rows(text) if label.startswith(ALTERNATIVES)]
