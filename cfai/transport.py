"""The one way this package talks HTTP: sync and async Workers AI clients over httpx.

Everything but the I/O is shared: settings come from `cfai.config`, retry decisions from `cfai.retry`, reply parsing
and stream translation from `cfai.wire`. The two client classes below are mirror images that only send bytes, sleep
and read. httpx exceptions and HTTP error statuses are translated into `cfai.errors` here and nowhere else.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
from typing_extensions import Unpack

from cfai.config import ClientSettings, StreamMode, resolve_config
from cfai.errors import APIConnectionError, APITimeoutError, WorkersAIError, error_from_status, redact
from cfai.pool_turns import PoolTurns
from cfai.retry import RetryPolicy, retry_delay
from cfai.wire.accumulator import replay
from cfai.wire.chat_completions import ChatCompletionsStreamReader, chat_request_from
from cfai.wire.finish import ReplyFinisher
from cfai.wire.reply import reply_from_bytes
from cfai.wire.request import dumps
from cfai.wire.responses_stream import ResponsesStreamReader
from cfai.wire.sse import SSEDecoder
from cfai.wire.types import Reply, StreamEvent

__all__ = ["AsyncWorkersAIClient", "WorkersAIClient"]

RESPONSES_PATH = "responses"
CHAT_COMPLETIONS_PATH = "chat/completions"

StreamReader = ResponsesStreamReader | ChatCompletionsStreamReader

# httpx keeps only 20 idle connections by default, so a burst of 100 concurrent calls would open new connections
# for most of the calls after it; keeping as many idle as may be open lets a burst reuse what it opened.
POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)


@contextmanager
def translate_errors(secrets: Sequence[str]) -> Iterator[None]:
    """Turns httpx's transport exceptions into ours, keeping the cause chained for debugging."""
    try:
        yield
    except httpx.TimeoutException as error:
        raise APITimeoutError(
            f"Workers AI did not answer in time ({type(error).__name__}); raise timeout= or try again."
        ) from error
    except (httpx.TransportError, httpx.StreamError) as error:
        message = redact(str(error) or type(error).__name__, secrets)
        raise APIConnectionError(f"Could not reach Workers AI: {message}") from error


class _Shared:
    """Settings and pure per-request decisions common to both clients."""

    def __init__(self, **settings: Unpack[ClientSettings]) -> None:
        self.config = resolve_config(**settings)
        self.policy = RetryPolicy(max_retries=self.config.max_retries)
        self.secrets = (self.config.token.get_secret_value(),)
        self.headers = httpx.Headers({**self.config.headers, "content-type": "application/json"})
        # Parsed once: httpx would otherwise parse the URL string again on every request (a large share of the
        # per-call cost measured in benchmarks/).
        self.urls = {path: httpx.URL(self.config.url(path)) for path in (RESPONSES_PATH, CHAT_COMPLETIONS_PATH)}
        self.extensions = {"timeout": self.config.timeout.as_dict()}
        self._merged_headers: tuple[list[tuple[bytes, bytes]], httpx.Headers] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.config.base_url!r})"

    def stream_mode(self, mode: StreamMode | None) -> StreamMode:
        chosen = mode or self.config.stream_mode
        if chosen == "auto":
            # Cloudflare does not stream /responses for gpt-oss (WIRE.md); other servers usually do.
            return "buffered" if self.config.is_cloudflare else "responses"
        return chosen

    def stream_route(self, body: Mapping[str, Any], mode: StreamMode) -> tuple[str, dict[str, Any], StreamReader]:
        """Where a streaming request goes, what it carries, and which reader understands the answer."""
        if mode == "chat_completions":
            return CHAT_COMPLETIONS_PATH, chat_request_from(body), ChatCompletionsStreamReader()
        return RESPONSES_PATH, {**body, "stream": True}, ResponsesStreamReader()

    def build(self, client: httpx.Client | httpx.AsyncClient, path: str, body: Mapping[str, Any]) -> httpx.Request:
        content = dumps(body).encode()
        if client.cookies or client.params:
            # httpx's own merge covers what a caller's client adds beyond headers.
            return client.build_request(
                "POST", self.urls[path], content=content, headers=self.headers, timeout=self.config.timeout
            )
        return httpx.Request(
            "POST", self.urls[path], content=content, headers=self._headers_for(client), extensions=self.extensions
        )

    def _headers_for(self, client: httpx.Client | httpx.AsyncClient) -> httpx.Headers:
        """The client's own default headers overlaid with ours, merged again only when the client's change.

        What httpx's build_request would do on every call, at a fraction of the cost (benchmarks/).
        """
        current = client.headers.raw
        cached = self._merged_headers
        if cached is None or cached[0] != current:
            merged = httpx.Headers(client.headers)
            merged.update(self.headers)
            cached = self._merged_headers = (current, merged)
        return cached[1]

    def error_for(self, response: httpx.Response) -> WorkersAIError:
        return error_from_status(response.status_code, response.content, response.headers, secrets=self.secrets)


