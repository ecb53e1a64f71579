"""Incremental Server-Sent Events decoding (the WHATWG framing), fed with raw bytes as they arrive.

Network chunks split lines, CRLF pairs and multi-byte UTF-8 characters anywhere; the decoder keeps the unfinished tail
until the rest arrives, so events come out identical however the bytes were cut.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from functools import partial
from typing import NamedTuple


class ServerSentEvent(NamedTuple):
    """One dispatched event. A named tuple rather than a frozen dataclass: a stream makes one per token, and a tuple
    is built in a fraction of the time (benchmarks/, streaming section)."""

    data: str
    event: str = "message"
    id: str | None = None


# Builds an event from its (data, event, id) tuple. A NamedTuple's own constructor is a Python function; making the
# tuple directly costs half as much, and the decoder makes one event per token.
_new_event: Callable[[tuple[str, str, str | None]], ServerSentEvent] = partial(tuple.__new__, ServerSentEvent)

# An unfinished event longer than this is held as a list of pieces until its blank line arrives: joining and
# rescanning it with every chunk would cost time quadratic in its size (a server trickling a 4 MB event in 4 KB
# chunks took 2 s, 16 MB half a minute), while holding costs one check of each new chunk.
_HOLD_AFTER = 1 << 16


class SSEDecoder:
    """Feed bytes with `feed`, take complete events from its return value; call `close` at end of stream."""

    def __init__(self) -> None:
        self._undecoded = b""  # the first bytes of a character whose other bytes are still in flight
        # Text not applied yet: the unfinished last line, or with LF framing the whole unfinished last event.
        self._pending = ""
        self._held: list[str] = []  # a long `_pending`, in pieces (`_hold`); `_pending` is then empty
        self._held_event = True  # what is held: a whole unfinished event, or one unfinished line
        self._event = "message"
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        if self._undecoded:
            text = self._decode(self._undecoded + chunk)
        else:
            try:
                text = chunk.decode()  # the usual chunk: whole characters, valid UTF-8
            except UnicodeDecodeError:
                text = self._decode(chunk)
        if self._held:
            if self._still_unfinished(text):
                self._held.append(text)
                return []
            text = "".join(self._held) + text
            self._held = []
        else:
            text = self._pending + text
        if "\r" in text:
            events = self._apply(self._complete_lines(text, final=False))
            if len(self._pending) > _HOLD_AFTER:
                self._hold(whole_event=False)
            return events
        # The usual framing (Cloudflare's included): LF only, so one split finds every finished event; the last piece
        # is the unfinished one, applied once its blank line arrives (nothing is dispatched before then anyway).
        blocks = text.split("\n\n")
        self._pending = blocks.pop()
        if len(self._pending) > _HOLD_AFTER:  # tested here, not in the call: this line runs once per token
            self._hold(whole_event=True)
        events = []
        for block in blocks:
            if block.startswith("data: ") and "\n" not in block and not self._data:
                # One `data:` line, the shape of nearly every event: dispatched without parsing it line by line.
                events.append(_new_event((block[6:], self._event, self._id)))
                self._event = "message"
            else:
                events += self._apply([*block.split("\n"), ""])
        return events

    def _hold(self, *, whole_event: bool) -> None:
        """Holds the long `_pending` in pieces: the unfinished event (LF framing), or else the unfinished line."""
        self._held, self._pending = [self._pending], ""
        self._held_event = whole_event

    def _still_unfinished(self, text: str) -> bool:
        """Whether the held text, followed by `text`, still lacks the blank line (or line end) that would finish it."""
        if "\r" in text:
            return False  # the other framing: everything is applied again, line by line
        if not self._held_event:
            return "\n" not in text
        return "\n\n" not in text and not (text[:1] == "\n" and self._held[-1][-1:] == "\n")

    def close(self) -> list[ServerSentEvent]:
        if self._held:
            self._pending, self._held = "".join(self._held), []
        text, _ = codecs.utf_8_decode(self._undecoded, "replace", True)  # a character cut short is replaced
        self._undecoded = b""
        lines = self._complete_lines(self._pending + text, final=True)
        if self._pending:
            lines.append(self._pending)
            self._pending = ""
        lines.append("")  # the end of the stream ends the last event
        return self._apply(lines)

    def _decode(self, data: bytes) -> str:
        """The text of `data`, invalid bytes replaced, keeping back a character cut short until its other bytes come.

        What codecs' incremental UTF-8 decoder does, calling its C function directly: its Python layers cost more
        than the decoding itself, once per token.
        """
        text, used = codecs.utf_8_decode(data, "replace", False)
        self._undecoded = data[used:]
        return text

    def _complete_lines(self, text: str, *, final: bool) -> list[str]:
        """The complete lines of `text`, without their endings; the unfinished rest is kept as pending."""
        if "\r" not in text:
            # Splitting is several times cheaper than scanning line by line (benchmarks/).
            lines = text.split("\n")
            self._pending = lines.pop()
            return lines
        lines = []
        start = 0
        while (cut := _line_end(text, start)) is not None:
            end, after = cut
            # A lone CR at the very end may be the first half of a CRLF still in flight.
            if text[end] == "\r" and after == len(text) and not final:
                break
            lines.append(text[start:end])
            start = after
        self._pending = text[start:]
        return lines

    def _apply(self, lines: list[str]) -> list[ServerSentEvent]:
        """Applies complete lines in order; each blank line dispatches the event gathered so far."""
        events: list[ServerSentEvent] = []
        data = self._data
        for line in lines:
            if line.startswith("data: "):  # nearly every line: no field parsing, no call
                data.append(line[6:])
            elif line:
                self._field(line)
            else:
                if data:
                    events.append(_new_event(("\n".join(data), self._event, self._id)))
                    data = self._data = []
                self._event = "message"
        return events

    def _field(self, line: str) -> None:
        """Applies one non-blank line (a comment, or a field in its general form)."""
        if line.startswith(":"):
            return
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value or "message"  # an empty type is the default one
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
