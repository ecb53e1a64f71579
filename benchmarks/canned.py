"""The canned replies every contender receives, and the `httpx.MockTransport` that serves them.

One reply, two dialects: the Responses object of `tests/fixtures/responses-text.json` for the Responses clients, and
its Chat Completions equivalent (same reasoning, same text, same usage) for langchain-cloudflare, which never speaks
Responses. The long reply for the streaming section is built here too, as a Responses object and as the Chat
Completions SSE bytes Cloudflare sends for gpt-oss (one chunk per token, final usage chunk sent twice, `[DONE]`).

Every URL points at the discard port on loopback: a contender that is misconfigured and bypasses the mock transport
fails at once with a refused connection instead of reaching a real service.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

MODEL = "@cf/openai/gpt-oss-120b"
PROMPT = "What are the benefits of open-source models?"
ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
API_TOKEN = "bench-token"
# Port 9 (discard) on loopback: nothing listens, so a request that escapes the mock is refused immediately.
MOCK_ROOT = "http://127.0.0.1:9/client/v4"
MOCK_V1_URL = f"{MOCK_ROOT}/accounts/{ACCOUNT_ID}/ai/v1"

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "responses-text.json"
LONG_REASONING_TOKENS = 1_000
LONG_TEXT_TOKENS = 3_000
_WORDS = ("open", " models", " let", " teams", " inspect", " adapt", " and", " deploy", " weights", " freely", ".")


def load_responses_reply() -> dict[str, Any]:
    reply: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return reply


def reply_texts(reply: dict[str, Any]) -> tuple[str, str]:
    """(reasoning, answer) of a Responses object, read the plain way."""
    reasoning = "".join(
        part["text"] for item in reply["output"] if item["type"] == "reasoning" for part in item["content"]
    )
    text = "".join(part["text"] for item in reply["output"] if item["type"] == "message" for part in item["content"])
    return reasoning, text


def chat_completion_from(reply: dict[str, Any]) -> dict[str, Any]:
    """The Chat Completions reply Cloudflare would send for the same answer (reasoning in `reasoning_content`)."""
    reasoning, text = reply_texts(reply)
    usage = reply["usage"]
    return {
        "id": "id-1754400000000",
        "object": "chat.completion",
        "created": reply["created_at"],
        "model": reply["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "reasoning_content": reasoning},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": usage["input_tokens"],
            "completion_tokens": usage["output_tokens"],
            "total_tokens": usage["total_tokens"],
        },
    }


def long_tokens(count: int) -> list[str]:
    return [_WORDS[position % len(_WORDS)] for position in range(count)]


def long_responses_reply() -> dict[str, Any]:
    """A 4,000-output-token reply (reasoning and text) in the shape of the fixture."""
    reply = load_responses_reply()
    reasoning = "".join(long_tokens(LONG_REASONING_TOKENS))
    text = "".join(long_tokens(LONG_TEXT_TOKENS))
    reply["output"][0]["content"][0]["text"] = reasoning
    reply["output"][1]["content"][0]["text"] = text
    output_tokens = LONG_REASONING_TOKENS + LONG_TEXT_TOKENS
    reply["usage"] = {
        "input_tokens": 79,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": LONG_REASONING_TOKENS},
        "total_tokens": 79 + output_tokens,
    }
    return reply


def _sse_chunk(
    delta: dict[str, Any], *, finish_reason: str | None = None, usage: dict[str, Any] | None = None
) -> bytes:
    chunk: dict[str, Any] = {
        "id": "id-1754400000000",
        "created": 1754400000,
        "model": MODEL,
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }
    if usage is not None:
        chunk["usage"] = usage
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


def long_chat_completions_sse() -> list[bytes]:
    """The long reply as Cloudflare streams it on `/ai/v1/chat/completions`, one network chunk per SSE event."""
    usage = {
        "prompt_tokens": 79,
        "completion_tokens": LONG_REASONING_TOKENS + LONG_TEXT_TOKENS,
        "total_tokens": 79 + LONG_REASONING_TOKENS + LONG_TEXT_TOKENS,
    }
    chunks = [_sse_chunk({"role": "assistant", "content": ""})]
    chunks += [_sse_chunk({"reasoning_content": token}) for token in long_tokens(LONG_REASONING_TOKENS)]
    chunks += [_sse_chunk({"content": token}) for token in long_tokens(LONG_TEXT_TOKENS)]
    final = _sse_chunk({}, finish_reason="stop", usage=usage)
    # Cloudflare sends the final usage chunk twice (docs/wire.md, quirk 7).
    return [*chunks, final, final, b"data: [DONE]\n\n"]


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


def _dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def short_server() -> CannedServer:
    """The fixture reply (about 70 characters of answer) for the per-call overhead section."""
    reply = load_responses_reply()
    chat = chat_completion_from(reply)
    reasoning, text = reply_texts(reply)
    sse = (
        _sse_chunk({"role": "assistant", "content": ""}),
        _sse_chunk({"reasoning_content": reasoning}),
        _sse_chunk({"content": text}),
        _sse_chunk({}, finish_reason="stop", usage=chat["usage"]),
        b"data: [DONE]\n\n",
    )
    return CannedServer(_dump(reply), _dump(chat), sse)


def long_server() -> CannedServer:
    """The 4,000-token reply for the streaming section."""
    reply = long_responses_reply()
    return CannedServer(_dump(reply), _dump(chat_completion_from(reply)), tuple(long_chat_completions_sse()))


def expected_answer() -> str:
    return reply_texts(load_responses_reply())[1]
