"""Section 5: many calls at once against the canned socket server, every client with its own HTTP defaults.

Contenders: raw aiohttp (a `ClientSession` over 100 connections) and raw httpx (a 100-connection pool), each sending
a prebuilt body and `json.loads`-ing the reply; `ChatWorkersAI.ainvoke`, `WorkersAI.achat`,
`ChatOpenAI(use_responses_api=True).ainvoke` and LlamaIndex `OpenAIResponses.achat`, each building its own HTTP
clients. Every contender is created once and every call runs in ONE event loop, as in an application (an SDK whose
clients are tied to the loop that first used them is measured as it is meant to be used). After a warm-up burst,
each round runs every contender once, in an order that rotates every round: a burst of one call per worker, then
`calls` calls through `concurrency` workers, measured. Reported: throughput, p50/p99 latency, the client's CPU per
call, the server's CPU per call (its own process, to show it is not the bottleneck) and the TCP connections used.

Targets (issue 12): both adapters reach at least half of raw aiohttp's throughput and four times ChatOpenAI's.
Before that, sequential calls of each adapter must go through one connection, sync and async.

The frameworks' own floors run beside them: raw aiohttp's call, then LangChain's `FakeListChatModel.ainvoke` (native
async) or a LlamaIndex LLM whose `achat` answers at once behind LlamaIndex's chat decorator, as one call. That is what
an adapter whose own work cost nothing would reach through its framework, so the rows against it say how much of the
distance to raw aiohttp is ours.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from benchmarks.canned import ACCOUNT_ID, API_TOKEN
from benchmarks.contenders import (
    CANNED_CHAT,
    CHAT_OPENAI,
    CHAT_WORKERS_AI,
    FAKE_CHAT,
    OPENAI_RESPONSES,
    OURS,
    WORKERS_AI,
    Contender,
    Endpoint,
    build,
)
from benchmarks.load import LoadResult, LoadSummary, load_context, measured, summarise
from benchmarks.raw_clients import AIOHTTP, HTTPX_POOL, RawClient, create
from benchmarks.report import TIMES, Row, Section, ratio, spread
from benchmarks.socket_server import SocketServer
from benchmarks.timing import rotated

RAW_AIOHTTP = "raw aiohttp"
RAW_HTTPX = "raw httpx, 100-connection pool"
_RAW = {RAW_AIOHTTP: AIOHTTP, RAW_HTTPX: HTTPX_POOL}
AIOHTTP_THEN_FAKE_CHAT = f"{RAW_AIOHTTP}, then {FAKE_CHAT}"
AIOHTTP_THEN_CANNED_CHAT = f"{RAW_AIOHTTP}, then {CANNED_CHAT}"
# Each framework floor: the framework's no-I/O model that follows raw aiohttp's call, and the adapter it bounds.
FRAMEWORK_FLOORS = {
    AIOHTTP_THEN_FAKE_CHAT: (FAKE_CHAT, CHAT_WORKERS_AI),
    AIOHTTP_THEN_CANNED_CHAT: (CANNED_CHAT, WORKERS_AI),
}
ALTERNATIVES = (CHAT_OPENAI, OPENAI_RESPONSES)
POOL_LIMIT = 100
SEQUENTIAL_CALLS = 20
OF_AIOHTTP = 0.5
OVER_CHAT_OPENAI = 4.0


@dataclass(frozen=True)
class Target:
    subject: str
    baseline: str
    at_least: float | None


TARGETS = (
    *(
        Target(subject, baseline, bound)
        for subject in OURS
        for baseline, bound in ((RAW_AIOHTTP, OF_AIOHTTP), (CHAT_OPENAI, OVER_CHAT_OPENAI), (OPENAI_RESPONSES, None))
    ),
    *(Target(floor, RAW_AIOHTTP, None) for floor in FRAMEWORK_FLOORS),
    *(Target(adapter, floor, None) for floor, (_, adapter) in FRAMEWORK_FLOORS.items()),
)

Call = Callable[[], Awaitable[object]]


def endpoint_of(server: SocketServer) -> Endpoint:
    root = f"{server.base_url}/client/v4"
    return Endpoint(f"{root}/accounts/{ACCOUNT_ID}/ai/v1", root, API_TOKEN)


async def _calls(names: list[str], endpoint: Endpoint) -> tuple[dict[str, Call], list[RawClient], dict[str, str]]:
    """One call per contender, created once, in the running loop."""
    floors = [name for name in names if name in FRAMEWORK_FLOORS]
    stacks = list(dict.fromkeys([*(_RAW[name] for name in names if name in _RAW), *([AIOHTTP] if floors else [])]))
    raw, missing = create(stacks)
    url = f"{endpoint.v1_url}/responses"
    calls: dict[str, Call] = {}
    frameworks = [FRAMEWORK_FLOORS[name][0] for name in floors]
    built, failed = build([name for name in names if name not in _RAW and name not in floors] + frameworks, endpoint)
    missing.update(failed)
    for name in names:
        if name in _RAW and _RAW[name] in raw:
            calls[name] = partial(raw[_RAW[name]].call, url)
        elif name in floors:
            framework = FRAMEWORK_FLOORS[name][0]
            if AIOHTTP in raw and framework in built:
                calls[name] = partial(_in_turn, partial(raw[AIOHTTP].call, url), built[framework].ainvoke)
            else:
                missing[name] = missing.get(AIOHTTP) or missing.get(framework, "not built")
        elif name in built:
            calls[name] = built[name].ainvoke
    return calls, list(raw.values()), missing


async def _in_turn(first: Call, then: Call) -> object:
    await first()
    return await then()


async def _measure(
    server: SocketServer, names: list[str], *, calls: int, concurrency: int, rounds: int
) -> tuple[dict[str, list[LoadResult]], dict[str, str]]:
    contenders, raw, missing = await _calls(names, endpoint_of(server))
    results: dict[str, list[LoadResult]] = {name: [] for name in contenders}
    try:
        for name, call in list(contenders.items()):  # warm-up, and out with whoever cannot answer
            try:
                await asyncio.gather(*(call() for _ in range(concurrency)))
            except Exception as error:
                missing[name] = f"warm-up failed: {type(error).__name__}: {str(error)[:160]}"
                del contenders[name], results[name]
        for round_number in range(rounds):
            for name in rotated(list(contenders), round_number):
                # Idle pooled connections expire while a slow contender runs (aiohttp keeps them 15 s): each
                # contender is measured with its pool filled again, as in an application under steady load, not
                # charged for reconnecting because of where the rotation put it.
                await asyncio.gather(*(contenders[name]() for _ in range(concurrency)))
                results[name].append(await measured(server, contenders[name], calls, concurrency))
    finally:
        for client in raw:
            await client.close()
        await _let_go(contenders)
    return results, missing


async def _let_go(contenders: dict[str, Call]) -> None:
    """Drop the contenders while their loop still runs, and wait for the closing they start.

    The openai SDK closes a collected async client by scheduling `aclose()` on whichever loop is running at that
    moment; collected later, in the next section's loop, its sockets belong to a closed loop ("Event loop is closed").
    """
    contenders.clear()
    gc.collect()
    closing = asyncio.all_tasks() - {asyncio.current_task()}
    if closing:
        await asyncio.wait(closing, timeout=5)


def _load_row(name: str, summary: LoadSummary, calls: int, concurrency: int) -> Row:
    ours = name in OURS
    passed = (summary.connections_used <= POOL_LIMIT and not summary.errors) if ours else None
    return Row(
        f"{name}: {calls:,} calls at concurrency {concurrency}",
        f"{summary.throughput:,.0f} calls/s",
        load_context(summary),
        spread(summary.throughputs, lambda value: f"{value:,.0f}"),
        f"≤ {POOL_LIMIT} connections, no errors" if ours else "",
        passed,
    )


def _target_row(target: Target, results: dict[str, list[LoadResult]], missing: dict[str, str]) -> Row:
    label = f"{target.subject} ÷ {target.baseline}, calls/s at concurrency"
    bound = f"≥ {target.at_least}{TIMES}" if target.at_least is not None else ""
    absent = [name for name in (target.subject, target.baseline) if name not in results]
    if absent:
        why = "; ".join(f"{name}: {missing.get(name, 'not run')}" for name in absent)
        return Row(label, "n/a", why, "", bound, False if bound else None)
    ratios = [
        mine.throughput / theirs.throughput if theirs.throughput else float("inf")
        for mine, theirs in zip(results[target.subject], results[target.baseline], strict=True)
    ]
    value = statistics.median(ratios)
    passed = None if target.at_least is None else value >= target.at_least
    return Row(label, ratio(value), "per-round ratio of throughputs", spread(ratios), bound, passed)


def sequential_rows(server: SocketServer) -> list[Row]:
    """Sequential calls of each adapter go through one kept-alive connection, sync and async: the connections that
    carried them are counted (the process's shared pool may have opened that one for an earlier contender)."""
    endpoint = endpoint_of(server)
    rows = []
    for name in OURS:
        built, missing = build([name], endpoint)
        label = f"{name}: TCP connections for {SEQUENTIAL_CALLS} sequential calls"
        if name not in built:
            rows.append(Row(label, "n/a", missing[name], "", "1", False))
            continue
        contender, method = built[name], "invoke" if name == CHAT_WORKERS_AI else "chat"
        for mode, used in (
            ("sync", _sync_connections(server, contender)),
            ("async", _async_connections(server, contender)),
        ):
            call = method if mode == "sync" else f"a{method}"
            rows.append(Row(f"{label} ({call}, {mode})", str(used), "", "", "1", used == 1))
    return rows


def _sync_connections(server: SocketServer, contender: Contender) -> int:
    server.reset()
    for _ in range(SEQUENTIAL_CALLS):
        contender.invoke()
    return server.stats().used


def _async_connections(server: SocketServer, contender: Contender) -> int:
    async def calls() -> None:
        for _ in range(SEQUENTIAL_CALLS):
            await contender.ainvoke()

    server.reset()
    asyncio.run(calls())
    return server.stats().used


def run(*, calls: int, concurrency: int, rounds: int, include_alternatives: bool = True) -> Section:
    section = Section(f"5. Concurrency on the canned socket server ({calls:,} calls, {concurrency} at a time)")
    names = [RAW_AIOHTTP, RAW_HTTPX, *FRAMEWORK_FLOORS, *OURS, *(ALTERNATIVES if include_alternatives else ())]
    with SocketServer() as server:
        section.rows += sequential_rows(server)
        results, missing = asyncio.run(_measure(server, names, calls=calls, concurrency=concurrency, rounds=rounds))
    for target in TARGETS:
        if include_alternatives or target.baseline not in ALTERNATIVES:
            section.add(_target_row(target, results, missing))
    for name in names:
        if name in results:
            section.add(_load_row(name, summarise(results[name]), calls, concurrency))
        else:
            bound = f"≤ {POOL_LIMIT} connections" if name in OURS else ""
            section.missing(
                f"{name}: {calls:,} calls at concurrency {concurrency}", missing.get(name, "not run"), bound
            )
    section.notes.append(
        f"- {rounds} rounds, order rotating, every contender created once and run in one event loop, each "
        "measurement after a burst of one call per worker that fills its pool again; throughput: median (min to max) "
        "of rounds; latency percentiles over all calls; CPU per call: median of rounds, this process (the client) and "
        "the server's child process apart."
    )
    section.notes.append(
        "- A framework's floor (raw aiohttp, then FakeListChatModel or the LlamaIndex canned chat, as one call) is "
        "where an adapter whose own work cost nothing would land: a floor below half of raw aiohttp puts the first "
        "target out of any adapter's reach, and the adapter's ratio to its floor is the share of the distance that is "
        "its own. The LlamaIndex canned chat answers at once behind LlamaIndex's chat decorator; MockLLM, the floor "
        "before, answers chat through a second decorated call (complete) and counted LlamaIndex's work twice."
    )
    return section
