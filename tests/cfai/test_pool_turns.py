"""Turns at the async connection pool: when a turn ends, who goes next, and what ends a turn that never traced.

The transport below behaves like httpcore's pool from the outside: a request may first wait for a connection
(`hold_before_trace`), then emits a trace event once the connection is its own, then may wait for its answer
(`hold_after_trace`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from cfai import AsyncWorkersAIClient
from cfai.errors import APITimeoutError
from cfai.pool_turns import PoolTurns

URL = "http://127.0.0.1:8787/v1/responses"


class PoolLikeTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.hold_before_trace: dict[str, asyncio.Event] = {}
        self.hold_after_trace: dict[str, asyncio.Event] = {}
        self.fail_before_trace: set[str] = set()
        self.traced: list[str] = []
        self.answering: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        name = request.headers["x-name"]
        if name in self.hold_before_trace:
            await self.hold_before_trace[name].wait()
        if name in self.fail_before_trace:
            raise httpx.ConnectError("no connection", request=request)
        await request.extensions["trace"]("connection.connect_tcp.started", {})
        self.traced.append(name)
        self.answering.add(name)
        if name in self.hold_after_trace:
            await self.hold_after_trace[name].wait()
        self.answering.discard(name)
        return httpx.Response(200, text=name)


@pytest.fixture
def transport() -> PoolLikeTransport:
    return PoolLikeTransport()


@pytest.fixture
async def client(transport: PoolLikeTransport):
    async with httpx.AsyncClient(transport=transport) as client:
        yield client


def request(client: httpx.AsyncClient, name: str, **extensions: Any) -> httpx.Request:
    built = client.build_request("POST", URL, headers={"x-name": name})
    built.extensions = {**built.extensions, **extensions}
    return built


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def hold_the_turn(
    turns: PoolTurns, transport: PoolLikeTransport, client: httpx.AsyncClient, name: str
) -> tuple[asyncio.Task[httpx.Response], asyncio.Event]:
    """Starts a request that waits in the pool for a connection, holding the turn until the event is set."""
    free_connection = asyncio.Event()
    transport.hold_before_trace[name] = free_connection
    sending = asyncio.create_task(turns.send(client, request(client, name)))
    await settle()
    return sending, free_connection


async def test_a_turn_ends_at_the_first_trace_so_answers_are_awaited_concurrently(transport, client):
    turns = PoolTurns()
    names = [f"r{number}" for number in range(5)]
    answers = {name: asyncio.Event() for name in names}
    transport.hold_after_trace.update(answers)
    sending = [asyncio.create_task(turns.send(client, request(client, name))) for name in names]
    await settle()
    assert transport.answering == set(names)  # all five wait for their answers at once
    for event in answers.values():
        event.set()
    assert [response.text for response in await asyncio.gather(*sending)] == names


async def test_turns_are_granted_in_arrival_order_and_a_later_request_never_overtakes(transport, client):
    turns = PoolTurns()
    first, free_connection = await hold_the_turn(turns, transport, client, "first")
    sending = [first]
    sending += [asyncio.create_task(turns.send(client, request(client, name))) for name in ("second", "third")]
    await settle()
    assert transport.traced == []
    free_connection.set()
    sending.append(asyncio.create_task(turns.send(client, request(client, "late"))))
    await asyncio.gather(*sending)
    assert transport.traced == ["first", "second", "third", "late"]


async def test_a_request_that_fails_before_tracing_ends_its_turn(transport, client):
    turns = PoolTurns()
    transport.fail_before_trace.add("broken")
    with pytest.raises(httpx.ConnectError):
        await turns.send(client, request(client, "broken"))
    assert (await turns.send(client, request(client, "next"))).text == "next"


async def test_a_request_cancelled_while_waiting_for_its_turn_gives_it_up(transport, client):
    turns = PoolTurns()
    first, free_connection = await hold_the_turn(turns, transport, client, "first")
    waiting = asyncio.create_task(turns.send(client, request(client, "cancelled")))
    await settle()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    free_connection.set()
    await first
    assert (await turns.send(client, request(client, "next"))).text == "next"
    assert transport.traced == ["first", "next"]


async def test_a_request_cancelled_while_holding_its_turn_passes_it_on(transport, client):
    turns = PoolTurns()
    stuck, _never_set = await hold_the_turn(turns, transport, client, "stuck")
    queued = asyncio.create_task(turns.send(client, request(client, "queued")))
    await settle()
    stuck.cancel()
    assert (await queued).text == "queued"


async def test_waiting_for_a_turn_longer_than_the_pool_timeout_raises_pool_timeout(transport, client):
    turns = PoolTurns()
    first, free_connection = await hold_the_turn(turns, transport, client, "first")
    impatient = request(client, "impatient", timeout={"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 0.01})
    with pytest.raises(httpx.PoolTimeout):
        await turns.send(client, impatient)
    free_connection.set()
    await first
    assert transport.traced == ["first"]


async def test_a_requests_shared_extensions_mapping_is_left_alone(transport, client):
    shared = {"timeout": httpx.Timeout(5.0).as_dict()}
    built = httpx.Request("POST", URL, headers={"x-name": "one"}, extensions=shared)
    await PoolTurns().send(client, built)
    assert shared == {"timeout": httpx.Timeout(5.0).as_dict()}
    assert "trace" in built.extensions


async def test_only_clients_cfai_creates_take_turns(fixtures):
    """A caller's transport may never trace (MockTransport does not), where a turn would serialise every call."""
    seen: list[httpx.Request] = []

    def handler(sent: httpx.Request) -> httpx.Response:
        seen.append(sent)
        return httpx.Response(200, json=fixtures.json("responses-text.json"))

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http_client:
        client = AsyncWorkersAIClient(http_client=http_client, account_id="a" * 32, api_token="t")
        await client.create({"model": "@cf/openai/gpt-oss-120b", "input": "hi"})
    assert "trace" not in seen[0].extensions


