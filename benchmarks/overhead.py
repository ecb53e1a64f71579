"""Section 1: what one call costs on top of the HTTP exchange, sync and async, with the same canned reply for all.

Floors: a raw httpx call that sends a request built once before any timing (so the floor is sending, reading and
parsing, not building), LangChain's `FakeListChatModel` and a LlamaIndex LLM whose chat answers at once behind
LlamaIndex's chat decorator (`contenders.canned_llamaindex_llm`): each framework with no I/O. Targets (issue 12):
`ChatWorkersAI` costs at most 1.3 x (raw httpx + FakeListChatModel), `WorkersAI` at most 1.1 x (raw httpx + the
LlamaIndex canned chat), and each is at least 4 x faster than the OpenAI-SDK-based alternative of its framework.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from benchmarks.canned import API_TOKEN, MOCK_ROOT, MOCK_V1_URL, expected_answer
from benchmarks.contenders import (
    ALTERNATIVES,
    CANNED_CHAT,
    CHAT_CLOUDFLARE,
    CHAT_OPENAI,
    CHAT_WORKERS_AI,
    CORE,
    FAKE_CHAT,
    FLOORS,
    FLOORS_IN_ONE_CALL,
    OPENAI_RESPONSES,
    OURS,
    RAW_HTTPX,
    RAW_THEN_CANNED_CHAT,
    RAW_THEN_FAKE_CHAT,
    WORKERS_AI,
    Contender,
    Endpoint,
    build,
)
from benchmarks.mock_transport import short_server
from benchmarks.report import TIMES, Row, Section, ratio, spread
from benchmarks.timing import Samples, interleave, microseconds, round_ratios, run_async

LANGCHAIN_WITHIN_FLOOR = 1.3
LLAMAINDEX_WITHIN_FLOOR = 1.1
FASTER_THAN_ALTERNATIVE = 4.0


@dataclass(frozen=True)
class Comparison:
    """`subject` against the sum of `baselines`; `at_most` / `at_least` bound the ratio subject / baselines."""

    subject: str
    baselines: tuple[str, ...]
    at_most: float | None = None
    at_least: float | None = None


COMPARISONS = (
    Comparison(CHAT_WORKERS_AI, (RAW_HTTPX, FAKE_CHAT), at_most=LANGCHAIN_WITHIN_FLOOR),
    Comparison(CHAT_WORKERS_AI, (RAW_THEN_FAKE_CHAT,)),
    Comparison(CHAT_OPENAI, (CHAT_WORKERS_AI,), at_least=FASTER_THAN_ALTERNATIVE),
    Comparison(CHAT_CLOUDFLARE, (CHAT_WORKERS_AI,)),
    Comparison(WORKERS_AI, (RAW_HTTPX, CANNED_CHAT), at_most=LLAMAINDEX_WITHIN_FLOOR),
    Comparison(WORKERS_AI, (RAW_THEN_CANNED_CHAT,)),
    Comparison(OPENAI_RESPONSES, (WORKERS_AI,), at_least=FASTER_THAN_ALTERNATIVE),
    Comparison(CORE, (RAW_HTTPX,)),
)
_NO_ANSWER_CHECK = (FAKE_CHAT, CANNED_CHAT, *FLOORS_IN_ONE_CALL)


def mock_endpoint() -> Endpoint:
    return Endpoint(MOCK_V1_URL, MOCK_ROOT, API_TOKEN, transport=short_server().transport())


def checked_contenders(names: Sequence[str], endpoint: Endpoint) -> tuple[dict[str, Contender], dict[str, str]]:
    """Builds the contenders and drops any that does not return the canned answer, sync and async."""
    built, missing = build(names, endpoint)
    answer = expected_answer()
    for name, contender in list(built.items()):
        try:
            results = [contender.invoke(), asyncio.run(contender.ainvoke())]  # type: ignore[arg-type]
        except Exception as error:
            missing[name] = f"call failed: {type(error).__name__}: {str(error)[:160]}"
            del built[name]
            continue
        if name not in _NO_ANSWER_CHECK and not all(answer in str(result) for result in results):
            missing[name] = "did not return the canned answer"
            del built[name]
    return built, missing


def _label(comparison: Comparison, mode: str) -> str:
    call = "ainvoke/achat" if mode == "async" else "invoke/chat"
    return f"{comparison.subject} ÷ ({' + '.join(comparison.baselines)}), {mode} {call}"


def _target(comparison: Comparison) -> tuple[str, float | None, bool]:
    if comparison.at_most is not None:
        return f"≤ {comparison.at_most}{TIMES}", comparison.at_most, True
    if comparison.at_least is not None:
        return f"≥ {comparison.at_least}{TIMES}", comparison.at_least, False
    return "", None, True


def comparison_rows(samples: Mapping[str, Samples], missing: Mapping[str, str], mode: str) -> list[Row]:
    rows = []
    for comparison in COMPARISONS:
        target, bound, upper = _target(comparison)
        absent = [name for name in (comparison.subject, *comparison.baselines) if name not in samples]
        if absent:
            reasons = "; ".join(f"{name}: {missing.get(name, 'not run')}" for name in absent)
            rows.append(Row(_label(comparison, mode), "n/a", reasons, target=target, passed=False if target else None))
            continue
        ratios = round_ratios(samples[comparison.subject], [samples[name] for name in comparison.baselines])
        value = statistics.median(ratios)
        context = ", ".join(
            f"{name} {microseconds(samples[name].median)}" for name in (comparison.subject, *comparison.baselines)
        )
        passed = None if bound is None else (value <= bound if upper else value >= bound)
        rows.append(Row(_label(comparison, mode), ratio(value), context, spread(ratios), target, passed))
    return rows


def absolute_rows(sync: Mapping[str, Samples], asynchronous: Mapping[str, Samples]) -> list[Row]:
    rows = []
    for name in sync:
        async_part = f"; async {microseconds(asynchronous[name].median)}" if name in asynchronous else ""
        rows.append(
            Row(
                f"{name} per call",
                microseconds(sync[name].median),
                f"sync{async_part}",
                spread(sync[name].per_call, microseconds),
            )
        )
    return rows


def run(*, rounds: int, include_alternatives: bool = True, batch_seconds: float = 0.05) -> Section:
    names = [*FLOORS, *FLOORS_IN_ONE_CALL, *OURS, *(ALTERNATIVES if include_alternatives else ())]
    contenders, missing = checked_contenders(names, mock_endpoint())
    sync = interleave(
        {name: contender.invoke for name, contender in contenders.items()}, rounds=rounds, batch_seconds=batch_seconds
    )
    asynchronous = run_async(
        {name: contender.ainvoke for name, contender in contenders.items()}, rounds=rounds, batch_seconds=batch_seconds
    )
    section = Section("1. Per-call overhead (same canned Responses reply through httpx.MockTransport)")
    for row in comparison_rows(sync, missing, "sync") + comparison_rows(asynchronous, missing, "async"):
        if include_alternatives or not any(name in row.measurement for name in ALTERNATIVES):
            section.add(row)
    section.rows += absolute_rows(sync, asynchronous)
    for name, why in missing.items():
        section.notes.append(f"- {name} not measured: {why}")
    section.notes += [
        f"- Interleaved rounds: {rounds}, order rotating; each round times a batch of calls per contender "
        f"(~{batch_seconds * 1e3:.0f} ms); "
        "medians (min to max) of rounds. Ratios are the median over rounds of the per-round ratio.",
        "- The raw httpx floor sends one request built before timing by the client (`client.build_request`, so with "
        "the client's default headers, as every request through an httpx client): what is left is sending, reading "
        "and `json.loads`, the least any client must do.",
        "- The async LangChain floor answers in the event loop (FakeListChatModel's own `ainvoke` hops to a thread).",
        "- The LlamaIndex floor is an LLM whose chat answers at once behind LlamaIndex's chat decorator; MockLLM, the "
        "floor before, answers chat through a second decorated call (complete), which counted LlamaIndex's per-call "
        "work twice.",
        "- The targets use the sum of the floors, each timed alone: the stricter floor, since code run alone in a "
        "tight loop keeps its caches hot. The rows against a floor's two halves made in one call show what the same "
        "work costs without that advantage.",
        "- Alternatives run with retries off. ChatCloudflareWorkersAI ignores `http_client`: the mock goes in through "
        'its `client`/`async_client` fields, with `endpoint_format="openai_compatible"` (Chat Completions reply).',
    ]
    return section
