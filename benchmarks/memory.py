"""Section 7: memory across many calls through `httpx.MockTransport`: whatever a call leaves behind shows here.

After a warm-up (caches, lazily created clients, interned strings), Python memory still allocated is read with
tracemalloc before and after `calls` further calls, each time after a full garbage collection. The smallest object
Python allocates takes 16 bytes, so one leaked per call adds up to 80 KB over the full run's 5,000 calls; the target
allows 64 KiB in total, which covers allocator noise and nothing per call. (Calls under tracemalloc are slow: three
rounds of 5,000 calls per contender keep the section to a few minutes.)
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import tracemalloc
from collections.abc import Sequence

from benchmarks.contenders import CANNED_CHAT, CHAT_WORKERS_AI, FAKE_CHAT, WORKERS_AI, Contender
from benchmarks.overhead import checked_contenders, mock_endpoint
from benchmarks.report import Row, Section, spread
from benchmarks.timing import rotated

GROWTH_LIMIT_BYTES = 64 * 1024
WARM_UP_CALLS = 300


def _settled_bytes() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def growth(contender: Contender, calls: int, *, asynchronous: bool) -> int:
    """Bytes still allocated after `calls` calls, compared with before them."""

    async def many(count: int) -> None:
        for _ in range(count):
            await contender.ainvoke()

    def run(count: int) -> None:
        if asynchronous:
            asyncio.run(many(count))
        else:
            for _ in range(count):
                contender.invoke()

    tracemalloc.start()
    try:
        run(min(WARM_UP_CALLS, calls))
        before = _settled_bytes()
        run(calls)
        return _settled_bytes() - before
    finally:
        tracemalloc.stop()


OURS = (CHAT_WORKERS_AI, WORKERS_AI)
FLOORS = (FAKE_CHAT, CANNED_CHAT)


def run(*, calls: int, rounds: int, include_floors: bool = True) -> Section:
    names: Sequence[str] = (*OURS, *FLOORS) if include_floors else OURS
    section = Section(f"7. Memory growth across {calls:,} calls (httpx.MockTransport)")
    contenders, missing = checked_contenders(names, mock_endpoint())
    cases = [(name, asynchronous) for name in names if name in contenders for asynchronous in (False, True)]
    grown: dict[tuple[str, bool], list[int]] = {case: [] for case in cases}
    for round_number in range(rounds):
        for name, asynchronous in rotated(cases, round_number):
            grown[name, asynchronous].append(growth(contenders[name], calls, asynchronous=asynchronous))
    for name in names:
        ours = name in OURS
        target = f"< {GROWTH_LIMIT_BYTES // 1024} KiB" if ours else ""
        for asynchronous in (False, True):
            label = f"{name}, {'async' if asynchronous else 'sync'}: memory still allocated after {calls:,} calls"
            if name not in contenders:
                section.missing(label, missing.get(name, "not run"), target)
                continue
            values = grown[name, asynchronous]
            median = statistics.median(values)
            passed = max(values) < GROWTH_LIMIT_BYTES if ours else None
            section.add(
                Row(label, _kib(median), f"{median / calls:+,.1f} bytes per call", spread(values, _kib), target, passed)
            )
    section.notes.append(
        f"- tracemalloc, after {min(WARM_UP_CALLS, calls)} warm-up calls and a full collection; {rounds} rounds, "
        "order rotating; a target holds only if every round is under it; the floors are shown for context."
    )
    return section


def _kib(size: float) -> str:
    return f"{size / 1024:+,.1f} KiB"
