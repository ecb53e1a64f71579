"""`python -m conformance`: start each third-party server, run both adapters through the scenarios, print the table.

Exit status: 0 when every scenario passed, 1 when some failed, 2 when a server could not be started, 130 when
interrupted (Ctrl-C or SIGTERM; the servers are stopped first).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from types import FrameType
from typing import get_args

from cfai.config import StreamMode
from conformance.adapters import ADAPTERS
from conformance.emulator_server import emulator_server
from conformance.fixtures import FIXTURES, write_captures
from conformance.gpt_oss_server import gpt_oss_server
from conformance.litellm_server import litellm_server
from conformance.processes import ServerStartError, Target
from conformance.recording import Recorder
from conformance.report import counts, table
from conformance.runner import Result, run_matrix
from conformance.scenarios import SCENARIOS

Launcher = Callable[[Path, Path], AbstractContextManager[Target]]
# Server name (also the name of its virtual environment under --venvs) -> its launcher.
SERVERS: dict[str, Launcher] = {"gpt-oss": gpt_oss_server, "litellm": litellm_server, "emulator": emulator_server}
DEFAULT_SERVERS = ("gpt-oss", "litellm")  # the emulator is the control, run on request
MODES: tuple[StreamMode, ...] = ("responses", "buffered")
DEFAULT_VENVS = Path(os.environ.get("CFAI_CONFORMANCE_VENVS", "~/.cache/cfai-conformance/venvs")).expanduser()


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m conformance", description=__doc__)
    parser.add_argument(
        "--servers", default=",".join(DEFAULT_SERVERS), help="comma-separated, from: " + ", ".join(SERVERS)
    )
    parser.add_argument("--adapters", default=",".join(ADAPTERS), help="comma-separated, from: " + ", ".join(ADAPTERS))
    parser.add_argument("--modes", default=",".join(MODES), help="stream modes for the streamed scenarios")
    parser.add_argument("--scenarios", default=",".join(s.name for s in SCENARIOS), help="comma-separated names")
    parser.add_argument(
        "--venvs",
        type=Path,
        default=DEFAULT_VENVS,
        help="folder holding the gpt-oss/ and litellm/ environments "
        "(default: $CFAI_CONFORMANCE_VENVS or ~/.cache/cfai-conformance/venvs)",
    )
    parser.add_argument("--capture", action="store_true", help=f"write what was recorded as fixtures into {FIXTURES}")
    arguments = parser.parse_args(argv)
    for name, allowed in (
        ("servers", SERVERS),
        ("adapters", ADAPTERS),
        ("modes", get_args(StreamMode)),
        ("scenarios", [s.name for s in SCENARIOS]),
    ):
        chosen = [item for item in getattr(arguments, name).split(",") if item]
        unknown = sorted(set(chosen) - set(allowed))
        if unknown:
            parser.error(f"unknown {name}: {', '.join(unknown)}")
        setattr(arguments, name, chosen)
    return arguments


def _interrupt_on_signals() -> None:
    # SIGTERM, and SIGINT even where a shell started the harness with it ignored, unwind like Ctrl-C, so that every
    # started server is stopped by the `with` block that owns it.
    def interrupt(signal_number: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)


def _say(line: str) -> None:
    print(line + "\n", flush=True)


def _run_server(name: str, arguments: argparse.Namespace, workdir: Path) -> tuple[str, list[Result]]:
    """Runs one server's matrix, printing its table as soon as it is done; returns (title, results)."""
    recorder = Recorder()
    started = time.monotonic()
    with SERVERS[name](arguments.venvs / name, workdir) as target:
        _say(f"## {target.title}: up in {time.monotonic() - started:.1f} s at {target.base_url}")
        scenarios = [scenario for scenario in SCENARIOS if scenario.name in arguments.scenarios]
        results = run_matrix(target, recorder, adapters=arguments.adapters, scenarios=scenarios, modes=arguments.modes)
    _say(table(results))
    _say(f"{len(results)} scenarios in {time.monotonic() - started:.1f} s, start-up included")
    if arguments.capture:
        for path in write_captures(target, recorder.exchanges):
            print(f"captured {path.relative_to(FIXTURES.parent.parent)}")
    return target.title, results


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _arguments(argv)
    _interrupt_on_signals()
    started = time.monotonic()
    results: list[Result] = []
    titles: dict[str, str] = {}
    not_started = []
    with tempfile.TemporaryDirectory(prefix="cfai-conformance-") as folder:
        for name in arguments.servers:
            try:
                titles[name], server_results = _run_server(name, arguments, Path(folder))
                results += server_results
            except ServerStartError as error:
                not_started.append(name)
                _say(f"## {name}: not started\n{error}")
            except KeyboardInterrupt:
                print(f"\ninterrupted during {name}; its server is stopped", file=sys.stderr)
                return 130
    print("## Pass counts\n")
    print(counts(results, titles))
    for name in not_started:
        print(f"{name}: not started")
    print(f"\ntotal {time.monotonic() - started:.1f} s")
    if not_started:
        return 2
    return 0 if all(result.passed for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
