"""The aiohttp prototype against the canned socket server: every failure becomes the cfai error a caller expects."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from benchmarks.aiohttp_send import send, stream
from benchmarks.socket_server import SocketServer
from cfai.errors import APIConnectionError, APITimeoutError
from cfai.wire.sse import SSEDecoder

BODY = b'{"model": "@cf/openai/gpt-oss-120b", "input": "hi"}'
HEADERS = {"content-type": "application/json"}
EVENTS = 40


@pytest.fixture(scope="module")
def server() -> Iterator[SocketServer]:
    with SocketServer(events=EVENTS) as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=2, sock_read=0.2)
    async with aiohttp.ClientSession(timeout=timeout) as opened:
        yield opened


async def test_a_whole_reply_comes_back(server: SocketServer, session: aiohttp.ClientSession) -> None:
    answer = await send(session, f"{server.base_url}/ai/v1/responses", BODY, HEADERS)
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    assert json.loads(answer.content)["object"] == "response"


async def test_a_whole_stream_comes_back(server: SocketServer, session: aiohttp.ClientSession) -> None:
    decoder, data = SSEDecoder(), []
    async for chunk in stream(session, f"{server.base_url}/ai/v1/stream", BODY, HEADERS):
        data += [event.data for event in decoder.feed(chunk)]
    assert len(data) == EVENTS and data[-1] == "[DONE]"


async def test_nothing_listening_is_a_connection_error(session: aiohttp.ClientSession) -> None:
    # Port 9 (discard) on loopback: nothing listens there.
    with pytest.raises(APIConnectionError, match="Could not reach") as caught:
        await send(session, "http://127.0.0.1:9/ai/v1/responses", BODY, HEADERS)
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectorError)
    assert not isinstance(caught.value, APITimeoutError)


async def test_no_answer_is_a_timeout(server: SocketServer, session: aiohttp.ClientSession) -> None:
    with pytest.raises(APITimeoutError) as caught:
        await send(session, f"{server.base_url}/ai/v1/hang", BODY, HEADERS)
    assert isinstance(caught.value.__cause__, aiohttp.SocketTimeoutError)


async def test_a_reply_cut_short_is_a_connection_error(server: SocketServer, session: aiohttp.ClientSession) -> None:
    with pytest.raises(APIConnectionError, match="cut short") as caught:
        await send(session, f"{server.base_url}/ai/v1/cut", BODY, HEADERS)
    assert isinstance(caught.value.__cause__, aiohttp.ClientPayloadError)
    assert not isinstance(caught.value, APITimeoutError)


async def test_a_stream_cut_short_raises_after_its_first_bytes(
    server: SocketServer, session: aiohttp.ClientSession
) -> None:
    received: list[bytes] = []
    with pytest.raises(APIConnectionError, match="cut short") as caught:
        async for chunk in stream(session, f"{server.base_url}/ai/v1/stream-cut", BODY, HEADERS):
            received.append(chunk)
    assert received, "the stream must fail after delivering its first events, not before"
    assert isinstance(caught.value.__cause__, aiohttp.ClientPayloadError)
