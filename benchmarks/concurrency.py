"""Section 4: many `ainvoke` calls at once against the emulator on loopback, each client with its own defaults.

Every contender builds its own HTTP clients here (nothing injected), so connection reuse and pool limits are the
package's own. Per contender and pass: a fresh instance in a fresh event loop, `calls` calls through `concurrency`
workers; throughput, p50/p99 latency, TCP connections the emulator accepted, and (in a second pass under tracemalloc,
so the first is not slowed by it) the peak of Python memory allocated during the run. The emulator runs in a child
process, so its own work is not counted.

Connection reuse: sequential sync and async calls of each adapter must go through one connection.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from benchmarks.contenders import (
    ALTERNATIVES,
    CHAT_WORKERS_AI,
    OURS,
    RAW_HTTPX,
    RAW_HTTPX_KEEP_ALIVE,
    WORKERS_AI,
    Contender,
    Endpoint,
    build,
)
from benchmarks.emulator_process import EmulatorProcess
from benchmarks.report import Row, Section
from cfai.transport import POOL_LIMITS

# The target: the pool cfai's clients create never grows past its own limit.
HTTPX_POOL_SIZE = POOL_LIMITS.max_connections
SEQUENTIAL_CALLS = 20


@dataclass
class LoadResult:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    connections: int = 0
    peak_bytes: int = 0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


async def _load(contender: Contender, calls: int, concurrency: int) -> LoadResult:
    result = LoadResult()
    remaining = iter(range(calls))

    async def worker() -> None:
        for _ in remaining:
            start = time.perf_counter()
            try:
                await contender.ainvoke()
            except Exception as error:
                result.errors.append(f"{type(error).__name__}: {str(error)[:120]}")
                continue
            result.latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - start
    return result


def _fresh(name: str, endpoint: Endpoint) -> Contender:
    built, missing = build([name], endpoint)
    if name not in built:
        raise RuntimeError(missing[name])
    return built[name]


def load_pass(
    name: str, endpoint: Endpoint, emulator: EmulatorProcess, calls: int, concurrency: int, *, trace_memory: bool
) -> LoadResult:
    contender = _fresh(name, endpoint)
    emulator.reset()
    if trace_memory:
        tracemalloc.start()
    try:
        result = asyncio.run(_load(contender, calls, concurrency))
        if trace_memory:
            result.peak_bytes = tracemalloc.get_traced_memory()[1]
    finally:
        if trace_memory:
            tracemalloc.stop()
    result.connections = emulator.connections_opened()
    return result


def sequential_connections(name: str, endpoint: Endpoint, emulator: EmulatorProcess) -> tuple[int, int]:
    """Connections opened by SEQUENTIAL_CALLS sync calls, then by as many async calls in one event loop."""
    contender = _fresh(name, endpoint)
    emulator.reset()
    for _ in range(SEQUENTIAL_CALLS):
        contender.invoke()
    sync = emulator.connections_opened()

    async def calls() -> None:
        for _ in range(SEQUENTIAL_CALLS):
            await contender.ainvoke()

    emulator.reset()
    asyncio.run(calls())
    return sync, emulator.connections_opened()


def _load_row(name: str, runs: Sequence[LoadResult], calls: int, concurrency: int) -> Row:
    timed = [run for run in runs if run.peak_bytes == 0]
    traced = [run for run in runs if run.peak_bytes]
    latencies = [latency for run in timed for latency in run.latencies]
    merged = LoadResult(latencies=latencies)
    throughput = statistics.median(run.throughput for run in timed)
    errors = sum(len(run.errors) for run in runs)
    connections = max(run.connections for run in runs)
    peak = f"; peak memory {max(run.peak_bytes for run in traced) / 2**20:,.1f} MiB" if traced else ""
    context = (
        f"p50 {merged.percentile(0.5) * 1e3:,.1f} ms, p99 {merged.percentile(0.99) * 1e3:,.1f} ms; "
        f"{connections} TCP connections{peak}"
        + (f"; {errors} errors, first: {next(error for run in runs for error in run.errors)}" if errors else "")
    )
    ours = name in OURS
    passed = (connections <= HTTPX_POOL_SIZE and not errors) if ours else None
    target = f"≤ {HTTPX_POOL_SIZE} connections, no errors" if ours else ""
    return Row(f"{name}: {calls:,} ainvoke at concurrency {concurrency}", f"{throughput:,.0f} calls/s", context,
               target, passed)


def _measure_loads(
    names: Sequence[str], endpoint: Endpoint, emulator: EmulatorProcess, *, calls: int, concurrency: int, rounds: int
) -> tuple[dict[str, list[LoadResult]], dict[str, str]]:
    results: dict[str, list[LoadResult]] = {name: [] for name in names}
    failures: dict[str, str] = {}
    passes: list[Callable[[str], LoadResult]] = [
        *(lambda name: load_pass(name, endpoint, emulator, calls, concurrency, trace_memory=False)
          for _ in range(rounds)),
        lambda name: load_pass(name, endpoint, emulator, calls, concurrency, trace_memory=True),
    ]
    for one_pass in passes:  # interleaved: every contender once per pass
        for name in names:
            if name in failures:
                continue
            try:
                results[name].append(one_pass(name))
            except Exception as error:
                failures[name] = f"{type(error).__name__}: {str(error)[:160]}"
    return results, failures


def run(*, calls: int, concurrency: int, rounds: int, include_alternatives: bool = True) -> Section:
    section = Section(f"4. Concurrency against the emulator on loopback ({calls:,} calls, {concurrency} at a time)")
    names = [RAW_HTTPX, RAW_HTTPX_KEEP_ALIVE, *OURS, *(ALTERNATIVES if include_alternatives else ())]
    try:
        emulator = EmulatorProcess().__enter__()
    except Exception as error:
        for name in OURS:
            section.missing(f"{name}: {calls:,} ainvoke at concurrency {concurrency}", f"no emulator: {error}",
                            f"≤ {HTTPX_POOL_SIZE} connections")
        return section
    try:
        address = emulator.address
        endpoint = Endpoint(address["v1_url"], address["root_url"], address["api_token"], address["account_id"])
        for name in OURS:
            section.rows += _sequential_rows(name, endpoint, emulator)
        results, failures = _measure_loads(names, endpoint, emulator, calls=calls, concurrency=concurrency,
                                           rounds=rounds)
    finally:
        emulator.__exit__(None, None, None)
    for name in names:
        if name in failures or not results[name]:
            target = f"≤ {HTTPX_POOL_SIZE} connections" if name in OURS else ""
            section.missing(f"{name}: {calls:,} ainvoke at concurrency {concurrency}",
                            failures.get(name, "not run"), target)
        else:
            section.add(_load_row(name, results[name], calls, concurrency))
    section.notes.append(
        f"- Throughput: median of {rounds} interleaved passes; latency percentiles over all of them; peak memory "
        "(tracemalloc, Python allocations during the run) from one more pass. Every pass uses a fresh instance in a "
        "fresh event loop with the package's own HTTP clients; the emulator runs in a child process."
    )
    return section


def _sequential_rows(name: str, endpoint: Endpoint, emulator: EmulatorProcess) -> list[Row]:
    label = f"{name}: TCP connections for {SEQUENTIAL_CALLS} sequential calls"
    try:
        sync, asynchronous = sequential_connections(name, endpoint, emulator)
    except Exception as error:
        return [Row(label, "n/a", f"{type(error).__name__}: {str(error)[:160]}", "1", False)]
    method = "invoke" if name == CHAT_WORKERS_AI else "chat" if name == WORKERS_AI else "call"
    return [
        Row(f"{label} ({method}, sync)", str(sync), "", "1", sync == 1),
        Row(f"{label} (a{method}, async)", str(asynchronous), "one event loop", "1", asynchronous == 1),
    ]
