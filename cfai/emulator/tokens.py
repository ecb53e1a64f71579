"""The emulator's token arithmetic: one token per word or punctuation mark.

Real tokenizers differ, but clients only need usage that is consistent: the same text always counts the same, the
counts add up, and a truncated text is an exact prefix of the full one. Stream deltas are one token each.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def truncate_tokens(text: str, limit: int) -> str:
    """The longest prefix of `text` holding at most `limit` tokens (never cut inside a token)."""
    if limit <= 0:
        return ""
    for index, match in enumerate(_TOKEN.finditer(text), start=1):
        if index == limit:
            return text[: match.end()]
    return text


def token_pieces(text: str) -> list[str]:
    """`text` split into one piece per token, leading whitespace attached, so that `"".join(pieces) == text`."""
    pieces: list[str] = []
    start = 0
    for match in _TOKEN.finditer(text):
        pieces.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        if pieces:
            pieces[-1] += text[start:]
        else:
            pieces.append(text[start:])
    return pieces
