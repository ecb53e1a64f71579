"""The one command: `python -m benchmarks.run` (or `python benchmarks/run.py`) runs every section and prints one
Markdown report with each target's pass/fail.

    python -m benchmarks.run                      # full run, a few minutes
    python -m benchmarks.run --quick              # smoke run, seconds; figures are only indicative
    python -m benchmarks.run --output perf.md     # also write the report to a file
    python -m benchmarks.run --sections overhead,startup --skip-alternatives

All traffic stays on this machine: canned replies through httpx.MockTransport, and the emulator on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # `python benchmarks/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import concurrency, memory, overhead, startup, streaming
from benchmarks.report import Section, render

SECTIONS = ("overhead", "streaming", "startup", "concurrency", "memory")


@dataclass(frozen=True)
class Budget:
    """How much repetition each section gets."""

    rounds: int
    import_rounds: int
    stream_rounds: int
    load_calls: int
    load_concurrency: int
    load_rounds: int
    memory_calls: int


FULL = Budget(rounds=25, import_rounds=7, stream_rounds=9, load_calls=2_000, load_concurrency=100, load_rounds=2,
              memory_calls=10_000)
QUICK = Budget(rounds=3, import_rounds=1, stream_rounds=2, load_calls=200, load_concurrency=20, load_rounds=1,
               memory_calls=300)


def _runners(budget: Budget, alternatives: bool) -> dict[str, Callable[[], Section]]:
    return {
        "overhead": lambda: overhead.run(rounds=budget.rounds, include_alternatives=alternatives),
        "streaming": lambda: streaming.run(rounds=budget.stream_rounds, include_alternatives=alternatives),
        "startup": lambda: startup.run(rounds=budget.rounds, import_rounds=budget.import_rounds,
                                       include_alternatives=alternatives),
        "concurrency": lambda: concurrency.run(calls=budget.load_calls, concurrency=budget.load_concurrency,
                                               rounds=budget.load_rounds, include_alternatives=alternatives),
        "memory": lambda: memory.run(calls=budget.memory_calls),
    }


def _keep_traffic_local() -> None:
    # The emulator is on 127.0.0.1; a proxy configured in the environment must not see that traffic.
    hosts = [host for host in os.environ.get("NO_PROXY", "").split(",") if host]
    os.environ["NO_PROXY"] = ",".join([*hosts, "127.0.0.1", "localhost"])
    for name in ("CLOUDFLARE_AI_BASE_URL", "BASE_URL", "OPENAI_BASE_URL", "OPENAI_API_BASE"):
        os.environ.pop(name, None)


def _header(quick: bool, command: str) -> str:
    versions = []
    for package in ("cfai", "langchain-core", "llama-index-core", "httpx", "langchain-openai", "langchain-cloudflare",
                    "llama-index-llms-openai", "openai"):
        try:
            from importlib.metadata import version

            versions.append(f"{package} {version(package)}")
        except Exception:
            versions.append(f"{package} (not installed)")
    mode = "quick smoke run: figures are indicative only" if quick else "full run"
    return "\n".join([
        "## Performance",
        "",
        f"`{command}` ({mode}) on {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs.",
        "",
        "Versions: " + ", ".join(versions) + ".",
    ])


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny repetition counts: a smoke run in seconds")
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
    runners = _runners(QUICK if arguments.quick else FULL, not arguments.skip_alternatives)
    sections = []
    for name in chosen:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        sections.append(runners[name]())
    command = " ".join(["python -m benchmarks.run", *(sys.argv[1:] if argv is None else argv)])
    report = render(sections, _header(arguments.quick, command))
    print(report)
    if arguments.output:
        arguments.output.write_text(report, encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
