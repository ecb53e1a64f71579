"""Client-side stop sequences: the Responses API has none, so answers are cut at the first stop string here.

Streamed text is held back only as long as it could still be the start of a stop string, so a stop split across two
deltas is still found and the caller never sees text past it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from cfai.wire.types import Reply, ReplyDone, StreamEvent, TextDelta


def truncate_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """The text before the stop string that is completed first, and whether one was found.

    "Completed first" is what a streaming client sees: with stops "abcd" and "bc", the text "abcd" stops at "bc",
    so the streamed and the whole answer are cut at the same place.
    """
    found = [(position + len(word), position) for word in stop if word and (position := text.find(word)) != -1]
    return (text[: min(found)[1]], True) if found else (text, False)


def stop_reply(reply: Reply, stop: Sequence[str]) -> Reply:
    text, stopped = truncate_at_stop(reply.text, stop)
    if not stopped:
        return reply
    # The answer ended where the caller asked, so a length cut past that point does not make it incomplete.
    return dataclasses.replace(reply, text=text, status="completed", incomplete_reason=None)


def _held_suffix(text: str, stop: Sequence[str]) -> int:
    """Length of the longest end of `text` that begins some stop string."""
    longest = 0
    for word in stop:
        for size in range(min(len(word) - 1, len(text)), longest, -1):
            if word.startswith(text[-size:]):
                longest = size
                break
    return longest


class StopFilter:
    """Applies stop strings to a stream of events; feed each event, forward what it returns."""

    def __init__(self, stop: Sequence[str]) -> None:
        self.stop = [word for word in stop if word]
        self.stopped = False
        self._held = ""
        self._index = 0

    def feed(self, event: StreamEvent) -> list[StreamEvent]:
        if isinstance(event, ReplyDone):
            flushed: list[StreamEvent] = []
            if self._held and not self.stopped:
                flushed.append(TextDelta(self._held, self._index))
            self._held = ""
            return [*flushed, ReplyDone(stop_reply(event.reply, self.stop))]
        if not isinstance(event, TextDelta):
            return [event]
        if self.stopped:
            return []
        self._index = event.index
        text = self._held + event.delta
        kept, self.stopped = truncate_at_stop(text, self.stop)
        if self.stopped:
            self._held = ""
            return [TextDelta(kept, event.index)] if kept else []
        hold = _held_suffix(text, self.stop)
        self._held = text[len(text) - hold :] if hold else ""
        ready = text[: len(text) - hold]
        return [TextDelta(ready, event.index)] if ready else []
