"""The one way this package talks HTTP: sync and async Workers AI clients over httpx.

HTTP only: sending, retries and error translation. What a reply means (parsing, stream folding, the one exit every
reply passes) is decided in `cfai.wire`; which route a stream takes and how its bytes are read, in `cfai.routes`;
settings come from `cfai.config`, retry decisions from `cfai.retry`, connection pools from `cfai.pools`, httpx
requests from `cfai.httpx_requests`. The two client classes are mirror images that only send bytes, sleep and read.
httpx exceptions and HTTP error statuses are translated into `cfai.errors` here and nowhere else: a stream's reads in
`cfai.routes` run under the translation its client hands them.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx
from typing_extensions import Unpack

from cfai import pools, routes
from cfai.catalog import get_model_info
from cfai.config import ClientSettings, StreamMode, resolve_config
from cfai.errors import ResponseFormatError, TranslatedErrors, WorkersAIError, error_from_status
from cfai.httpx_requests import RequestBuilder
from cfai.pools import POOL_LIMITS
from cfai.retry import RetryPolicy, retry_delay
from cfai.routes import CHAT_COMPLETIONS_PATH, RESPONSES_PATH, Answer
from cfai.wire.accumulator import replay
from cfai.wire.finish import ReplyFinisher
from cfai.wire.json_codec import loads
from cfai.wire.reply import reply_from_bytes
from cfai.wire.request import encode_body
from cfai.wire.types import Reply, ReplyDone, StreamEvent

if TYPE_CHECKING:
    import aiohttp

__all__ = ["POOL_LIMITS", "AsyncWorkersAIClient", "BaseWorkersAIClient", "WorkersAIClient"]


def httpx_errors(secrets: Sequence[str]) -> TranslatedErrors:
    """httpx's transport exceptions as ours."""
    return TranslatedErrors(
        secrets, timeouts=(httpx.TimeoutException,), failures=(httpx.TransportError, httpx.StreamError)
    )


class BaseWorkersAIClient:
    """What both clients share: resolved settings, and the pure decisions about each request (where it goes, what
    it carries, whether it fits the model's window, what a failed reply means)."""

    def __init__(self, **settings: Unpack[ClientSettings]) -> None:
        self.config = resolve_config(**settings)
        self.policy = RetryPolicy(max_retries=self.config.max_retries)
        self.secrets = (self.config.token.get_secret_value(),)
        self.errors = httpx_errors(self.secrets)
        self.headers = httpx.Headers({**self.config.headers, "content-type": "application/json"})
        # Parsed once: httpx would otherwise parse the URL string again on every request (a large share of the
        # per-call cost measured in benchmarks/).
        self.urls = {path: httpx.URL(self.config.url(path)) for path in (RESPONSES_PATH, CHAT_COMPLETIONS_PATH)}
        self._requests = RequestBuilder(self.headers, self.config.timeout)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.config.base_url!r})"

    def encode(self, body: Mapping[str, Any]) -> bytes:
        """The bytes of a Responses request, after the checks that need no server."""
        return self.checked(body, encode_body(body))

    def checked(self, body: Mapping[str, Any], content: bytes) -> bytes:
        """`content` (the encoded `body`, or its streaming form) once the context-window preflight passed."""
        if self._needs_preflight(body, content):
            self.preflight(body, content)
        return content

    def _needs_preflight(self, body: Mapping[str, Any], content: bytes) -> bool:
        # A token is at least one byte: a body smaller than the window cannot overflow it, and is never tokenized.
        return len(content) > get_model_info(str(body.get("model") or "")).context_window

    @staticmethod
    def preflight(body: Mapping[str, Any], content: bytes) -> None:
        """Refuses, with 0 requests sent, a request that certainly exceeds its model's context window."""
        info = get_model_info(str(body.get("model") or ""))
        if info.known:  # an unknown model's cautious default window would refuse what the server accepts
            from cfai.tokens import check_context_window  # tiktoken loads with the first large request

            check_context_window(body, info.context_window, body_size=len(content))

    def url(self, path: str) -> httpx.URL:
        """The URL of a route under base_url (`responses`, `embeddings`) or, given whole, of any other."""
        url = self.urls.get(path)
        if url is None:
            url = self.urls[path] = httpx.URL(path if "://" in path else self.config.url(path))
        return url

    def build(self, client: httpx.Client | httpx.AsyncClient, path: str, content: bytes) -> httpx.Request:
        """The httpx request that POSTs `content` to a route, as `client.build_request` would make it."""
        return self._requests.build(client, path, self.url(path), content)

    def error_for(self, status_code: int, content: bytes, headers: Mapping[str, str]) -> WorkersAIError:
        return error_from_status(status_code, content, headers, secrets=self.secrets)


