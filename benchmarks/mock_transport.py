"""The in-process server: an `httpx.MockTransport` answering every contender with the canned replies by route."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass

import httpx

from benchmarks.canned import (
    LONG_REASONING_TOKENS,
    LONG_TEXT_TOKENS,
    chat_completion_from,
    chat_completions_sse,
    dump,
    load_responses_reply,
    long_responses_reply,
    short_chat_completions_sse,
)


class ChunkedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body delivered in the given pieces, to sync and async clients alike."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


@dataclass(frozen=True)
class CannedServer:
    """Answers by route: `/responses` with the Responses object, `/chat/completions` and `/ai/run` with the chat
    reply (SSE when the request asks for a stream)."""

    responses_body: bytes
    chat_body: bytes
    chat_sse: tuple[bytes, ...]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/responses"):
            return httpx.Response(200, content=self.responses_body, headers=_JSON_HEADERS)
        if path.endswith("/chat/completions") or "/ai/run/" in path:
            if json.loads(request.content).get("stream"):
                return httpx.Response(200, stream=ChunkedStream(self.chat_sse), headers=_SSE_HEADERS)
            return httpx.Response(200, content=self.chat_body, headers=_JSON_HEADERS)
        return httpx.Response(404, json={"success": False, "errors": [{"code": 7003, "message": "No route"}]})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


_JSON_HEADERS = {"content-type": "application/json"}
_SSE_HEADERS = {"content-type": "text/event-stream"}


def short_server() -> CannedServer:
    """The fixture reply (about 70 characters of answer) for the per-call overhead section."""
    reply = load_responses_reply()
    return CannedServer(dump(reply), dump(chat_completion_from(reply)), short_chat_completions_sse(reply))


def long_server(reasoning_tokens: int = LONG_REASONING_TOKENS, text_tokens: int = LONG_TEXT_TOKENS) -> CannedServer:
    """The long reply of the streaming section (4,000 tokens unless told), its stream one network chunk per token."""
    reply = long_responses_reply(reasoning_tokens, text_tokens)
    chat = dump(chat_completion_from(reply))
    return CannedServer(dump(reply), chat, tuple(chat_completions_sse(reasoning_tokens, text_tokens)))
