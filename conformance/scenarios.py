"""The scenarios every server is put through, and the checks that decide pass or fail.

Each scenario drives one adapter and returns its problems (an empty list is a pass). The checks are what a user
would notice: an answer and a chain of thought that are there and said once, a stream that shows the same text
and reasoning as `invoke()`, usage reported exactly once, a `get_weather` call with the city from the question,
and a final answer that quotes the tool's result. Non-streamed scenarios do not depend on the stream mode and run
once; streamed ones run once per mode.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from conformance.adapters import Driver, Turn, get_weather

QUESTION = "What is 2 + 2?"
WEATHER_QUESTION = "What is the weather in Paris?"
EXPECTED_CALL = ("get_weather", {"city": "Paris"})
_SHOWN = 40  # characters of a text quoted in a failure reason


@dataclass(frozen=True)
class Scenario:
    name: str
    streamed: bool
    run: Callable[[Driver], Awaitable[list[str]]]


def shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "…")


def _compare(label: str, got: str, want: str, source: str) -> list[str]:
    if got == want:
        return []
    if want and got == want * 2:
        return [f"{label} doubled: {shown(got)}"]
    if want and got.count(want) > 1:
        return [f"{label} repeated {got.count(want)} times: {shown(got)}"]
    return [f"{label} {shown(got)}, but {source} {shown(want)}"]


def _usage(turn: Turn) -> list[str]:
    if turn.usage_count == 1:
        return []
    where = "chunks" if turn.chunk_count else "replies"
    return ["no usage" if turn.usage_count == 0 else f"usage on {turn.usage_count} {where}"]


def answer_problems(turn: Turn) -> list[str]:
    """An answer with its reasoning, no tool call, usage once."""
    problems = [] if turn.text else ["no answer text"]
    problems += [] if turn.reasoning else ["no reasoning"]
    problems += [f"unexpected tool call {call.name}" for call in turn.calls]
    return problems + _usage(turn)


def stream_problems(turn: Turn, reference: Turn | None) -> list[str]:
    """What the stream showed agrees with its final object, and (given a reference) with `invoke()`."""
    problems = _compare("final text", turn.final_text, turn.text, "deltas")
    problems += _compare("final reasoning", turn.final_reasoning, turn.reasoning, "deltas")
    if reference is not None:
        problems += _compare("streamed text", turn.text, reference.text, "invoke")
        problems += _compare("streamed reasoning", turn.reasoning, reference.reasoning, "invoke")
    return problems


def call_problems(turn: Turn) -> list[str]:
    """Exactly one `get_weather` call for Paris, with a call id and the reasoning behind it, usage once."""
    if not turn.calls:
        answered = f" (answered {shown(turn.text)})" if turn.text else ""
        return [f"no tool call{answered}", *_usage(turn)]
    call = turn.calls[0]
    problems = [f"{len(turn.calls)} tool calls, not one"] if len(turn.calls) > 1 else []
    arguments = _parsed(call.arguments)
    if (call.name, arguments) != EXPECTED_CALL:
        called = shown(json.dumps(arguments, default=str))
        problems.append(f"called {call.name}({called}), not get_weather(city='Paris')")
    problems += [] if call.call_id else ["the call has no call id"]
    problems += [] if turn.reasoning else ["no reasoning"]
    return problems + _usage(turn)


def result_problems(turn: Turn, result: str) -> list[str]:
    """A final answer that quotes the tool result, with its reasoning, no further call, usage once."""
    problems = [] if result in turn.text else [f"answer {shown(turn.text)} does not quote {shown(result)}"]
    problems += [] if turn.reasoning else ["no reasoning"]
    problems += [f"called {call.name} again" for call in turn.calls]
    return problems + _usage(turn)


def _prefixed(prefix: str, problems: list[str]) -> list[str]:
    return [f"{prefix}: {problem}" for problem in problems]


# The scenarios.


async def invoke(driver: Driver) -> list[str]:
    return answer_problems(driver.invoke(driver.question(QUESTION), tools=False))


async def ainvoke(driver: Driver) -> list[str]:
    reference = driver.invoke(driver.question(QUESTION), tools=False)
    turn = await driver.ainvoke(driver.question(QUESTION), tools=False)
    problems = _compare("text", turn.text, reference.text, "invoke")
    return answer_problems(turn) + problems + _compare("reasoning", turn.reasoning, reference.reasoning, "invoke")


async def stream(driver: Driver) -> list[str]:
    reference = driver.invoke(driver.question(QUESTION), tools=False)
    turn = driver.stream(driver.question(QUESTION), tools=False)
    return answer_problems(turn) + stream_problems(turn, reference)


async def astream(driver: Driver) -> list[str]:
    reference = driver.invoke(driver.question(QUESTION), tools=False)
    turn = await driver.astream(driver.question(QUESTION), tools=False)
    return answer_problems(turn) + stream_problems(turn, reference)


async def tools(driver: Driver) -> list[str]:
    return call_problems(driver.invoke(driver.question(WEATHER_QUESTION), tools=True))


async def tools_stream(driver: Driver) -> list[str]:
    history = driver.question(WEATHER_QUESTION)
    reference = driver.invoke(history, tools=True)
    turn = driver.stream(history, tools=True)
    return call_problems(turn) + stream_problems(turn, reference)


async def round_trip(driver: Driver) -> list[str]:
    return _round_trip(driver, streamed=False)


async def round_trip_stream(driver: Driver) -> list[str]:
    return _round_trip(driver, streamed=True)


async def round_trip_without_reasoning(driver: Driver) -> list[str]:
    """The round trip as a LiteLLM user makes it, with `send_reasoning=False` (docs/wire.md, quirk 9)."""
    driver.llm.send_reasoning = False
    return _round_trip(driver, streamed=False)


async def round_trip_stream_without_reasoning(driver: Driver) -> list[str]:
    driver.llm.send_reasoning = False
    return _round_trip(driver, streamed=True)


def _round_trip(driver: Driver, *, streamed: bool) -> list[str]:
    """Two turns: the call, then the answer to its result. A streamed turn is also compared with `invoke()` on the
    same history, so that a doubled reasoning or a lost call shows in the turn where it happens; when the stream
    lost the call, turn 2 goes on from the invoked turn's call, so that it is judged (and captured) all the same."""

    def ask(history: list[Any]) -> tuple[Turn, Turn | None, list[str]]:
        if not streamed:
            return driver.invoke(history, tools=True), None, []
        turn, reference = driver.stream(history, tools=True), driver.invoke(history, tools=True)
        return turn, reference, stream_problems(turn, reference)

    history = driver.question(WEATHER_QUESTION)
    first, reference, compared = ask(history)
    problems = _prefixed("turn 1", call_problems(first) + compared)
    if not first.calls and reference is not None and reference.calls:
        first = reference
    if not first.calls:
        return problems
    result = get_weather(str(_city(first.calls[0].arguments)))
    second, _, compared = ask(driver.with_result(history, first, result))
    return problems + _prefixed("turn 2", result_problems(second, result) + compared)


def _parsed(arguments: object) -> object:
    # An adapter that could not parse the arguments hands over the raw string; judge what it holds.
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments


def _city(arguments: object) -> object:
    parsed = _parsed(arguments)
    return parsed.get("city", "") if isinstance(parsed, dict) else ""


SCENARIOS = (
    Scenario("invoke", False, invoke),
    Scenario("ainvoke", False, ainvoke),
    Scenario("tools", False, tools),
    Scenario("round-trip", False, round_trip),
    Scenario("round-trip-without-reasoning", False, round_trip_without_reasoning),
    Scenario("stream", True, stream),
    Scenario("astream", True, astream),
    Scenario("tools-stream", True, tools_stream),
    Scenario("round-trip-stream", True, round_trip_stream),
    Scenario("round-trip-stream-without-reasoning", True, round_trip_stream_without_reasoning),
)
