"""Sending one request over aiohttp, for the asynchronous clients of the pools cfai keeps itself.

Why aiohttp: at 100 concurrent calls against a canned server on loopback, httpx's async pool served about 150
calls/s at 6.5 ms of client CPU each (its pool hands one idle connection to several waiting requests,
encode/httpcore#822), httpx over aiohttp's transport about 1,700, and aiohttp itself about 2,600 at 0.34 ms
(benchmarks/RESULTS.md, "Async HTTP stacks"). httpx stays for synchronous calls and for any `httpx.AsyncClient` a
caller passes in.

`Answer` gives the transport's request loop and stream readers what they read of an httpx.Response (`status_code`,
`headers`, `aread`, `aiter_bytes`, `aclose`), so the two kinds of client share everything past sending.
`aiohttp_errors` translates aiohttp's exceptions as `cfai.transport.httpx_errors` does httpx's: timeouts first, as
aiohttp's timeout classes are also connection errors in its tree.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING

import aiohttp
from yarl import URL

from cfai.errors import TranslatedErrors

if TYPE_CHECKING:
    import httpx

__all__ = ["Answer", "aiohttp_errors", "client_timeout", "new_session", "parsed_url", "send"]


def parsed_url(url: str) -> URL:
    """A URL parsed once (aiohttp would parse a string again on every request); cfai's URLs are already encoded."""
    return URL(url, encoded=True)


def new_session(pool_size: int) -> aiohttp.ClientSession:
    """A session for one event loop: `pool_size` connections kept alive, no cookies kept, no timeout of its own
    (each request brings its own)."""
    connector = aiohttp.TCPConnector(limit=pool_size, limit_per_host=0)
    return aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar(), timeout=aiohttp.ClientTimeout(total=None)
    )


def client_timeout(timeout: httpx.Timeout) -> aiohttp.ClientTimeout:
    """httpx's four timeouts in aiohttp's terms: waiting for a pooled connection and connecting, then each read."""
    waiting = None if timeout.pool is None and timeout.connect is None else (timeout.pool or 0) + (timeout.connect or 0)
    return aiohttp.ClientTimeout(total=None, connect=waiting, sock_connect=timeout.connect, sock_read=timeout.read)


def aiohttp_errors(secrets: Sequence[str]) -> TranslatedErrors:
    """aiohttp's exceptions as ours; its timeout classes are also connection errors in its tree, so they go first."""
    return TranslatedErrors(secrets, timeouts=(asyncio.TimeoutError,), failures=(aiohttp.ClientError,))


class Answer:
    """An aiohttp response, read as the transport reads an httpx.Response."""

    __slots__ = ("_response", "headers", "status_code")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status_code = response.status
        self.headers: Mapping[str, str] = response.headers

    async def aread(self) -> bytes:
        return await self._response.read()

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        # aiohttp's own iterator, not a generator around it: one layer less for each chunk of a token stream.
        return self._response.content.iter_any()

    async def aclose(self) -> None:
        self._response.release()


async def send(
    session: aiohttp.ClientSession, url: URL, content: bytes, headers: Mapping[str, str], timeout: aiohttp.ClientTimeout
) -> Answer:
    """POSTs `content` and returns once the status and headers arrived; the body is read through the Answer."""
    response = await session.request("POST", url, data=content, headers=headers, timeout=timeout)
    return Answer(response)
