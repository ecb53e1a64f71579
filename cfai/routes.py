"""Which route a request takes, and how a streamed answer's bytes become stream events.

A reply comes from `/responses`; a stream comes from `/responses` or, in `chat_completions` mode, from
`/chat/completions` (Cloudflare streams gpt-oss token by token only there, docs/wire.md). The two readers that
understand those streams live in `cfai.wire`; here they are fed from an httpx response or an aiohttp answer, with
the transport's error translation around every read. The clients in `cfai.transport` send and retry; the read
loops below (`events`, `aevents`) read, and close the answer once its events end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Protocol

import httpx

from cfai.config import ClientConfig, StreamMode
from cfai.errors import APIConnectionError, TranslatedErrors
from cfai.wire.accumulator import replay
from cfai.wire.chat_completions import ChatCompletionsStreamReader, chat_request_from
from cfai.wire.request import encode_body
from cfai.wire.responses_stream import ResponsesStreamReader
from cfai.wire.sse import SSEDecoder
from cfai.wire.types import StreamEvent

__all__ = [
    "CHAT_COMPLETIONS_PATH",
    "RESPONSES_PATH",
    "Answer",
    "StreamReader",
    "aevents",
    "chosen_stream_mode",
    "events",
    "stream_route",
]

RESPONSES_PATH = "responses"
CHAT_COMPLETIONS_PATH = "chat/completions"

StreamReader = ResponsesStreamReader | ChatCompletionsStreamReader


class Answer(Protocol):
    """What the async request loop reads of a reply: an httpx.Response, or an aiohttp one (`cfai.aiohttp_io`)."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    async def aread(self) -> bytes: ...

    def aiter_bytes(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


def chosen_stream_mode(mode: StreamMode | None, config: ClientConfig) -> StreamMode:
    """The mode a stream runs in: the call's, else the client's, with `auto` settled by the server."""
    chosen = mode or config.stream_mode
    if chosen == "auto":
        # Cloudflare streams gpt-oss token by token only on its Chat Completions route, not on /responses
        # (docs/wire.md); other Responses servers stream /responses itself.
        return "chat_completions" if config.is_cloudflare else "responses"
    return chosen


def stream_route(body: Mapping[str, Any], mode: StreamMode) -> tuple[str, bytes, StreamReader]:
    """Where a streaming request goes, what it carries, and which reader understands the answer."""
    if mode == "chat_completions":
        return CHAT_COMPLETIONS_PATH, encode_body(chat_request_from(body)), ChatCompletionsStreamReader()
    return RESPONSES_PATH, encode_body({**body, "stream": True}), ResponsesStreamReader()


def events(response: httpx.Response, reader: StreamReader, errors: TranslatedErrors) -> Iterator[StreamEvent]:
    """The events of a streamed httpx response, which is closed once they end (or the caller stops early)."""
    try:
        if _is_json(response.headers):
            with errors:
                data = response.read()
            yield from replay(reader.whole_reply(data))
            return
        decoder = SSEDecoder()
        with errors:
            for chunk in _body_chunks(response):
                for sse in decoder.feed(chunk):
                    yield from reader.read(sse)
        for sse in decoder.close():
            yield from reader.read(sse)
        if not reader.done:
            raise _incomplete_stream()
    finally:
        response.close()


async def aevents(answer: Answer, reader: StreamReader, errors: TranslatedErrors) -> AsyncIterator[StreamEvent]:
    """The mirror of `events` for an async answer."""
    try:
        if _is_json(answer.headers):
            with errors:
                data = await answer.aread()
            for event in replay(reader.whole_reply(data)):
                yield event
            return
        decoder = SSEDecoder()
        with errors:
            async for chunk in answer.aiter_bytes():
                for sse in decoder.feed(chunk):
                    for event in reader.read(sse):
                        yield event
        for sse in decoder.close():
            for event in reader.read(sse):
                yield event
        if not reader.done:
            raise _incomplete_stream()
    finally:
        await answer.aclose()


def _is_json(headers: Mapping[str, str]) -> bool:
    # Some servers ignore `stream: true` and answer one JSON reply (Cloudflare's /ai/run once did, docs/wire.md
    # quirk 1).
    return headers.get("content-type", "").startswith("application/json")


def _body_chunks(response: httpx.Response) -> Iterator[bytes]:
    """A streamed body as its chunks arrive.

    Without a Content-Encoding the raw bytes are the body, and `iter_raw` skips the identity decoder and the chunker
    `iter_bytes` passes each chunk through: a third of httpx's CPU per chunk of a token stream (benchmarks/). A body
    already read (a canned test response) is served from memory by `iter_bytes`.
    """
    if "content-encoding" in response.headers or response.is_stream_consumed:
        return response.iter_bytes()
    return response.iter_raw()


def _incomplete_stream() -> APIConnectionError:
    return APIConnectionError(
        "The Workers AI stream ended before the response was complete; the partial answer was discarded."
    )
