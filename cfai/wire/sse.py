"""Incremental Server-Sent Events decoding (the WHATWG framing), fed with raw bytes as they arrive.

Network chunks split lines, CRLF pairs and multi-byte UTF-8 characters anywhere; the decoder keeps the unfinished tail
until the rest arrives, so events come out identical however the bytes were cut.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    data: str
    event: str = "message"
    id: str | None = None


class SSEDecoder:
    """Feed bytes with `feed`, take complete events from its return value; call `close` at end of stream."""

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        self._pending += self._text.decode(chunk)
        return self._drain(final=False)

    def close(self) -> list[ServerSentEvent]:
        self._pending += self._text.decode(b"", final=True)
        events = self._drain(final=True)
        if self._pending:
            self._line(self._pending, events)
            self._pending = ""
        self._line("", events)
        return events

    def _drain(self, *, final: bool) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        text = self._pending
        if "\r" not in text:
            # The usual framing (Cloudflare's included): LF only, so one split finds every line; the last piece is
            # the unfinished line. Splitting is several times cheaper than scanning line by line (benchmarks/).
            *lines, self._pending = text.split("\n")
            for line in lines:
                self._line(line, events)
            return events
        start = 0
        while True:
            cut = _line_end(text, start)
            if cut is None:
                break
            end, after = cut
            # A lone CR at the very end may be the first half of a CRLF still in flight.
            if text[end] == "\r" and after == len(text) and not final:
                break
            self._line(text[start:end], events)
            start = after
        self._pending = text[start:]
        return events

    def _line(self, line: str, events: list[ServerSentEvent]) -> None:
        """Applies one line; a blank line dispatches the event gathered so far into `events`."""
        if not line:
            if self._data:
                events.append(ServerSentEvent(data="\n".join(self._data), event=self._event or "message", id=self._id))
            self._event, self._data = "", []
            return
        if line.startswith("data: "):  # nearly every line of a stream: skip the general field parsing
            self._data.append(line[6:])
            return
        if line.startswith(":"):
            return
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            self._id = value


def _line_end(text: str, start: int) -> tuple[int, int] | None:
    """(end of line, start of next line) for the first line ending at or after `start`."""
    newline = text.find("\n", start)
    carriage = text.find("\r", start)
    if carriage == -1 and newline == -1:
        return None
    if carriage == -1 or (newline != -1 and newline < carriage):
        return newline, newline + 1
    if carriage + 1 < len(text) and text[carriage + 1] == "\n":
        return carriage, carriage + 2
    return carriage, carriage + 1
