"""What the rule-based model reads out of a prompt: numbers, quoted phrases, capitalised names, ISO dates.

`ValuePool` hands these out in order of appearance, each at most once, so that tool arguments and structured output
are filled from the user's words (`"Add 2 and 3"` gives `a=2, b=3`; `"weather in São Paulo"` gives `"São Paulo"`).
"""

from __future__ import annotations

import copy
import re
from collections import deque
from collections.abc import Iterable

_QUOTED = re.compile(r'"([^"\n]+)"|“([^”\n]+)”|«\s*([^»\n]+?)\s*»|„([^“”\n]+)[“”]|(?<!\w)\'([^\'\n]+)\'(?!\w)')
_NUMBER = re.compile(r"(?<![\w.-])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\w)(?!\.\d)")
_WORD = re.compile(r"[^\W\d_][\w'\u2019-]*")
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")

# Capitalised only because they open a sentence (or are "I"): not names, so never used as values.
_SENTENCE_STARTERS = frozenset(
    """
    a an and are based call can check compute convert could count create describe did do does explain
    extract find for get give hello hey hi how i i'd i'm i've if in is it list look make my name no now of
    ok on please return say search send set show so summarize summarise tell thanks thank the then there
    these this translate use was we what what's when where which who why will with would yes you your
    """.split()  # noqa: SIM905 (a word list reads better as words)
)


def _opens_sentence(text: str, start: int) -> bool:
    index = start - 1
    while index >= 0 and text[index] != "\n" and (text[index].isspace() or text[index] in "\"'“«("):
        index -= 1
    return index < 0 or text[index] in ".!?:;\n"


def quoted_phrases(text: str) -> list[str]:
    return [phrase for _, phrase in _quoted_matches(text)]


def _quoted_matches(text: str) -> list[tuple[re.Match[str], str]]:
    return [(match, next(group for group in match.groups() if group)) for match in _QUOTED.finditer(text)]


def capitalised_phrases(text: str) -> list[str]:
    """Runs of capitalised words ("New York", "Zürich").

    A lone capitalised word opening a sentence is usually just the sentence's first word ("Weather in Paris"), so
    it only counts when it is part of a run or an acronym; imperative openers ("Call", "What") never count.
    """
    return [phrase for _, phrase in _capitalised_spans(text)]


def _capitalised_spans(text: str) -> list[tuple[int, str]]:
    runs: list[tuple[int, list[str], bool]] = []
    previous_end = -1
    for match in _WORD.finditer(text):
        word = match.group().rstrip("'\u2019-")
        opens = _opens_sentence(text, match.start())
        is_name = word[0].isupper() and word != "I" and not (opens and word.lower() in _SENTENCE_STARTERS)
        if is_name and runs and runs[-1][1] and text[previous_end : match.start()] == " ":
            runs[-1][1].append(word)
        else:
            runs.append((match.start(), [word] if is_name else [], opens))
        previous_end = match.start() + len(word)
    return [
        (start, " ".join(words))
        for start, words, opens in runs
        if words and (not opens or len(words) > 1 or (len(words[0]) > 1 and words[0].isupper()))
    ]


def numbers(text: str) -> list[int | float]:
    return [value for _, value in _number_spans(text)]


def _number_spans(text: str) -> list[tuple[int, int | float]]:
    values: list[tuple[int, int | float]] = []
    for match in _NUMBER.finditer(text):
        token = match.group().replace(",", "")
        values.append((match.start(), float(token) if "." in token else int(token)))
    return values


def _blank(pattern: re.Pattern[str], text: str) -> str:
    """`text` with every match of `pattern` turned into spaces, so that positions in it stay those of `text`."""
    return pattern.sub(lambda match: " " * len(match.group()), text)


class ValuePool:
    """The values of one prompt, consumed in order; one pool per synthesised value (tool call, JSON answer).

    Values remember where they stand in `text`, so that `within(start, end)` can hand one part of a prompt to one
    tool call ("weather in Paris and the time in Tokyo": Paris for the first call, Tokyo for the second).
    """

    def __init__(self, text: str, exclude: Iterable[str] = ()) -> None:
        self.text = text.strip()
        excluded = {word.lower() for word in exclude}
        quoted = [(match.start(), phrase) for match, phrase in _quoted_matches(self.text)]
        unquoted = _blank(_QUOTED, self.text)
        quoted_values = {phrase for _, phrase in quoted}
        capitalised = [(start, p) for start, p in _capitalised_spans(unquoted) if p not in quoted_values]
        # quoted phrases first: a phrase the user quoted is the likeliest value
        self._phrases = deque((start, p) for start, p in quoted + capitalised if p.lower() not in excluded)
        self._numbers = deque(_number_spans(_blank(_ISO_DATE, unquoted)))  # a date is not three numbers
        self._dates = [(match.start(), match.group()) for match in _ISO_DATE.finditer(self.text)]
        self._fallback = self.text
        self._question_used = False

    def within(self, start: int, end: int) -> ValuePool:
        """A fresh pool of the values standing in `text[start:end]`, falling back to that part of the text."""
        part = copy.copy(self)
        part._phrases = deque(value for value in self._phrases if start <= value[0] < end)
        part._numbers = deque(value for value in self._numbers if start <= value[0] < end)
        part._dates = [value for value in self._dates if start <= value[0] < end] or self._dates
        part._fallback = self.text[start:end].strip(" ,;:")
        part._question_used = False
        return part

    def phrase_spans(self) -> list[tuple[int, int]]:
        """(start, end) in `text` of the phrases left, in order of position."""
        return sorted((start, start + len(phrase)) for start, phrase in self._phrases)

    def number_spans(self) -> list[tuple[int, int]]:
        return sorted((start, start + len(str(value))) for start, value in self._numbers)

    @property
    def phrases_left(self) -> int:
        return len(self._phrases)

    @property
    def numbers_left(self) -> int:
        return len(self._numbers)

    def take_phrase(self) -> str | None:
        return self._phrases.popleft()[1] if self._phrases else None

    def take_number(self) -> int | float | None:
        return self._numbers.popleft()[1] if self._numbers else None

    def date(self) -> str | None:
        return self._dates[0][1] if self._dates else None

    def mentions(self, word: str) -> bool:
        return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", self._fallback, re.IGNORECASE) is not None

    def fallback_text(self, field: str | None) -> str:
        """For a string with no phrase left: the pool's text once (the question, or its part), then the field's name."""
        if not self._question_used and self._fallback:
            self._question_used = True
            return self._fallback
        return field or "value"
