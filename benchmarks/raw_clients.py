"""The async HTTP stacks a client module could sit on, each doing exactly what cfai's client does per call.

Per call: POST a JSON body built once beforehand with cfai's headers, read the whole reply, `json.loads` it. Per
stream: POST, read the SSE reply chunk by chunk through cfai's `SSEDecoder`, `json.loads` every event. Nothing else,
so the differences between the rows are the stacks' own:

- `httpx` with a 100-connection pool (the limits cfai's clients use), sending a prebuilt `httpx.Request`;
- `httpx` over `httpx_aiohttp`'s transport (aiohttp underneath, httpx's API on top; the openai SDK offers it);
- aiohttp's `ClientSession` directly, with a 100-connection `TCPConnector`.

Every stack is created inside the running event loop that uses it, and closed there.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from benchmarks.canned import API_TOKEN, MODEL, PROMPT, dump
from cfai.wire.sse import SSEDecoder

HTTPX_POOL = "httpx, 100-connection pool"
HTTPX_AIOHTTP = "httpx over httpx_aiohttp's AiohttpTransport"
AIOHTTP = "aiohttp ClientSession"

POOL_SIZE = 100
CONNECT_SECONDS, READ_SECONDS = 5.0, 60.0
BODY = dump({"model": MODEL, "input": PROMPT})
HEADERS = {
    "authorization": f"Bearer {API_TOKEN}",
    "user-agent": "cfai/0.1.0",
    "content-type": "application/json",
}
_HTTPX_LIMITS = httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE)
_HTTPX_TIMEOUT = httpx.Timeout(READ_SECONDS, connect=CONNECT_SECONDS)


@dataclass(frozen=True)
class RawClient:
    """`call(url)` returns the parsed reply; `stream(url)` returns how many events it parsed."""

    name: str
    call: Callable[[str], Awaitable[object]]
    stream: Callable[[str], Awaitable[int]]
    close: Callable[[], Awaitable[None]]


def _events_in(decoder: SSEDecoder, chunk: bytes) -> int:
    count = 0
    for event in decoder.feed(chunk):
        if event.data != "[DONE]":
            json.loads(event.data)
            count += 1
    return count


def _httpx_client(name: str, client: httpx.AsyncClient, send: Callable[..., Awaitable[httpx.Response]]) -> RawClient:
    headers = httpx.Headers(HEADERS)
    extensions = {"timeout": _HTTPX_TIMEOUT.as_dict()}

    def request(url: str) -> httpx.Request:
        return httpx.Request("POST", url, content=BODY, headers=headers, extensions=extensions)

    async def call(url: str) -> object:
        response = await send(client, request(url), stream=False)
        response.raise_for_status()
        return json.loads(response.content)

    async def stream(url: str) -> int:
        response = await send(client, request(url), stream=True)
        try:
            response.raise_for_status()
            decoder, count = SSEDecoder(), 0
            async for chunk in response.aiter_bytes():
                count += _events_in(decoder, chunk)
            return count
        finally:
            await response.aclose()

    return RawClient(name, call, stream, client.aclose)


async def _plain_send(client: httpx.AsyncClient, request: httpx.Request, *, stream: bool) -> httpx.Response:
    return await client.send(request, stream=stream)


def httpx_pool() -> RawClient:
    return _httpx_client(HTTPX_POOL, httpx.AsyncClient(limits=_HTTPX_LIMITS, timeout=_HTTPX_TIMEOUT), _plain_send)


def httpx_over_aiohttp() -> RawClient:
    from httpx_aiohttp import AiohttpTransport

    client = httpx.AsyncClient(transport=AiohttpTransport(limits=_HTTPX_LIMITS), timeout=_HTTPX_TIMEOUT)
    return _httpx_client(HTTPX_AIOHTTP, client, _plain_send)


def aiohttp_session() -> RawClient:
    import aiohttp

    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=POOL_SIZE),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_SECONDS, sock_read=READ_SECONDS),
    )

    async def call(url: str) -> object:
        async with session.post(url, data=BODY, headers=HEADERS) as response:
            response.raise_for_status()
            return json.loads(await response.read())

    async def stream(url: str) -> int:
        async with session.post(url, data=BODY, headers=HEADERS) as response:
            response.raise_for_status()
            decoder, count = SSEDecoder(), 0
            async for chunk in response.content.iter_any():
                count += _events_in(decoder, chunk)
            return count

    return RawClient(AIOHTTP, call, stream, session.close)


RAW_CLIENTS: dict[str, Callable[[], RawClient]] = {
    HTTPX_POOL: httpx_pool,
    HTTPX_AIOHTTP: httpx_over_aiohttp,
    AIOHTTP: aiohttp_session,
}


def create(names: list[str]) -> tuple[dict[str, RawClient], dict[str, str]]:
    """The stacks that can be created here (inside a running loop), and for the others why not."""
    created: dict[str, RawClient] = {}
    missing: dict[str, str] = {}
    for name in names:
        try:
            created[name] = RAW_CLIENTS[name]()
        except ImportError as error:
            missing[name] = f"not installed: {error}"
    return created, missing


def describe(value: Any) -> str:
    return f"{type(value).__name__}: {str(value)[:160]}"
