"""Which tools the rule-based model calls for a question, and which part of the question each call reads.

A tool is mentioned by its name ("get_weather", "get weather") or by a word of its name that tells it apart ("weather";
not "get", "fetch" and the like, nor a word two tools share). Each mention owns the question from where it stands to
the next mention (the first also owns what comes before it), and its call takes its arguments from that part alone:
"What's the weather in Paris and the time in Tokyo?" gives get_weather Paris and get_time Tokyo. Then:

- a mention repeating the previous tool without values of its own joins the previous part;
- a part holding values for several calls of its tool ("the weather in Paris and in Rome") is split, one call each;
- a part without the values its tool needs reads on to the end of the question, sharing what it finds there
  ("the weather and the time in Paris" gives both calls Paris).

With no tool mentioned, the first tool is called once with the whole question; a forced tool likewise.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cfai.emulator.prompt_facts import ValuePool

# Words that say "call a tool" rather than which one: they never identify a tool on their own.
_GENERIC_WORDS = frozenset(
    """
    a an api by call current data do fetch find for get info information look lookup make of query retrieve run
    search the to tool tools up
    """.split()  # noqa: SIM905 (a word list reads better as words)
)
_NAME_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_CONJUNCTION = re.compile(r"(?<!\w)(?:and|or|then|also|plus|as well as)(?!\w)|[;&]", re.IGNORECASE)
_STRING_FORMATS_WITHOUT_VALUES = frozenset({"date", "date-time", "time", "email", "uri", "url", "uuid"})


@dataclass(frozen=True)
class Tool:
    """A tool the model may call, however it was offered (function tools, or described in a ReAct prompt)."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannedCall:
    """One call: the tool, and the values (of its part of the question) its arguments are made from."""

    tool: Tool
    pool: ValuePool


@dataclass
class _Part:
    tool: Tool
    start: int
    end: int


def plan_calls(
    tools: Sequence[Tool], question: str, *, forced: str | None = None, parallel: bool = True
) -> list[PlannedCall]:
    """The calls to make, in order (one at most when `parallel` is false)."""
    pool = ValuePool(question, exclude=[tool.name for tool in tools])
    if forced is not None:
        return [PlannedCall(tool, pool) for tool in tools if tool.name == forced][:1]
    mentions = _mentions(tools, pool.text)
    if not mentions:
        return [PlannedCall(tools[0], pool)] if tools else []
    calls = [call for part in _parts(mentions, pool) for call in _calls_for(part, pool)]
    return calls if parallel else calls[:1]


def _parts(mentions: list[tuple[int, Tool]], pool: ValuePool) -> list[_Part]:
    ends = [start for start, _ in mentions[1:]] + [len(pool.text)]
    parts: list[_Part] = []
    for (start, tool), end in zip(mentions, ends, strict=True):
        if parts and parts[-1].tool is tool and not _has_values(pool.within(start, end)):
            parts[-1].end = end
        else:
            parts.append(_Part(tool, 0 if not parts else start, end))
    return parts


def _calls_for(part: _Part, pool: ValuePool) -> list[PlannedCall]:
    strings, numbers = needed_values(part.tool.parameters)
    own = pool.within(part.start, part.end)
    have = (own.phrases_left, own.numbers_left)
    if (strings and not have[0]) or (numbers and not have[1]):
        return [PlannedCall(part.tool, pool.within(part.start, len(pool.text)))]
    if not (strings or numbers):
        return [PlannedCall(part.tool, own)]
    cuts = [part.start, *_cuts_between_sets(own, strings, numbers, pool.text), part.end]
    return [PlannedCall(part.tool, pool.within(start, end)) for start, end in itertools.pairwise(cuts)]


def _cuts_between_sets(own: ValuePool, strings: int, numbers: int, text: str) -> list[int]:
    """Where to cut a part so that each call gets one set of values: before the first value of each further set,
    when a conjunction stands between the sets ("Paris and Rome" is two cities, "São Paulo, Brazil" one place)."""
    spans = own.phrase_spans() if strings else own.number_spans()
    size = strings or numbers
    copies = len(spans) // size
    if strings and numbers:
        copies = min(copies, own.numbers_left // numbers)
    cuts = []
    for index in range(1, copies):
        previous_end, start = spans[index * size - 1][1], spans[index * size][0]
        if _CONJUNCTION.search(text[previous_end:start]):
            cuts.append(start)
    return cuts


def _has_values(pool: ValuePool) -> bool:
    return pool.phrases_left > 0 or pool.numbers_left > 0


def needed_values(parameters: Mapping[str, Any]) -> tuple[int, int]:
    """(strings, numbers) a tool's top-level required parameters take from the prompt (all, when none is required).

    Enums, constants and formatted strings (dates, emails, ...) do not count: they are not taken from free text.
    """
    properties = parameters.get("properties")
    if not isinstance(properties, Mapping):
        return 0, 0
    required = parameters.get("required")
    names = [name for name in required if isinstance(name, str)] if isinstance(required, list) else list(properties)
    strings = numbers = 0
    for name in names:
        schema = properties.get(name)
        if not isinstance(schema, Mapping) or "enum" in schema or "const" in schema:
            continue
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((each for each in kind if each != "null"), None)
        if kind == "string" and schema.get("format") not in _STRING_FORMATS_WITHOUT_VALUES:
            strings += 1
        elif kind in ("integer", "number"):
            numbers += 1
    return strings, numbers


def _mentions(tools: Sequence[Tool], text: str) -> list[tuple[int, Tool]]:
    """(position, tool) of every mention of a tool in `text`, in order; overlapping mentions keep the longer."""
    keywords = _distinctive_words(tools)
    found: list[tuple[int, int, Tool]] = []
    for tool in tools:
        for pattern in _patterns(tool.name, keywords[tool.name]):
            found += [(match.start(), match.end(), tool) for match in pattern.finditer(text)]
    found.sort(key=lambda mention: (mention[0], -mention[1]))
    kept: list[tuple[int, Tool]] = []
    covered = -1
    for start, end, tool in found:
        if start >= covered:
            kept.append((start, tool))
            covered = end
    return kept


def _patterns(name: str, words: Sequence[str]) -> list[re.Pattern[str]]:
    spellings = {name, name.replace("_", " "), " ".join(_name_words(name))}
    patterns = [re.compile(rf"(?<!\w){re.escape(spelling)}(?!\w)", re.IGNORECASE) for spelling in spellings]
    # a word may be written in the plural ("the times in Tokyo and Paris")
    patterns += [re.compile(rf"(?<!\w){re.escape(word)}(?:e?s)?(?!\w)", re.IGNORECASE) for word in words]
    return patterns


def _distinctive_words(tools: Sequence[Tool]) -> dict[str, list[str]]:
    words = {tool.name: [w for w in _name_words(tool.name) if w not in _GENERIC_WORDS and len(w) > 2] for tool in tools}
    counts: dict[str, int] = {}
    for each in words.values():
        for word in set(each):
            counts[word] = counts.get(word, 0) + 1
    return {name: [word for word in each if counts[word] == 1] for name, each in words.items()}


def _name_words(name: str) -> list[str]:
    """The words of a tool name: `get_weather`, `getWeather` and `get-weather` all give ["get", "weather"]."""
    return [word.lower() for word in _NAME_WORD.findall(name)]