def _is_json(response: httpx.Response) -> bool:
    # Some servers ignore `stream: true` and answer one JSON reply (Cloudflare's /ai/run once did, WIRE.md quirk 1).
    content_type: str = response.headers.get("content-type", "")
    return content_type.startswith("application/json")


def _incomplete_stream() -> APIConnectionError:
    return APIConnectionError(
        "The Workers AI stream ended before the response was complete; the partial answer was discarded."
    )


class WorkersAIClient(_Shared):
    """Synchronous client. Creates its httpx.Client on first use and closes only a client it created."""

    def __init__(
        self,
        *,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **settings: Unpack[ClientSettings],
    ) -> None:
        super().__init__(**settings)
        self._http = http_client
        self._owns_http = http_client is None
        self._sleep = sleep

    @property
    def http_client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(timeout=self.config.timeout, limits=POOL_LIMITS)
        return self._http

    def create(self, body: Mapping[str, Any], *, stop: Sequence[str] | None = None) -> Reply:
        """Sends a Responses request and returns the whole reply."""
        response = self._send(body)
        return ReplyFinisher(body, stop).finish(reply_from_bytes(response.content))

    def stream(
        self, body: Mapping[str, Any], *, stop: Sequence[str] | None = None, mode: StreamMode | None = None
    ) -> Iterator[StreamEvent]:
        """Yields stream events ending with one ReplyDone; see docs/design.md's stream modes."""
        chosen = self.stream_mode(mode)
        events = self._buffered(body) if chosen == "buffered" else self._sse(*self.stream_route(body, chosen))
        finisher = ReplyFinisher(body, stop)
        for event in events:
            yield from finisher.feed(event)

    def _buffered(self, body: Mapping[str, Any]) -> Iterator[StreamEvent]:
        yield from replay(reply_from_bytes(self._send(body).content))

    def _sse(self, path: str, body: Mapping[str, Any], reader: StreamReader) -> Iterator[StreamEvent]:
        response = self._send(body, path=path, stream=True)
        try:
            if _is_json(response):
                with translate_errors(self.secrets):
                    content = response.read()
                yield from replay(reader.whole_reply(content))
                return
            decoder = SSEDecoder()
            with translate_errors(self.secrets):
                for chunk in response.iter_bytes():
                    for sse in decoder.feed(chunk):
                        yield from reader.read(sse)
            for sse in decoder.close():
                yield from reader.read(sse)
            if not reader.done:
                raise _incomplete_stream()
        finally:
            response.close()

    def _send(self, body: Mapping[str, Any], *, path: str = RESPONSES_PATH, stream: bool = False) -> httpx.Response:
        """The request loop: the single place where retries happen, always before any byte reaches the caller."""
        attempt = 0
        while True:
            try:
                with translate_errors(self.secrets):
                    response = self.http_client.send(self.build(self.http_client, path, body), stream=stream)
                    if response.is_success:
                        return response
                    response.read()
                    response.close()
                raise self.error_for(response)
            except WorkersAIError as error:
                delay = retry_delay(self.policy, attempt, error)
                if delay is None:
                    raise
            self._sleep(delay)
            attempt += 1

    def close(self) -> None:
        if self._http is not None and self._owns_http:
            self._http.close()
            self._http = None

    def __enter__(self) -> WorkersAIClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncWorkersAIClient(_Shared):
    """Asynchronous client, the mirror of WorkersAIClient.

    The httpx.AsyncClient it creates belongs to one event loop; when called from another loop (a second
    `asyncio.run`, a notebook restarting its loop) it starts a fresh one instead of failing on stale connections.
    """

    def __init__(
        self,
        *,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
        **settings: Unpack[ClientSettings],
    ) -> None:
        super().__init__(**settings)
        self._http = http_client
        self._owns_http = http_client is None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._turns: PoolTurns | None = None  # only for a client created here: see cfai.pool_turns
        self._sleep = sleep

    @property
    def http_client(self) -> httpx.AsyncClient:
        if not self._owns_http:
            assert self._http is not None
            return self._http
        loop = asyncio.get_running_loop()
        if self._http is None or self._loop is not loop:
            self._http = httpx.AsyncClient(timeout=self.config.timeout, limits=POOL_LIMITS)
            self._turns = PoolTurns()
            self._loop = loop
        return self._http

    async def create(self, body: Mapping[str, Any], *, stop: Sequence[str] | None = None) -> Reply:
        response = await self._send(body)
        return ReplyFinisher(body, stop).finish(reply_from_bytes(response.content))

    async def stream(
        self, body: Mapping[str, Any], *, stop: Sequence[str] | None = None, mode: StreamMode | None = None
    ) -> AsyncIterator[StreamEvent]:
        chosen = self.stream_mode(mode)
        events = self._buffered(body) if chosen == "buffered" else self._sse(*self.stream_route(body, chosen))
        finisher = ReplyFinisher(body, stop)
        async for event in events:
            for finished in finisher.feed(event):
                yield finished

    async def _buffered(self, body: Mapping[str, Any]) -> AsyncIterator[StreamEvent]:
        for event in replay(reply_from_bytes((await self._send(body)).content)):
            yield event

    async def _sse(self, path: str, body: Mapping[str, Any], reader: StreamReader) -> AsyncIterator[StreamEvent]:
        response = await self._send(body, path=path, stream=True)
        try:
            if _is_json(response):
                with translate_errors(self.secrets):
                    content = await response.aread()
                for event in replay(reader.whole_reply(content)):
                    yield event
                return
            decoder = SSEDecoder()
            with translate_errors(self.secrets):
                async for chunk in response.aiter_bytes():
                    for sse in decoder.feed(chunk):
                        for event in reader.read(sse):
                            yield event
            for sse in decoder.close():
                for event in reader.read(sse):
                    yield event
            if not reader.done:
                raise _incomplete_stream()
        finally:
            await response.aclose()

    async def _send(
        self, body: Mapping[str, Any], *, path: str = RESPONSES_PATH, stream: bool = False
    ) -> httpx.Response:
        attempt = 0
        while True:
            try:
                with translate_errors(self.secrets):
                    client = self.http_client
                    request = self.build(client, path, body)
                    if self._turns is None:
                        response = await client.send(request, stream=stream)
                    else:
                        response = await self._turns.send(client, request, stream=stream)
                    if response.is_success:
                        return response
                    await response.aread()
                    await response.aclose()
                raise self.error_for(response)
            except WorkersAIError as error:
                delay = retry_delay(self.policy, attempt, error)
                if delay is None:
                    raise
            await self._sleep(delay)
            attempt += 1

    async def aclose(self) -> None:
        if self._http is not None and self._owns_http:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> AsyncWorkersAIClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
