"""Section 4: what a user pays before the first call: constructing a model object, and importing the package.

Construction is timed in process, interleaved, with the arguments a user writes (model, token, base URL) and no
injected HTTP clients, so eager client construction shows. Import time is measured in fresh interpreters: each child
imports the framework's own module first, then the integration, and reports both durations, so what the
integration adds is measured on top of an already-imported framework and shown as a ratio to the framework's own
import (an absolute figure alone says little on a machine of unknown speed).

A framework's import can leave a full garbage collection due: after LangChain's chat models, the next few thousand
allocations, by anyone, trigger a collection of LangChain's whole heap, which can take longer than an integration's
own import work. That collection is the framework's and would land on whichever import comes next; so each child runs
a full collection (`gc.collect()`) right after the framework's import and counts it in the framework's time. The
targeted cases are also measured without it, in rows of their own with no target, so that nothing is hidden.
"""

from __future__ import annotations

import functools
import json
import statistics
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
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
from benchmarks.report import Row, Section, ratio, spread
from benchmarks.timing import interleave, microseconds, milliseconds, rotated

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
    """Import `framework`, then `integration` (if any), in a fresh interpreter; `collect`: run the garbage
    collection the framework's import left due before the integration's import, as part of the framework's time."""

    framework: str
    integration: str | None = None
    limit: float | None = None
    collect: bool = True

    @property
    def label(self) -> str:
        if self.integration is None:
            return f"import {self.framework}"
        label = f"import {self.integration}, ÷ import {self.framework}"
        return label if self.collect else f"{label}, without the framework's pending collection paid first"


# langchain-core 1.x imports `langchain_core.language_models` lazily: the package itself loads almost nothing and
# `BaseChatModel` is imported on first access. Every chat-model integration needs `BaseChatModel`, so "what the
# integration adds" is measured on top of `langchain_core.language_models.chat_models`; the literal reading (on top of
# the lazy package) is shown beside it.
LANGCHAIN_BASE = "langchain_core.language_models.chat_models"
IMPORT_CASES = (
    ImportCase("langchain_core.language_models"),
    ImportCase(LANGCHAIN_BASE),
    # The adapters' packages load their classes on first use, so the cases import the modules that define them.
    ImportCase(LANGCHAIN_BASE, "langchain_cfai.chat_models", IMPORT_LIMIT),
    ImportCase(LANGCHAIN_BASE, "langchain_cfai.chat_models", collect=False),
    ImportCase("langchain_core.language_models", "langchain_cfai.chat_models"),
    ImportCase(LANGCHAIN_BASE, "langchain_openai"),
    ImportCase(LANGCHAIN_BASE, "langchain_cloudflare"),
    ImportCase("llama_index.core.llms"),
    ImportCase("llama_index.core.llms", "llamaindex_cfai.llm", IMPORT_LIMIT),
    ImportCase("llama_index.core.llms", "llamaindex_cfai.llm", collect=False),
    ImportCase("llama_index.core.llms", "llama_index.llms.openai"),
    ImportCase("httpx", "cfai.transport"),
)
_ALTERNATIVE_MODULES = ("langchain_openai", "langchain_cloudflare", "llama_index.llms.openai")

# The child writes the bytecode caches it finds missing or stale, even where PYTHONDONTWRITEBYTECODE is set: the
# warm-up round fills them, and the measured rounds read them, as an installed package's imports do. Without that,
# every child would compile from source each module edited since its cache was last written.
_CHILD = """
import gc, importlib, json, os, sys, time
sys.dont_write_bytecode = False
if sys.argv[1] == "nice" and hasattr(os, "nice"):
    os.nice(10)
times = []
for case in sys.argv[2:]:
    framework, integration, collect = case.split(",")
    start = time.perf_counter()
    importlib.import_module(framework)
    if collect:
        gc.collect()
    middle = time.perf_counter()
    if integration:
        importlib.import_module(integration)
    times.append([middle - start, time.perf_counter() - middle])
print(json.dumps(times))
"""


def _import_in_child(cases: Sequence[ImportCase], *, nice: bool = False) -> list[tuple[float, float]]:
    """(framework seconds, integration seconds) of each case, in one fresh interpreter, in order.

    `nice`: the child lowers its priority, so that it takes what CPU the rest of a smoke run leaves.
    """
    arguments = [f"{case.framework},{case.integration or ''},{'collect' if case.collect else ''}" for case in cases]
    priority = "nice" if nice else "normal"
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, priority, *arguments], capture_output=True, text=True, cwd=ROOT, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else "no output")
    return [(framework, integration) for framework, integration in json.loads(completed.stdout)]


