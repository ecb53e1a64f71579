"""The control: the `cfai` emulator itself, serving `/responses` as OpenAI's Responses event stream.

Not a third-party server, and not in the default run: it is what the harness's own checks are tested against
(`conformance/test_harness.py`), and `--servers emulator` shows what a passing table looks like.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cfai.emulator import Emulator
from conformance.processes import Target


def target_for(emulator: Emulator) -> Target:
    return Target(
        key="emulator",
        title="cfai emulator (control)",
        base_url=emulator.v1_url,
        api_token=emulator.api_token,
        fixture_prefix="emulator-control",
        provenance='the `cfai` emulator (`cfai.emulator.Emulator(stream_mode="sse")`)',
    )


@contextmanager
def emulator_server(venv: Path, workdir: Path) -> Iterator[Target]:
    """Serves the emulator in this process on a free loopback port (`venv` and `workdir` are not needed)."""
    with Emulator(stream_mode="sse") as emulator:
        yield target_for(emulator)
