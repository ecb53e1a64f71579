"""A spinner on the terminal while a request is under way; nothing at all when the output is not a terminal.

It draws on its own thread, on stderr by default, so that stdout carries only the answer (and pipes stay clean),
and it erases itself before anything else is printed.
"""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import TextIO

__all__ = ["Spinner"]

_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_ASCII_FRAMES = "|/-\\"
_ERASE = "\r\x1b[K"


class Spinner:
    """`with Spinner("Thinking"):` shows `⠋ Thinking…` until the block ends, when `stream` is a terminal."""

    def __init__(self, label: str, stream: TextIO | None = None, interval: float = 0.08) -> None:
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def frames(self) -> str:
        """Braille dots where the terminal's encoding has them, else ASCII."""
        try:
            _FRAMES.encode(getattr(self.stream, "encoding", None) or "ascii")
        except (UnicodeEncodeError, LookupError):
            return _ASCII_FRAMES
        return _FRAMES

    def __enter__(self) -> Spinner:
        if self.stream.isatty():
            self._thread = threading.Thread(target=self._spin, name="cfai-spinner", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self.stream.write(_ERASE)
        self.stream.flush()

    def _spin(self) -> None:
        frames, turn = self.frames, 0
        while not self._stop.is_set():
            self.stream.write(f"\r{frames[turn % len(frames)]} {self.label}...")
            self.stream.flush()
            turn += 1
            self._stop.wait(self.interval)
