"""A prototype, not used by cfai: sending one request over aiohttp with the error translation cfai's transport owes
its callers (connection refused, timeouts, a reply or a stream cut short), to judge what an aiohttp-based async
transport would take. `tests/benchmarks/test_aiohttp_send.py` runs every case against the canned socket server.

What aiohttp 3.x raises, and what cfai must raise instead:

- nothing listens on the port: `ClientConnectorError` (a `ClientOSError`, an `OSError`) -> `APIConnectionError`;
- no answer within `sock_read`: `SocketTimeoutError` (a `ServerTimeoutError`, itself an `asyncio.TimeoutError`)
  -> `APITimeoutError`; no connection within `sock_connect`: `ConnectionTimeoutError` (a `ServerTimeoutError`)
  -> `APITimeoutError`; the `total` deadline: a bare `asyncio.TimeoutError` -> `APITimeoutError`;
- a body shorter than its content length: `ClientPayloadError` (wrapping `ContentLengthError`) from `read()`
  -> `APIConnectionError`;
- a chunked stream closed before its last chunk: `ClientPayloadError` (wrapping `TransferEncodingError`) while
  iterating -> `APIConnectionError`;
- the server closed a kept-alive connection: `ServerDisconnectedError` (a `ClientConnectionError`)
  -> `APIConnectionError`.

The order of the table below matters: timeouts are connection errors in aiohttp's tree, and must win. (httpx_aiohttp's
own map turns every `ClientConnectionError` it does not know better, `ServerDisconnectedError` included, into
`httpx.ConnectTimeout`, which httpx-based error handling would report as a timeout.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import aiohttp

from cfai.errors import APIConnectionError, APITimeoutError, WorkersAIError

_TRANSLATIONS: tuple[tuple[type[BaseException], type[WorkersAIError], str], ...] = (
    (aiohttp.ServerTimeoutError, APITimeoutError, "Workers AI did not answer in time"),
    (asyncio.TimeoutError, APITimeoutError, "Workers AI did not answer in time"),
    (aiohttp.ClientPayloadError, APIConnectionError, "The Workers AI reply was cut short"),
    (aiohttp.ClientError, APIConnectionError, "Could not reach Workers AI"),
)


@contextmanager
def translate_aiohttp_errors() -> Iterator[None]:
    """aiohttp's exceptions become cfai's, the cause chained; anything else passes through untouched."""
    try:
        yield
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        for kind, ours, message in _TRANSLATIONS:
            if isinstance(error, kind):
                raise ours(f"{message} ({type(error).__name__}).") from error
        raise


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    content: bytes


async def send(session: aiohttp.ClientSession, url: str, body: bytes, headers: Mapping[str, str]) -> Answer:
    """POSTs `body` and reads the whole reply; what the status means is the caller's to decide."""
    with translate_aiohttp_errors():
        async with session.post(url, data=body, headers=headers) as response:
            return Answer(response.status, response.headers, await response.read())


async def stream(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: Mapping[str, str]
) -> AsyncIterator[bytes]:
    """POSTs `body` and yields the reply's bytes as they arrive; a stream cut short raises, never ends quietly."""
    with translate_aiohttp_errors():
        async with session.post(url, data=body, headers=headers) as response:
            async for chunk in response.content.iter_any():
                yield chunk
