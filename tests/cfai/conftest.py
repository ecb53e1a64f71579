"""Shared test seams for the cfai core: fixture files, a scripted server, and one client run sync or async.

Fakes live at the transport layer only: every client here talks to an `httpx.MockTransport` whose handler serves a
script of replies, and records the requests it saw. Helpers are exposed as fixtures (not imported from this file) so
the suite works under any pytest import mode.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.server import ScriptedServer

from cfai import AsyncWorkersAIClient, WorkersAIClient
from cfai.errors import WorkersAIError
from cfai.wire.types import Reply, StreamEvent

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
TOKEN = "cf-test-token-Zq8xW3vK"


class Fixtures:
    """Recorded and built traffic from tests/fixtures."""

    def bytes(self, name: str) -> bytes:
        return (FIXTURES / name).read_bytes()

    def json(self, name: str) -> Any:
        return json.loads(self.bytes(name))


@pytest.fixture(params=["orjson", "standard library"])
def json_library(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test with each JSON library the wire may use (`cfai.wire.json_codec`): orjson, and the standard
    library alone, as where orjson is not installed."""
    from cfai.wire import json_codec

    if request.param == "orjson":
        if json_codec._orjson is None:
            pytest.skip("orjson is not installed")
    else:
        monkeypatch.setattr(json_codec, "_orjson", None)
    return str(request.param)


@pytest.fixture
def fixtures() -> Fixtures:
    return Fixtures()


@pytest.fixture
def script() -> Callable[..., ScriptedServer]:
    """`script(*steps)`: the suite's scripted server (`support.server`) serving the steps in order."""
    return ScriptedServer


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body arriving in the given chunks, then optionally failing like a dropped connection."""

    def __init__(self, chunks: Iterable[bytes], error: Exception | None = None) -> None:
        self.chunks = list(chunks)
        self.error = error

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.error is not None:
            raise self.error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.error is not None:
            raise self.error


@pytest.fixture
def chunked() -> Callable[..., httpx.Response]:
    """`chunked(chunks, error=None, content_type=...)`: a streamed 200 reply, usable by sync and async clients."""

    def build(
        chunks: Iterable[bytes], error: Exception | None = None, content_type: str = "text/event-stream"
    ) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, stream=Chunks(chunks, error))

    return build


async def _collect(events: AsyncIterator[StreamEvent], into: list[StreamEvent]) -> None:
    async for event in events:
        into.append(event)


class Caller:
    """One Workers AI client, sync or async, behind the same blocking methods; sleeps are recorded, never taken."""

    def __init__(self, kind: str, handler: Callable[[httpx.Request], httpx.Response], **settings: Any) -> None:
        self.kind = kind
        self.sleeps: list[float] = []
        settings.setdefault("account_id", ACCOUNT_ID)
        settings.setdefault("api_token", TOKEN)
        transport = httpx.MockTransport(handler)
        self.client: WorkersAIClient | AsyncWorkersAIClient
        if kind == "sync":
            self.client = WorkersAIClient(
                http_client=httpx.Client(transport=transport), sleep=self.sleeps.append, **settings
            )
        else:

            async def sleep(delay: float) -> None:
                self.sleeps.append(delay)

            self.client = AsyncWorkersAIClient(
                http_client=httpx.AsyncClient(transport=transport), sleep=sleep, **settings
            )

    def create(self, body: dict[str, Any], **options: Any) -> Reply:
        if isinstance(self.client, WorkersAIClient):
            return self.client.create(body, **options)
        return asyncio.run(self.client.create(body, **options))

    def stream(self, body: dict[str, Any], **options: Any) -> list[StreamEvent]:
        events, error = self.stream_until_error(body, **options)
        if error is not None:
            raise error
        return events

    def stream_until_error(
        self, body: dict[str, Any], **options: Any
    ) -> tuple[list[StreamEvent], WorkersAIError | None]:
        """The events that reached the caller before the stream raised, and what it raised (None if nothing)."""
        events: list[StreamEvent] = []
        try:
            if isinstance(self.client, WorkersAIClient):
                events.extend(self.client.stream(body, **options))
            else:
                asyncio.run(_collect(self.client.stream(body, **options), events))
        except WorkersAIError as error:
            return events, error
        return events, None


@pytest.fixture(params=["sync", "async"])
def call(request: pytest.FixtureRequest) -> Callable[..., Caller]:
    """`call(handler, **settings)`: a client over a MockTransport, once per test as sync and once as async."""
    return lambda handler, **settings: Caller(request.param, handler, **settings)


@pytest.fixture
def token() -> str:
    """The API token every `call` client uses unless told otherwise."""
    return TOKEN


@pytest.fixture
def account_id() -> str:
    return ACCOUNT_ID


@pytest.fixture
def body() -> dict[str, Any]:
    return {"model": "@cf/openai/gpt-oss-120b", "input": "Hi"}