class ImportTimes:
    """Import times measured in fresh interpreters on a thread of their own, so that a smoke run can overlap them
    with the other sections (`start` early, `rows` at the end); a full run starts and reads them in turn.

    Full run: one interpreter per case and round, cases in an order that rotates every round, after a warm-up round
    that fills the bytecode and file caches. Smoke run (`shared=True`): one interpreter, at a low priority, imports
    cfai's cases in turn, once, so later cases find shared dependencies already loaded: figures only indicative.
    """

    def __init__(self, rounds: int, include_alternatives: bool, *, shared: bool = False) -> None:
        self.cases = [
            case
            for case in IMPORT_CASES
            if (include_alternatives or case.integration not in _ALTERNATIVE_MODULES)
            and (not shared or case.limit is not None)
        ]
        self.rounds = rounds
        self.shared = shared
        self.samples: dict[ImportCase, list[tuple[float, float]]] = {case: [] for case in self.cases}
        self.failures: dict[ImportCase, str] = {}
        self._thread = threading.Thread(target=self._measure, daemon=True)

    def start(self) -> ImportTimes:
        self._thread.start()
        return self

    def _measure(self) -> None:
        if self.shared:
            try:
                for case, sample in zip(self.cases, _import_in_child(self.cases, nice=True), strict=True):
                    self.samples[case].append(sample)
            except RuntimeError as error:
                self.failures = dict.fromkeys(self.cases, str(error))
            return
        for round_number in range(-1, self.rounds):  # round -1 only warms the caches
            for case in rotated(self.cases, max(round_number, 0)):
                if case in self.failures:
                    continue
                try:
                    sample = _import_in_child([case])[0]
                except RuntimeError as error:
                    self.failures[case] = str(error)
                    continue
                if round_number >= 0:
                    self.samples[case].append(sample)

    def rows(self) -> tuple[list[Row], list[str]]:
        self._thread.join()
        rows = [self._row(case) for case in self.cases]
        how = (
            "one interpreter importing every case in turn, once (smoke run: shared dependencies load only once)"
            if self.shared
            else f"{self.rounds} fresh interpreters per row after a warm-up round, order rotating"
        )
        collection = (
            "- A framework's import time includes a full garbage collection run right after it (`gc.collect()`): the "
            "one its import may have left due, which would land on whichever import comes next."
        )
        if not all(case.collect for case in self.cases):
            collection += " The rows without the framework's pending collection paid first leave it to the integration."
        return rows, [f"- Import: {how}; medians (min to max) of the ratio to the framework's own import.", collection]

    def _row(self, case: ImportCase) -> Row:
        target = f"< {milliseconds(case.limit)} added" if case.limit else ""
        if case in self.failures:
            return Row(
                case.label, "n/a", self.failures[case][:200], target=target, passed=False if case.limit else None
            )
        measured = self.samples[case]
        framework = statistics.median(sample[0] for sample in measured)
        if case.integration is None:
            return Row(
                case.label,
                milliseconds(framework),
                "fresh interpreter",
                spread([sample[0] for sample in measured], milliseconds),
            )
        added = statistics.median(sample[1] for sample in measured)
        ratios = [sample[1] / sample[0] for sample in measured]
        passed = None if case.limit is None else added < case.limit
        context = f"{milliseconds(added)} on top of {case.framework}'s own {milliseconds(framework)}"
        if not case.collect:
            context += ", its pending collection left to the integration"
        return Row(case.label, ratio(statistics.median(ratios)), context, spread(ratios), target, passed)


def construction_rows(rounds: int, include_alternatives: bool, batch_seconds: float) -> tuple[list[Row], list[str]]:
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
    samples = interleave(constructors, rounds=rounds, batch_seconds=batch_seconds, max_batch=500)
    rows = []
    for name in _CONSTRUCTORS:
        target = f"< {milliseconds(CONSTRUCTION_LIMIT)}" if name in _OURS else ""
        if name in missing:
            rows.append(Row(f"construct {name}", "n/a", missing[name], target=target, passed=False if target else None))
        elif name in samples:
            median = samples[name].median
            passed = median < CONSTRUCTION_LIMIT if target else None
            rows.append(
                Row(
                    f"construct {name}",
                    microseconds(median),
                    "model, token, base URL",
                    spread(samples[name].per_call, microseconds),
                    target,
                    passed,
                )
            )
    return rows, [f"- Construction: {rounds} rounds, order rotating; no HTTP clients passed in (eager ones count)."]


def run(
    *, rounds: int, imports: ImportTimes, include_alternatives: bool = True, batch_seconds: float = 0.05
) -> Section:
    section = Section("4. Start-up: construction and import time")
    for rows, notes in (
        construction_rows(rounds, include_alternatives, batch_seconds),
        imports.rows(),
    ):
        section.rows += rows
        section.notes += notes
    return section
