"""Section 3: what a user pays before the first call: constructing a model object, and importing the package.

Construction is timed in process, interleaved, with the arguments a user writes (model, token, base URL) and no
injected HTTP clients, so eager client construction shows. Import time is measured in fresh interpreters, one per
sample: each child imports the framework's own module first, then the integration, and reports both durations, so
"what the integration adds" is measured in the same process on top of an already-imported framework.
"""

from __future__ import annotations

import functools
import json
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.canned import API_TOKEN, MOCK_ROOT, MOCK_V1_URL
from benchmarks.contenders import (
    CHAT_CLOUDFLARE,
    CHAT_OPENAI,
    CHAT_WORKERS_AI,
    OPENAI_RESPONSES,
    WORKERS_AI,
    Endpoint,
    Unavailable,
    chat_cloudflare,
    chat_openai,
    chat_workers_ai,
    openai_responses,
    workers_ai,
)
from benchmarks.report import Row, Section
from benchmarks.timing import interleave, microseconds, milliseconds

CONSTRUCTION_LIMIT = 1e-3
IMPORT_LIMIT = 0.060
ROOT = Path(__file__).resolve().parent.parent

_CONSTRUCTORS: dict[str, Callable[[Endpoint], object]] = {
    CHAT_WORKERS_AI: chat_workers_ai,
    WORKERS_AI: workers_ai,
    CHAT_OPENAI: chat_openai,
    CHAT_CLOUDFLARE: chat_cloudflare,
    OPENAI_RESPONSES: openai_responses,
}
_OURS = (CHAT_WORKERS_AI, WORKERS_AI)


@dataclass(frozen=True)
class ImportCase:
    """Import `framework`, then `integration` (if any), in a fresh interpreter."""

    framework: str
    integration: str | None = None
    limit: float | None = None

    @property
    def label(self) -> str:
        if self.integration is None:
            return f"import {self.framework}"
        return f"import {self.integration}, added to {self.framework}"


# langchain-core 1.x imports `langchain_core.language_models` lazily: the package itself loads almost nothing and
# `BaseChatModel` is imported on first access. Every chat-model integration needs `BaseChatModel`, so "what the
# integration adds" is measured on top of `langchain_core.language_models.chat_models`; the literal reading (on top of
# the lazy package) is shown beside it.
LANGCHAIN_BASE = "langchain_core.language_models.chat_models"
IMPORT_CASES = (
    ImportCase("langchain_core.language_models"),
    ImportCase(LANGCHAIN_BASE),
    ImportCase(LANGCHAIN_BASE, "langchain_cfai", IMPORT_LIMIT),
    ImportCase("langchain_core.language_models", "langchain_cfai"),
    ImportCase(LANGCHAIN_BASE, "langchain_openai"),
    ImportCase(LANGCHAIN_BASE, "langchain_cloudflare"),
    ImportCase("llama_index.core.llms"),
    ImportCase("llama_index.core.llms", "llamaindex_cfai", IMPORT_LIMIT),
    ImportCase("llama_index.core.llms", "llama_index.llms.openai"),
    ImportCase("httpx", "cfai.transport"),
)
_ALTERNATIVE_MODULES = ("langchain_openai", "langchain_cloudflare", "llama_index.llms.openai")

_CHILD = """
import importlib, json, sys, time
framework, integration = sys.argv[1], sys.argv[2]
start = time.perf_counter()
importlib.import_module(framework)
middle = time.perf_counter()
if integration:
    importlib.import_module(integration)
print(json.dumps([middle - start, time.perf_counter() - middle]))
"""


def _import_once(case: ImportCase) -> tuple[float, float]:
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, case.framework, case.integration or ""],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else "no output")
    framework, integration = json.loads(completed.stdout)
    return framework, integration


def import_rows(rounds: int, include_alternatives: bool) -> tuple[list[Row], list[str]]:
    cases = [
        case for case in IMPORT_CASES if include_alternatives or case.integration not in _ALTERNATIVE_MODULES
    ]
    samples: dict[ImportCase, list[tuple[float, float]]] = {case: [] for case in cases}
    failures: dict[ImportCase, str] = {}
    warm_up = 1 if rounds > 1 else 0  # a first round warms the bytecode and file caches; a smoke run skips it
    for _ in range(rounds + warm_up):
        for case in cases:
            if case in failures:
                continue
            try:
                samples[case].append(_import_once(case))
            except RuntimeError as error:
                failures[case] = str(error)
    rows = []
    for case in cases:
        target = f"< {milliseconds(case.limit)}" if case.limit else ""
        if case in failures:
            rows.append(Row(case.label, "n/a", failures[case][:200], target, False if case.limit else None))
            continue
        measured = samples[case][warm_up:]
        framework = statistics.median(sample[0] for sample in measured)
        added = statistics.median(sample[1] for sample in measured)
        if case.integration is None:
            rows.append(Row(case.label, milliseconds(framework), "fresh interpreter"))
            continue
        passed = None if case.limit is None else added < case.limit
        rows.append(Row(case.label, milliseconds(added), f"{case.framework} itself {milliseconds(framework)}",
                        target, passed))
    note = f"- Import: {rounds} fresh interpreters per row (after {warm_up} warm-up round), interleaved; medians."
    return rows, [note]


def construction_rows(rounds: int, include_alternatives: bool) -> tuple[list[Row], list[str]]:
    endpoint = Endpoint(MOCK_V1_URL, MOCK_ROOT, API_TOKEN)
    constructors: dict[str, Callable[[], object]] = {}
    missing: dict[str, str] = {}
    for name, construct in _CONSTRUCTORS.items():
        if not include_alternatives and name not in _OURS:
            continue
        try:
            construct(endpoint)
        except Unavailable as error:
            missing[name] = str(error)
            continue
        except Exception as error:
            missing[name] = f"construction failed: {type(error).__name__}: {error}"
            continue
        constructors[name] = functools.partial(construct, endpoint)
    samples = interleave(constructors, rounds=rounds, max_batch=500)
    rows = []
    for name in _CONSTRUCTORS:
        target = f"< {milliseconds(CONSTRUCTION_LIMIT)}" if name in _OURS else ""
        if name in missing:
            rows.append(Row(f"construct {name}", "n/a", missing[name], target, False if target else None))
        elif name in samples:
            median = samples[name].median
            passed = median < CONSTRUCTION_LIMIT if target else None
            rows.append(Row(f"construct {name}", microseconds(median), "model, token, base URL", target, passed))
    return rows, [f"- Construction: {rounds} interleaved rounds; no HTTP clients passed in (eager ones count)."]


def run(*, rounds: int, import_rounds: int, include_alternatives: bool = True) -> Section:
    section = Section("3. Start-up: construction and import time")
    for rows, notes in (
        construction_rows(rounds, include_alternatives),
        import_rows(import_rounds, include_alternatives),
    ):
        section.rows += rows
        section.notes += notes
    return section
