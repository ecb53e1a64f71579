"""A one-line progress report for a queued batch, on stderr, only where a person watches it (a terminal).

The queue says only whether a batch is queued, running or done, not how far along it is, so the line shows the
status and the time waited, then how many results came back and how many failed. No dependency: a carriage return
rewrites the line in place.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from cfai.errors import WorkersAIError


class ProgressLine:
    """`enabled`: True or False, or None to show it only when `stream` (stderr) is a terminal."""

    def __init__(
        self, request_id: str, enabled: bool | None, clock: Callable[[], float], stream: TextIO | None = None
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label = f"Workers AI batch {request_id[:8]}"
        self.clock = clock
        self.started = clock()
        self.open = False

    def _write(self, text: str, *, end: str = "") -> None:
        if self.enabled:
            self.stream.write(f"\r{self.label}: {text} ({self.clock() - self.started:.0f} s)\x1b[K{end}")
            self.stream.flush()
            self.open = not end

    def pending(self, status: str) -> None:
        self._write(f"{status}...")

    def done(self, outcomes: Sequence[object]) -> None:
        failed = sum(isinstance(outcome, WorkersAIError) for outcome in outcomes)
        self._write(f"{len(outcomes)} results, {failed} failed", end="\n")

    def close(self) -> None:
        """Ends an unfinished line, so that what is printed next starts on a line of its own."""
        if self.enabled and self.open:
            self.stream.write("\n")
            self.open = False
