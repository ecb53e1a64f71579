"""Many calls at once in one event loop, against the canned socket server: throughput, latency, CPU on both sides.

`run_load` sends `calls` calls through `concurrency` workers and times each; the process's CPU time over the run is
the client's (every thread of this process counts, so a client that hops to a thread pool pays for it), and the
server's comes from its own process (`benchmarks.socket_server`), read before and after.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from benchmarks.socket_server import ServerStats, SocketServer


@dataclass
class LoadResult:
    """One contender's run of `calls` calls."""

    seconds: float = 0.0
    client_cpu: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    server: ServerStats | None = None

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def completed(self) -> int:
        return len(self.latencies)


async def run_load(call: Callable[[], Awaitable[object]], calls: int, concurrency: int) -> LoadResult:
    result = LoadResult()
    remaining = iter(range(calls))

    async def worker() -> None:
        for _ in remaining:
            start = time.perf_counter()
            try:
                await call()
            except Exception as error:
                result.errors.append(f"{type(error).__name__}: {str(error)[:120]}")
                continue
            result.latencies.append(time.perf_counter() - start)

    cpu, start = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - start
    result.client_cpu = time.process_time() - cpu
    return result


async def measured(
    server: SocketServer, call: Callable[[], Awaitable[object]], calls: int, concurrency: int
) -> LoadResult:
    """`run_load` with the server's counters reset before and read after."""
    server.reset()
    result = await run_load(call, calls, concurrency)
    result.server = server.stats()
    return result


def percentile(latencies: Sequence[float], fraction: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


@dataclass(frozen=True)
class LoadSummary:
    """A contender's rounds, summed up for a report row: medians over rounds, latencies over all calls."""

    throughputs: list[float]
    p50: float
    p99: float
    client_cpu_per_call: float
    server_cpu_per_call: float
    connections_used: int
    connections_opened: int
    errors: list[str]

    @property
    def throughput(self) -> float:
        return statistics.median(self.throughputs)


def summarise(runs: Sequence[LoadResult]) -> LoadSummary:
    latencies = [latency for run in runs for latency in run.latencies]
    servers = [run.server for run in runs if run.server is not None]
    return LoadSummary(
        throughputs=[run.throughput for run in runs],
        p50=percentile(latencies, 0.5),
        p99=percentile(latencies, 0.99),
        client_cpu_per_call=statistics.median(run.client_cpu / max(run.completed, 1) for run in runs),
        server_cpu_per_call=statistics.median(server.cpu / max(server.requests, 1) for server in servers),
        connections_used=max((server.used for server in servers), default=0),
        connections_opened=sum(server.opened for server in servers),
        errors=[error for run in runs for error in run.errors],
    )


def load_context(summary: LoadSummary, unit: str = "call") -> str:
    errors = f"; {len(summary.errors)} errors, first: {summary.errors[0]}" if summary.errors else ""
    return (
        f"p50 {summary.p50 * 1e3:,.1f} ms, p99 {summary.p99 * 1e3:,.1f} ms; "
        f"client CPU {summary.client_cpu_per_call * 1e3:,.2f} ms/{unit}, "
        f"server CPU {summary.server_cpu_per_call * 1e3:,.3f} ms/{unit}; "
        f"{summary.connections_used} TCP connections used, {summary.connections_opened} opened{errors}"
    )
