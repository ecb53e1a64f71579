"""The emulator's stand-in for an embedding model: deterministic vectors in which texts that share words are close.

A text becomes the bag of its words: lower-cased, punctuation stripped, a possessive "'s" and a plural ending
dropped, a few function words ("the", "is", "what") left out so that they do not make every text alike. Each word
is hashed (BLAKE2b) to a few of the model's `dimensions` with signs, word counts are damped (1 + log count), and the
vector is scaled to length 1: the cosine similarity of two texts grows with the words they share, so retrieval in
tests and demos finds the document that shares the query's words. The same text always gives the same vector; each
model has vectors of its own size. `cls` pooling hashes with another key: vectors as deterministic as `mean`'s but
not comparable with them, as with the real models (docs/wire.md, "Embeddings").
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from typing import Literal

Pooling = Literal["mean", "cls"]
# Each word lands in several dimensions, so that two words hashed to the same dimension share a quarter of their
# weight rather than all of it: a collision must not make unrelated texts look alike.
_SLOTS_PER_WORD = 4
POOLINGS: tuple[Pooling, ...] = ("mean", "cls")

_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
_FUNCTION_WORDS = frozenset(
    """
    a about an and are as at be been by can could did do does for from had has have how i if in into is it its me my
    of on or our so than that the their them then there these they this those to was we were what when where which
    who whom why will with would you your
    """.split()  # noqa: SIM905 (a word list reads better as words)
)


def embed(text: str, dimensions: int, pooling: Pooling = "mean") -> list[float]:
    """The unit vector of `text`, `dimensions` long."""
    vector = [0.0] * dimensions
    key = pooling.encode()
    for word, count in Counter(words(text)).items():
        weight = (1.0 + math.log(count)) / _SLOTS_PER_WORD
        digest = hashlib.blake2b(word.encode(), digest_size=8 * _SLOTS_PER_WORD, key=key).digest()
        for slot in range(_SLOTS_PER_WORD):
            number = int.from_bytes(digest[8 * slot : 8 * slot + 8], "little")
            vector[(number >> 1) % dimensions] += weight if number & 1 else -weight
    norm = math.sqrt(sum(value * value for value in vector))
    return [value / norm for value in vector] if norm else vector


def words(text: str) -> list[str]:
    """The normalised words that make a text's vector (all its words when it has only function words)."""
    found = _WORD.findall(text.lower())
    content = [_normalise(word) for word in found if word not in _FUNCTION_WORDS]
    return content or [_normalise(word) for word in found] or [text.strip()]


def _normalise(word: str) -> str:
    word = re.sub(r"['\u2019]s$", "", word)
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"  # warranties -> warranty
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]  # covers -> cover, documents -> document
    return word
