"""The one command: `python -m benchmarks.run` (or `python benchmarks/run.py`) runs every section and prints one
Markdown report with each target's pass/fail.

    python -m benchmarks.run                      # full run, several minutes
    python -m benchmarks.run --smoke              # every section with tiny budgets, seconds; figures indicative only
    python -m benchmarks.run --output perf.md     # also write the report to a file
    python -m benchmarks.run --sections overhead,startup --skip-alternatives

All traffic stays on this machine: canned replies through httpx.MockTransport, and a canned HTTP server on
127.0.0.1 in a child process.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # `python benchmarks/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import concurrency, conversation, memory, overhead, startup, streaming, transports
from benchmarks.report import Section, render

SECTIONS = ("overhead", "streaming", "conversation", "startup", "concurrency", "transports", "memory")


@dataclass(frozen=True)
class Budget:
    """How much repetition each section gets."""

    rounds: int
    stream_rounds: int
    stream_tokens: int
    conversation_rounds: int
    import_rounds: int
    load_calls: int
    load_streams: int
    load_concurrency: int
    load_rounds: int
    memory_calls: int
    memory_rounds: int
    batch_seconds: float
    smoke: bool = False


FULL = Budget(
    rounds=25,
    stream_rounds=9,
    stream_tokens=4_000,
    conversation_rounds=15,
    import_rounds=7,
    load_calls=1_000,
    load_streams=200,
    load_concurrency=100,
    load_rounds=3,
    memory_calls=5_000,
    memory_rounds=3,
    batch_seconds=0.05,
)
SMOKE = Budget(
    rounds=1,
    stream_rounds=1,
    stream_tokens=200,
    conversation_rounds=1,
    import_rounds=1,
    load_calls=40,
    load_streams=10,
    load_concurrency=10,
    load_rounds=1,
    memory_calls=20,
    memory_rounds=1,
    batch_seconds=0.002,
    smoke=True,
)
SMOKE_EVENTS = 40


def _runners(budget: Budget, alternatives: bool, imports: startup.ImportTimes) -> dict[str, Callable[[], Section]]:
    return {
        "overhead": lambda: overhead.run(
            rounds=budget.rounds, include_alternatives=alternatives, batch_seconds=budget.batch_seconds
        ),
        "streaming": lambda: streaming.run(
            rounds=budget.stream_rounds,
            include_alternatives=alternatives,
            reasoning_tokens=budget.stream_tokens // 4,
            text_tokens=budget.stream_tokens - budget.stream_tokens // 4,
            long_event_bytes=streaming.LONG_EVENT_BYTES if not budget.smoke else 200_000,
        ),
        "conversation": lambda: conversation.run(
            rounds=budget.conversation_rounds, batch_seconds=budget.batch_seconds * 2
        ),
        "startup": lambda: startup.run(
            rounds=budget.rounds, imports=imports, include_alternatives=alternatives, batch_seconds=budget.batch_seconds
        ),
        "concurrency": lambda: concurrency.run(
            calls=budget.load_calls,
            concurrency=budget.load_concurrency,
            rounds=budget.load_rounds,
            include_alternatives=alternatives,
        ),
        "transports": lambda: transports.run(
            calls=budget.load_calls,
            streams=budget.load_streams,
            concurrency=budget.load_concurrency,
            rounds=budget.load_rounds,
            events=SMOKE_EVENTS if budget.smoke else transports.EVENTS,
        ),
        "memory": lambda: memory.run(
            calls=budget.memory_calls, rounds=budget.memory_rounds, include_floors=not budget.smoke
        ),
    }


def _keep_traffic_local() -> None:
    # Every server is on 127.0.0.1; a proxy configured in the environment must not see that traffic.
    hosts = [host for host in os.environ.get("NO_PROXY", "").split(",") if host]
    os.environ["NO_PROXY"] = ",".join([*hosts, "127.0.0.1", "localhost"])
    for name in ("CLOUDFLARE_AI_BASE_URL", "BASE_URL", "OPENAI_BASE_URL", "OPENAI_API_BASE"):
        os.environ.pop(name, None)


def _header(smoke: bool, command: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    versions = []
    for package in (
        "cfai",
        "langchain-core",
        "llama-index-core",
        "httpx",
        "aiohttp",
        "orjson",
        "httpx-aiohttp",
        "langchain-openai",
        "langchain-cloudflare",
        "llama-index-llms-openai",
        "openai",
    ):
        try:
            versions.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            versions.append(f"{package} (not installed)")
    mode = "smoke run: figures are indicative only" if smoke else "full run"
    return "\n".join(
        [
            "## Performance",
            "",
            f"`{command}` ({mode}) on {platform.python_implementation()} {platform.python_version()}, "
            f"{platform.machine()}, {os.cpu_count()} CPUs.",
            "",
            "Versions: " + ", ".join(versions) + ".",
        ]
    )


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="every section with tiny budgets, in seconds: checks the harness, not the speed",
    )
    parser.add_argument("--output", type=Path, help="also write the Markdown report to this file")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    parser.add_argument(
        "--skip-alternatives",
        action="store_true",
        help="only cfai and the floors (no langchain-openai, langchain-cloudflare, llama-index-llms-openai)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> str:
    arguments = parse(argv)
    chosen = [name.strip() for name in arguments.sections.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        raise SystemExit(f"unknown sections: {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    _keep_traffic_local()
    budget = SMOKE if arguments.smoke else FULL
    alternatives = not arguments.skip_alternatives
    imports = startup.ImportTimes(budget.import_rounds, alternatives, shared=budget.smoke)
    if budget.smoke and "startup" in chosen:
        imports.start()  # fresh interpreters on the side, while the other sections run
    runners = _runners(budget, alternatives, imports)
    # A smoke run measures imports on the side from the start and reads them last, so that waiting for the fresh
    # interpreter overlaps every other section; the report keeps the sections' order.
    order = sorted(chosen, key=lambda name: budget.smoke and name == "startup")
    done: dict[str, Section] = {}
    for name in order:
        print(f"running {name} ...", end=" ", file=sys.stderr, flush=True)
        started = time.perf_counter()
        if name == "startup" and not budget.smoke:
            imports.start()
        # The last section's garbage goes now, while no event loop runs: the openai SDK closes a collected async
        # client on whichever loop is running, and a later section's loop would be closed before that finishes.
        gc.collect()
        if budget.smoke:
            # Everything alive so far (the frameworks, once imported) is left out of later collections, which
            # otherwise take most of a smoke run; a full run keeps the collector's whole cost, as programs pay it.
            gc.freeze()
        done[name] = runners[name]()
        print(f"{time.perf_counter() - started:,.1f} s", file=sys.stderr, flush=True)
    sections = [done[name] for name in chosen]
    command = " ".join(["python -m benchmarks.run", *(sys.argv[1:] if argv is None else argv)])
    report = render(sections, _header(budget.smoke, command))
    print(report)
    if arguments.output:
        arguments.output.write_text(report, encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