def _decoded(content: bytes) -> Any:
    try:
        return loads(content)
    except (ValueError, RecursionError):
        raise ResponseFormatError(f"Workers AI sent a reply that is not JSON: {content[:120]!r}") from None


class WorkersAIClient(BaseWorkersAIClient):
    """Synchronous client. Uses the process's shared pool (`cfai.pools`) unless given an httpx.Client, which it
    uses as is and never closes."""

    def __init__(
        self,
        *,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **settings: Unpack[ClientSettings],
    ) -> None:
        super().__init__(**settings)
        self._http = http_client
        self._pool: pools.SyncPool | None = None
        self._lock = threading.Lock()
        self._sleep = sleep

    @property
    def http_client(self) -> httpx.Client:
        if self._http is not None:
            return self._http
        pool = self._pool
        if pool is None or pool.pid != os.getpid():
            with self._lock:
                pool = self._pool
                if pool is None or pool.pid != os.getpid():
                    pool = self._pool = pools.acquire_sync()
        return pool.client

    def create(self, body: Mapping[str, Any], *, stop: Sequence[str] | None = None) -> Reply:
        """Sends a Responses request and returns the whole reply."""
        response = self._send(RESPONSES_PATH, self.encode(body))
        return ReplyFinisher(body, stop).finish(reply_from_bytes(response.content))

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        """POSTs any JSON body (embeddings, the batch queue) with the same auth, retries and errors; returns the
        decoded reply. `path` is a route under base_url, or a whole URL (`config.run_url(model)`)."""
        return _decoded(self._send(path, encode_body(body)).content)

    def stream(
        self, body: Mapping[str, Any], *, stop: Sequence[str] | None = None, mode: StreamMode | None = None
    ) -> Iterator[StreamEvent]:
        """Yields stream events ending with one ReplyDone; see docs/design.md's stream modes."""
        chosen = routes.chosen_stream_mode(mode, self.config)
        finisher = ReplyFinisher(body, stop)
        if chosen == "buffered":
            response = self._send(RESPONSES_PATH, self.encode(body))
            source: Iterator[StreamEvent] = iter(replay(reply_from_bytes(response.content)))
        else:
            path, content, reader = routes.stream_route(body, chosen)
            response = self._send(path, self.checked(body, content), stream=True)
            source = routes.events(response, reader, self.errors)
        passes = finisher.passes_deltas
        for event in source:
            if passes and not isinstance(event, ReplyDone):
                yield event  # once per token: no call when the finisher would hand it back as it is
            else:
                yield from finisher.feed(event)

    def _send(self, path: str, content: bytes, *, stream: bool = False) -> httpx.Response:
        """The request loop: the single place where retries happen, always before any byte reaches the caller."""
        attempt = 0
        while True:
            try:
                with self.errors:
                    client = self.http_client
                    response = client.send(self.build(client, path, content), stream=stream)
                    if response.is_success:
                        return response
                    response.read()
                    response.close()
                raise self.error_for(response.status_code, response.content, response.headers)
            except WorkersAIError as error:
                delay = retry_delay(self.policy, attempt, error)
                if delay is None:
                    raise
            self._sleep(delay)
            attempt += 1

    def close(self) -> None:
        """Lets go of the shared pool (the last user closes it); a caller's own client is left alone."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pools.release_sync(pool)

    def __enter__(self) -> WorkersAIClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncWorkersAIClient(BaseWorkersAIClient):
    """Asynchronous client, the mirror of WorkersAIClient.

    Requests go through the running event loop's shared pool (`cfai.pools`, over aiohttp: `cfai.aiohttp_io` says
    why), so a second `asyncio.run` or a notebook restarting its loop gets a pool of that loop, and each loop closes
    its own when it shuts down. An `httpx.AsyncClient` passed in is used instead, as is, and never closed.
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
        self._pool: pools.AsyncPool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._sleep = sleep
        self._aiohttp_request: tuple[dict[str, Any], dict[str, str], Any] | None = None
        self._aiohttp_errors: TranslatedErrors | None = None

    @property
    def http_client(self) -> httpx.AsyncClient | None:
        """The httpx.AsyncClient passed in, if any; without one, requests use the loop's shared pool."""
        return self._http

    def _session(self) -> aiohttp.ClientSession:
        """The running loop's shared pool, taken on first use in each loop."""
        loop = asyncio.get_running_loop()
        pool = self._pool
        if pool is None or self._loop is not loop:
            with self._lock:
                if self._pool is not None and self._loop is not loop:
                    pools.forget_async(self._pool)
                    self._pool = None
                pool = self._pool
                if pool is None:
                    pool = self._pool = pools.acquire_async()
                    self._loop = loop
        return pool.session

    def _translated(self) -> TranslatedErrors:
        """The error translation of the library that sends this client's requests."""
        if self._http is not None:
            return self.errors
        if self._aiohttp_errors is None:
            from cfai import aiohttp_io

            self._aiohttp_errors = aiohttp_io.aiohttp_errors(self.secrets)
        return self._aiohttp_errors

    async def _post(self, path: str, content: bytes) -> Answer:
        """Sends one request; returns once its status and headers arrived (the body is read from the answer)."""
        if self._http is not None:
            with self.errors:
                return await self._http.send(self.build(self._http, path, content), stream=True)
        from cfai import aiohttp_io

        if self._aiohttp_request is None:
            # Parsed once per client, as the URLs and headers of the httpx path are.
            timeout = aiohttp_io.client_timeout(self.config.timeout)
            self._aiohttp_request = ({}, dict(self.headers.items()), timeout)
        urls, headers, timeout = self._aiohttp_request
        url = urls.get(path)
        if url is None:
            url = urls[path] = aiohttp_io.parsed_url(str(self.url(path)))
        with self._translated():
            return await aiohttp_io.send(self._session(), url, content, headers, timeout)

    async def _read(self, answer: Answer) -> bytes:
        try:
            with self._translated():
                return await answer.aread()
        finally:
            await answer.aclose()

    async def create(self, body: Mapping[str, Any], *, stop: Sequence[str] | None = None) -> Reply:
        answer = await self._send(RESPONSES_PATH, await self._encode(body))
        return ReplyFinisher(body, stop).finish(reply_from_bytes(await self._read(answer)))

    async def post(self, path: str, body: Mapping[str, Any]) -> Any:
        return _decoded(await self._read(await self._send(path, encode_body(body))))

    async def _encode(self, body: Mapping[str, Any], content: bytes | None = None) -> bytes:
        content = encode_body(body) if content is None else content
        if self._needs_preflight(body, content):
            # Tokenizing a large request (and loading the vocabulary the first time) would stall the event loop.
            await asyncio.to_thread(self.preflight, body, content)
        return content

    async def stream(
        self, body: Mapping[str, Any], *, stop: Sequence[str] | None = None, mode: StreamMode | None = None
    ) -> AsyncIterator[StreamEvent]:
        chosen = routes.chosen_stream_mode(mode, self.config)
        finisher = ReplyFinisher(body, stop)
        if chosen == "buffered":
            answer = await self._send(RESPONSES_PATH, await self._encode(body))
            source: AsyncIterator[StreamEvent] = _aiter(replay(reply_from_bytes(await self._read(answer))))
        else:
            path, content, reader = routes.stream_route(body, chosen)
            answer = await self._send(path, await self._encode(body, content))
            source = routes.aevents(answer, reader, self._translated())
        passes = finisher.passes_deltas
        async for event in source:
            if passes and not isinstance(event, ReplyDone):
                yield event  # once per token: no call when the finisher would hand it back as it is
            else:
                for finished in finisher.feed(event):
                    yield finished

    async def _send(self, path: str, content: bytes) -> Answer:
        """The request loop, the mirror of WorkersAIClient._send."""
        attempt = 0
        while True:
            try:
                answer = await self._post(path, content)
                if 200 <= answer.status_code < 300:
                    return answer
                raise self.error_for(answer.status_code, await self._read(answer), answer.headers)
            except WorkersAIError as error:
                delay = retry_delay(self.policy, attempt, error)
                if delay is None:
                    raise
            await self._sleep(delay)
            attempt += 1

    async def aclose(self) -> None:
        """Lets go of the loop's shared pool (the last user closes it); a caller's own client is left alone."""
        with self._lock:
            pool, self._pool = self._pool, None
            same_loop = self._loop is _running_loop()
        if pool is None:
            return
        if same_loop:
            await pools.release_async(pool)
        else:
            pools.forget_async(pool)  # its loop closes it when it shuts down (or already has)

    def release(self) -> None:
        """Lets go of the shared pool without waiting: its loop closes it when it shuts down, if no one else uses it."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pools.forget_async(pool)

    async def __aenter__(self) -> AsyncWorkersAIClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def _aiter(events: list[StreamEvent]) -> AsyncIterator[StreamEvent]:
    for event in events:
        yield event
