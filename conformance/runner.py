"""Running the scenario matrix against one started server: adapter x scenario x stream mode, one result each.

Every scenario gets a fresh adapter with fresh recording clients (and its own event loop), so that nothing, not
even a pooled connection, carries over from one cell of the table to the next. An exception is a failure with its
type and first line as the reason; warnings the adapters raise are kept, since they often say what went wrong.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from cfai.config import StreamMode
from conformance.adapters import make_driver
from conformance.processes import Target
from conformance.recording import Recorder, recording_clients
from conformance.scenarios import Scenario

ANY_MODE = "any"  # the label of a non-streamed scenario, which no stream mode affects


@dataclass(frozen=True)
class Result:
    server: str
    adapter: str
    mode: str
    scenario: str
    problems: tuple[str, ...]
    warnings: tuple[str, ...]
    seconds: float

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def reason(self) -> str:
        if self.passed:
            return ""
        text = "; ".join(self.problems)
        if self.warnings:
            text += " [warned: " + " | ".join(sorted(set(self.warnings))) + "]"
        return text


def describe(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def run_scenario(
    target: Target, adapter: str, mode: StreamMode, scenario: Scenario, recorder: Recorder
) -> tuple[list[str], list[str]]:
    """(problems, warning messages) of one scenario run with a fresh adapter."""
    sync_client, async_client = recording_clients(recorder)
    driver = make_driver(adapter, target, mode, (sync_client, async_client))

    async def run() -> list[str]:
        try:
            return await scenario.run(driver)
        finally:
            await async_client.aclose()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            problems = asyncio.run(run())
        except Exception as error:  # a failing scenario is a row of the table, not the end of the run
            problems = [describe(error)]
        finally:
            sync_client.close()
    return problems, [str(warning.message).splitlines()[0] for warning in caught if str(warning.message)]


def run_matrix(
    target: Target,
    recorder: Recorder,
    *,
    adapters: Sequence[str],
    scenarios: Sequence[Scenario],
    modes: Sequence[StreamMode],
) -> list[Result]:
    results = []
    for adapter in adapters:
        for scenario in scenarios:
            for mode in modes if scenario.streamed else modes[:1]:
                label = mode if scenario.streamed else ANY_MODE
                recorder.label = f"{target.key} {adapter} {label} {scenario.name}"
                started = time.monotonic()
                problems, caught = run_scenario(target, adapter, mode, scenario, recorder)
                seconds = time.monotonic() - started
                results.append(
                    Result(target.key, adapter, label, scenario.name, tuple(problems), tuple(caught), seconds)
                )
    return results
