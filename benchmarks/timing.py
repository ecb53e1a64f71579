"""Interleaved timing: every contender runs one batch per round (A, B, C, A, B, C, ...), so drift in the machine's
speed (thermal, noisy neighbours, the garbage collector) hits all of them alike; results are per-round medians.
The order rotates every round (B, C, A, then C, A, B, ...) because the first batch of a round was seen to run
slower, whoever it belonged to.

A batch is sized once per contender so that it lasts about `batch_seconds`, which keeps the timer's resolution and
the loop's own cost negligible for the fastest contenders without making the slowest ones take minutes.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
SyncCall = Callable[[], object]
AsyncCall = Callable[[], Awaitable[object]]


@dataclass
class Samples:
    """Seconds per call, one value per round."""

    per_call: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.per_call)


def round_ratios(numerator: Samples, denominators: Sequence[Samples]) -> list[float]:
    """numerator / sum(denominators) per round, each pair taken from the same round."""
    return [
        top / sum(samples.per_call[index] for samples in denominators) for index, top in enumerate(numerator.per_call)
    ]


def median_ratio(numerator: Samples, denominators: Sequence[Samples]) -> float:
    """Median over rounds of numerator / sum(denominators), each pair taken from the same round."""
    return statistics.median(round_ratios(numerator, denominators))


def _batch_size(seconds_per_call: float, batch_seconds: float, max_batch: int) -> int:
    return max(1, min(max_batch, int(batch_seconds / max(seconds_per_call, 1e-9))))


def _time_sync_batch(call: SyncCall, size: int) -> float:
    start = time.perf_counter()
    for _ in range(size):
        call()
    return (time.perf_counter() - start) / size


async def _time_async_batch(call: AsyncCall, size: int) -> float:
    start = time.perf_counter()
    for _ in range(size):
        await call()
    return (time.perf_counter() - start) / size


def rotated(names: Sequence[T], round_number: int) -> list[T]:
    """The order of a round: everyone moves one place forward each round, so no one is always first or last."""
    shift = round_number % len(names) if names else 0
    return [*names[shift:], *names[:shift]]


def interleave(
    calls: Mapping[str, SyncCall], *, rounds: int, batch_seconds: float = 0.05, max_batch: int = 2_000
) -> dict[str, Samples]:
    """Times each call in interleaved, rotating rounds after one untimed warm-up call."""
    sizes = {name: _batch_size(_time_sync_batch(call, 1), batch_seconds, max_batch) for name, call in calls.items()}
    samples = {name: Samples() for name in calls}
    gc.collect()
    for round_number in range(rounds):
        for name in rotated(list(calls), round_number):
            samples[name].per_call.append(_time_sync_batch(calls[name], sizes[name]))
    return samples


async def ainterleave(
    calls: Mapping[str, AsyncCall], *, rounds: int, batch_seconds: float = 0.05, max_batch: int = 2_000
) -> dict[str, Samples]:
    """The async mirror of `interleave`: sequential awaits in one event loop."""
    sizes = {}
    for name, call in calls.items():
        sizes[name] = _batch_size(await _time_async_batch(call, 1), batch_seconds, max_batch)
    samples = {name: Samples() for name in calls}
    gc.collect()
    for round_number in range(rounds):
        for name in rotated(list(calls), round_number):
            samples[name].per_call.append(await _time_async_batch(calls[name], sizes[name]))
    return samples


def run_async(calls: Mapping[str, AsyncCall], *, rounds: int, batch_seconds: float = 0.05) -> dict[str, Samples]:
    return asyncio.run(ainterleave(calls, rounds=rounds, batch_seconds=batch_seconds))


def microseconds(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs"


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms"
