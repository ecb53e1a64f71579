"""The canned replies every contender receives, as data (served by `benchmarks.mock_transport` in process and by
`benchmarks.socket_server` over a loopback socket).

One reply, two dialects: the Responses object of `tests/fixtures/responses-text.json` for the Responses clients, and
its Chat Completions equivalent (same reasoning, same text, same usage) for langchain-cloudflare, which never speaks
Responses. The long reply for the streaming section is built here too, as a Responses object and as the Chat
Completions SSE bytes Cloudflare sends for gpt-oss (one chunk per token, final usage chunk sent twice, `[DONE]`).

Every mock URL points at the discard port on loopback: a contender that is misconfigured and bypasses the mock
transport fails at once with a refused connection instead of reaching a real service. This module imports no HTTP
library, so that the socket server's child process starts quickly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def long_responses_reply(
    reasoning_tokens: int = LONG_REASONING_TOKENS, text_tokens: int = LONG_TEXT_TOKENS
) -> dict[str, Any]:
    """A 4,000-output-token reply (reasoning and text) in the shape of the fixture."""
    reply = load_responses_reply()
    reasoning = "".join(long_tokens(reasoning_tokens))
    text = "".join(long_tokens(text_tokens))
    reply["output"][0]["content"][0]["text"] = reasoning
    reply["output"][1]["content"][0]["text"] = text
    output_tokens = reasoning_tokens + text_tokens
    reply["usage"] = {
        "input_tokens": 79,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
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


def chat_completions_sse(reasoning_tokens: int, text_tokens: int) -> list[bytes]:
    """A reply as Cloudflare streams it on `/ai/v1/chat/completions`, one SSE event per token."""
    usage = {
        "prompt_tokens": 79,
        "completion_tokens": reasoning_tokens + text_tokens,
        "total_tokens": 79 + reasoning_tokens + text_tokens,
    }
    chunks = [_sse_chunk({"role": "assistant", "content": ""})]
    chunks += [_sse_chunk({"reasoning_content": token}) for token in long_tokens(reasoning_tokens)]
    chunks += [_sse_chunk({"content": token}) for token in long_tokens(text_tokens)]
    final = _sse_chunk({}, finish_reason="stop", usage=usage)
    # Cloudflare sends the final usage chunk twice (docs/wire.md, quirk 7).
    return [*chunks, final, final, b"data: [DONE]\n\n"]


def sse_events(count: int) -> list[bytes]:
    """A shorter stream of about `count` events (a quarter reasoning), for reading streams over a socket."""
    tokens = max(count - 4, 2)
    return chat_completions_sse(tokens // 4, tokens - tokens // 4)


def dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def short_chat_completions_sse(reply: dict[str, Any]) -> tuple[bytes, ...]:
    """The fixture reply as a stream of a few events (reasoning, text, usage)."""
    reasoning, text = reply_texts(reply)
    return (
        _sse_chunk({"role": "assistant", "content": ""}),
        _sse_chunk({"reasoning_content": reasoning}),
        _sse_chunk({"content": text}),
        _sse_chunk({}, finish_reason="stop", usage=chat_completion_from(reply)["usage"]),
        b"data: [DONE]\n\n",
    )


def expected_answer() -> str:
    return reply_texts(load_responses_reply())[1]