async def test_clients_cfai_creates_take_turns(monkeypatch, fixtures):
    seen: list[httpx.Request] = []

    def handler(sent: httpx.Request) -> httpx.Response:
        seen.append(sent)
        return httpx.Response(200, json=fixtures.json("responses-text.json"))

    real = httpx.AsyncClient
    monkeypatch.setattr(httpx, "AsyncClient", lambda **options: real(transport=httpx.MockTransport(handler), **options))
    async with AsyncWorkersAIClient(account_id="a" * 32, api_token="t") as client:
        await client.create({"model": "@cf/openai/gpt-oss-120b", "input": "hi"})
    assert callable(seen[0].extensions["trace"])


async def test_a_pool_timeout_while_waiting_for_a_turn_is_an_api_timeout(monkeypatch, fixtures):
    free_connection = asyncio.Event()
    calls: list[str] = []

    async def handler(sent: httpx.Request) -> httpx.Response:
        calls.append(sent.url.path)
        if len(calls) == 1:
            await free_connection.wait()  # holds its turn: this transport never traces
        return httpx.Response(200, json=fixtures.json("responses-text.json"))

    real = httpx.AsyncClient
    monkeypatch.setattr(httpx, "AsyncClient", lambda **options: real(transport=httpx.MockTransport(handler), **options))
    body = {"model": "@cf/openai/gpt-oss-120b", "input": "hi"}
    timeout = httpx.Timeout(5.0, pool=0.01)
    async with AsyncWorkersAIClient(account_id="a" * 32, api_token="t", timeout=timeout, max_retries=0) as client:
        first = asyncio.create_task(client.create(body))
        await settle()
        with pytest.raises(APITimeoutError, match="PoolTimeout"):
            await client.create(body)
        free_connection.set()
        assert (await first).text
