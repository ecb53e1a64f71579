"""Section 6: which async HTTP stack keeps up with the socket, measured without any cfai or framework code on top.

Each stack of `benchmarks.raw_clients` does what cfai's client does per call, against the canned socket server at
the same concurrency: JSON calls (POST, read, `json.loads`) and SSE streams of a few hundred events. All stacks live
in one event loop for the whole section, as in an application; each round runs every stack once, in an order that
rotates every round, after one untimed warm-up burst that opens their connections.
"""

from __future__ import annotations

import asyncio
import statistics
from functools import partial

from benchmarks.canned import ACCOUNT_ID
from benchmarks.load import LoadResult, load_context, measured, summarise
from benchmarks.raw_clients import AIOHTTP, HTTPX_AIOHTTP, HTTPX_POOL, RawClient, create
from benchmarks.report import Row, Section, ratio, spread
from benchmarks.socket_server import SSE_EVENTS, SocketServer
from benchmarks.timing import rotated

EVENTS = SSE_EVENTS
STACKS = [HTTPX_POOL, HTTPX_AIOHTTP, AIOHTTP]
# The socket server answers by the end of the path: JSON for `/responses`, SSE for `/stream`.
JSON_PATH = f"/client/v4/accounts/{ACCOUNT_ID}/ai/v1/responses"
STREAM_PATH = f"/client/v4/accounts/{ACCOUNT_ID}/ai/v1/chat/completions/stream"

Runs = dict[str, list[LoadResult]]


async def _rounds(
    server: SocketServer, clients: dict[str, RawClient], *, calls: int, streams: int, concurrency: int, rounds: int
) -> tuple[Runs, Runs]:
    json_url, stream_url = server.base_url + JSON_PATH, server.base_url + STREAM_PATH
    json_runs: Runs = {name: [] for name in clients}
    stream_runs: Runs = {name: [] for name in clients}
    for client in clients.values():  # warm-up: the pools open their connections
        await asyncio.gather(*(client.call(json_url) for _ in range(concurrency)))
    for round_number in range(rounds):
        for name in rotated(list(clients), round_number):
            client = clients[name]
            json_runs[name].append(await measured(server, partial(client.call, json_url), calls, concurrency))
            stream_runs[name].append(await measured(server, partial(client.stream, stream_url), streams, concurrency))
    return json_runs, stream_runs


async def _measure(
    server: SocketServer, *, calls: int, streams: int, concurrency: int, rounds: int
) -> tuple[Runs, Runs, dict[str, str]]:
    clients, missing = create(STACKS)
    try:
        json_runs, stream_runs = await _rounds(
            server, clients, calls=calls, streams=streams, concurrency=concurrency, rounds=rounds
        )
    finally:
        for client in clients.values():
            await client.close()
    return json_runs, stream_runs, missing


def _rows(runs: Runs, label: str, unit: str, events: int = 0) -> list[Row]:
    rows = []
    for name, results in runs.items():
        summary = summarise(results)
        context = load_context(summary, unit)
        if events:
            per_event = summary.client_cpu_per_call / events
            context = f"client CPU {per_event * 1e6:,.1f} µs/event; " + context
        rows.append(
            Row(
                f"{name}: {label}",
                f"{summary.throughput:,.0f} {unit}s/s",
                context,
                spread(summary.throughputs, lambda value: f"{value:,.0f}"),
            )
        )
    return rows


def _versus(runs: Runs, subject: str, baseline: str, label: str) -> Row | None:
    if subject not in runs or baseline not in runs:
        return None
    ratios = [
        mine.throughput / theirs.throughput if theirs.throughput else float("nan")
        for mine, theirs in zip(runs[subject], runs[baseline], strict=True)
    ]
    return Row(f"{subject} ÷ {baseline}, {label} throughput", ratio(statistics.median(ratios)), "", spread(ratios))


def run(*, calls: int, streams: int, concurrency: int, rounds: int, events: int) -> Section:
    section = Section(
        f"6. Async HTTP stacks on the canned socket server ({calls:,} calls and {streams:,} streams of "
        f"{events} events, {concurrency} at a time)"
    )
    with SocketServer(events=events) as server:
        json_runs, stream_runs, missing = asyncio.run(
            _measure(server, calls=calls, streams=streams, concurrency=concurrency, rounds=rounds)
        )
    section.rows += _rows(json_runs, f"{calls:,} JSON calls at concurrency {concurrency}", "call")
    section.rows += _rows(stream_runs, f"{streams:,} SSE streams at concurrency {concurrency}", "stream", events)
    for runs, label in ((json_runs, "JSON"), (stream_runs, "SSE")):
        for name in (HTTPX_POOL, HTTPX_AIOHTTP):
            row = _versus(runs, name, AIOHTTP, label)
            if row:
                section.add(row)
    section.notes += [f"- {name} not measured: {why}" for name, why in missing.items()]
    section.notes.append(_method_note(rounds))
    return section


def _method_note(rounds: int) -> str:
    return (
        f"- {rounds} rounds, order rotating, all stacks in one event loop after a warm-up burst; throughput: median "
        "(min to max) of rounds; latency percentiles over all calls; CPU per call: median of rounds, the client's "
        "process and the server's child process apart. Each call POSTs the same prebuilt body with cfai's headers "
        "and `json.loads` the whole reply; each stream feeds cfai's SSE decoder and `json.loads` every event."
    )
