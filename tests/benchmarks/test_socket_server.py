"""The canned socket server counts what the concurrency figures rely on: connections opened and used, requests."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from benchmarks.socket_server import SocketServer

EVENTS = 12


@pytest.fixture(scope="module")
def server() -> Iterator[SocketServer]:
    with SocketServer(events=EVENTS) as running:
        yield running


def test_kept_alive_calls_count_one_connection_and_every_request(server: SocketServer) -> None:
    server.reset()
    with httpx.Client() as client:
        replies = [client.post(f"{server.base_url}/ai/v1/responses", content=b"{}") for _ in range(3)]
    stats = server.stats()
    assert [json.loads(reply.content)["object"] for reply in replies] == ["response"] * 3
    assert (stats.opened, stats.used, stats.requests) == (1, 1, 3)
    assert stats.cpu >= 0


def test_a_connection_opened_before_a_reset_counts_as_used_not_opened(server: SocketServer) -> None:
    with httpx.Client() as client:
        client.post(f"{server.base_url}/ai/v1/responses", content=b"{}")
        server.reset()
        client.post(f"{server.base_url}/ai/v1/responses", content=b"{}")
        stats = server.stats()
    assert (stats.opened, stats.used, stats.requests) == (0, 1, 1)


def test_the_stream_route_sends_its_events_chunked(server: SocketServer) -> None:
    with httpx.Client() as client, client.stream("POST", f"{server.base_url}/ai/v1/stream", content=b"{}") as reply:
        assert reply.headers["transfer-encoding"] == "chunked"
        data = [line for line in reply.iter_lines() if line.startswith("data: ")]
    assert len(data) == EVENTS and data[-1] == "data: [DONE]"
    first = json.loads(data[0].removeprefix("data: "))
    assert first["object"] == "chat.completion.chunk"
