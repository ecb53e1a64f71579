"""Recording traffic at the httpx layer: transports that pass every exchange through and keep a copy of it.

The adapters accept a caller's `httpx.Client` / `httpx.AsyncClient` (`http_client=`, `http_async_client=`), so the
harness hands them clients whose transport tees the request body and the reply bytes, exactly as they crossed the
socket, into a `Recorder`. Nothing in `cfai` is patched. Each exchange is labelled with the scenario step that was
running, so that a capture can say where it came from.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

# Generous for a loopback server; every request the harness makes is bounded by it.
REQUEST_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


@dataclass
class Exchange:
    """One request and the bytes of its reply, as sent and received."""

    label: str
    method: str
    path: str
    request_body: bytes
    status: int = 0
    content_type: str = ""
    reply: bytearray = field(default_factory=bytearray)

    def request_json(self) -> Any:
        return json.loads(self.request_body) if self.request_body else None

    @property
    def streamed(self) -> bool:
        return self.content_type.startswith("text/event-stream")


@dataclass
class Recorder:
    """Collects exchanges; `label` names the step in progress and is stamped on each new exchange."""

    label: str = ""
    exchanges: list[Exchange] = field(default_factory=list)

    def begin(self, request: httpx.Request, response: httpx.Response) -> Exchange:
        exchange = Exchange(
            label=self.label,
            method=request.method,
            path=request.url.path,
            request_body=bytes(request.content),
            status=response.status_code,
            content_type=response.headers.get("content-type", ""),
        )
        self.exchanges.append(exchange)
        return exchange


class _TeeStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, exchange: Exchange) -> None:
        self._inner = inner
        self._exchange = exchange

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._exchange.reply.extend(chunk)
            yield chunk

    def close(self) -> None:
        self._inner.close()


class _AsyncTeeStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, exchange: Exchange) -> None:
        self._inner = inner
        self._exchange = exchange

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._exchange.reply.extend(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class RecordingTransport(httpx.BaseTransport):
    """httpx's own transport, with each reply's bytes copied into the recorder as the client reads them."""

    def __init__(self, recorder: Recorder) -> None:
        self._inner = httpx.HTTPTransport()
        self._recorder = recorder

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        exchange = self._recorder.begin(request, response)
        assert isinstance(response.stream, httpx.SyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_TeeStream(response.stream, exchange),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._inner.close()


class AsyncRecordingTransport(httpx.AsyncBaseTransport):
    """The async twin of `RecordingTransport`."""

    def __init__(self, recorder: Recorder) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._recorder = recorder

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        exchange = self._recorder.begin(request, response)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_AsyncTeeStream(response.stream, exchange),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


def recording_clients(recorder: Recorder) -> tuple[httpx.Client, httpx.AsyncClient]:
    """A sync and an async client whose traffic lands in `recorder`; the caller closes both."""
    return (
        httpx.Client(transport=RecordingTransport(recorder), timeout=REQUEST_TIMEOUT),
        httpx.AsyncClient(transport=AsyncRecordingTransport(recorder), timeout=REQUEST_TIMEOUT),
    )
