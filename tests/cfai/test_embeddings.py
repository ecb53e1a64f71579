"""Embeddings in the core: which texts go in which request, how replies become vectors, and the sync/async shells
over an httpx.MockTransport (order, Cloudflare's per-request limits, bounded concurrency, errors and retries)."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
from typing import Any

import httpx
import pytest

from cfai import AsyncWorkersAIClient, WorkersAIClient
from cfai.catalog import EMBEDDING_MODELS
from cfai.embeddings import (
    FALLBACK_TEXTS_PER_REQUEST,
    aembed,
    embed,
    request_bodies,
    texts_per_request,
    vectors_from_reply,
)
from cfai.errors import AuthenticationError, BadRequestError, ResponseFormatError

ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
TOKEN = "cf-test-token-Emb3dd1ng"


class EmbeddingsServer:
    """Answers `/embeddings` like Workers AI, each text's vector being [its length, its number]; records requests.

    `failures` are replies served first, one per request; `delay` (async only) holds each reply for that long, so
    that requests overlap and the server can count how many were in flight at once.
    """

    def __init__(self, failures: list[httpx.Response] | None = None, delay: float = 0.0) -> None:
        self.failures = list(failures or [])
        self.delay = delay
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[httpx.Headers] = []
        self.in_flight = self.most_in_flight = 0

    def reply(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        self.headers.append(request.headers)
        if self.failures:
            return self.failures.pop(0)
        texts = body["input"]
        data = [
            {"object": "embedding", "index": i, "embedding": [len(t), float(t.split()[-1])]}
            for i, t in enumerate(texts)
        ]
        # Entries in reverse: a client must place each by its index, not by its position.
        return httpx.Response(200, json={"object": "list", "data": data[::-1], "model": body["model"]})

    async def areply(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            return self.reply(request)
        finally:
            self.in_flight -= 1


def numbered(count: int) -> list[str]:
    return [f"text {number}" for number in range(count)]


def run_embed(mode: str, server: EmbeddingsServer, model: str, texts: list[str], **options: Any) -> list[list[float]]:
    """Embeds through the sync shell or the async one, over a MockTransport serving `server`."""
    settings: dict[str, Any] = {"account_id": ACCOUNT_ID, "api_token": TOKEN, "max_retries": options.pop("retries", 0)}
    if mode == "sync":
        client = WorkersAIClient(http_client=httpx.Client(transport=httpx.MockTransport(server.reply)), **settings)
        return embed(client, model, texts, **options)

    async def go() -> list[list[float]]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(server.areply))
        return await aembed(AsyncWorkersAIClient(http_client=http, **settings), model, texts, **options)

    return asyncio.run(go())


both_modes = pytest.mark.parametrize("mode", ["sync", "async"])


# Batching and request bodies (pure).


@pytest.mark.parametrize(
    ("model", "expected"), [(name, info.max_batch_size) for name, info in EMBEDDING_MODELS.items()]
)
def test_texts_per_request_follow_the_catalog(model: str, expected: int) -> None:
    assert texts_per_request(model) == expected
    assert texts_per_request(model, batch_size=7) == 7
    assert texts_per_request(model, batch_size=10_000) == expected  # never more than Cloudflare takes


def test_a_model_the_catalog_does_not_know_gets_the_smallest_known_limit() -> None:
    assert FALLBACK_TEXTS_PER_REQUEST == 32  # qwen3-embedding's
    assert texts_per_request("@cf/acme/new-embedder") == 32
    assert texts_per_request("bge-m3") == 100  # names match with or without @cf/, as in the chat catalog


@pytest.mark.parametrize("size", [0, -1, 2.5, True, "10"])
def test_a_batch_size_must_be_a_positive_whole_number(size: Any) -> None:
    with pytest.raises(ValueError, match="batch_size must be a positive whole number"):
        texts_per_request("@cf/baai/bge-m3", size)


def test_request_bodies_split_texts_in_order() -> None:
    texts = numbered(250)
    bodies = request_bodies("@cf/baai/bge-small-en-v1.5", texts)
    assert [len(body["input"]) for body in bodies] == [100, 100, 50]
    assert [text for body in bodies for text in body["input"]] == texts
    assert all(set(body) == {"model", "input"} for body in bodies)  # no token ids, no dimensions
    assert request_bodies("@cf/qwen/qwen3-embedding-0.6b", texts[:40])[1]["input"] == texts[32:40]
    assert request_bodies("@cf/baai/bge-m3", []) == []


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (["fine", ""], "Text 1 is empty; Workers AI refuses empty texts"),
        (["fine", 3], "Text 1 is a int, not a string"),
        ("one string", "Expected a list of texts, got one string"),
    ],
)
def test_texts_workers_ai_would_refuse_are_refused_before_sending(texts: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        request_bodies("@cf/baai/bge-m3", texts)


@pytest.mark.parametrize("model", ["", "   ", None])
def test_a_model_name_is_required(model: Any) -> None:
    with pytest.raises(ValueError, match="non-empty embedding model name"):
        request_bodies(model, ["text"])


# Replies (pure).


def test_openai_replies_are_placed_by_index_and_made_floats() -> None:
    reply = {"data": [{"index": 1, "embedding": [3, 4]}, {"index": 0, "embedding": [1.5, 2]}]}
    vectors = vectors_from_reply(reply, 2)
    assert vectors == [[1.5, 2.0], [3.0, 4.0]]
    assert all(type(number) is float for vector in vectors for number in vector)


def test_other_reply_shapes_are_read_too() -> None:
    native = {"shape": [2, 2], "data": [[0.1, 0.2], [0.3, 0.4]], "pooling": "mean"}
    assert vectors_from_reply({"result": native, "success": True, "errors": []}, 2) == [[0.1, 0.2], [0.3, 0.4]]
    assert vectors_from_reply({"result": {"data": [{"embedding": [1, 2]}]}}, 1) == [[1.0, 2.0]]
    encoded = base64.b64encode(struct.pack("<2f", 0.5, -2.0)).decode()
    assert vectors_from_reply({"data": [{"index": 0, "embedding": encoded}]}, 1) == [[0.5, -2.0]]


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ({"object": "list"}, "without a data list"),
        ([1, 2], "without a data list"),
        ({"data": [{"index": 0, "embedding": [1.0]}]}, "sent 1 embeddings for 2 texts"),
        ({"data": [{"index": 0}, {"index": 1, "embedding": [1.0]}]}, "not a list of numbers: None"),
        ({"data": [{"embedding": ["a", 1]}, {"embedding": [1]}]}, "not a list of numbers"),
        ({"data": [{"embedding": "not base64!"}, {"embedding": []}]}, "not a list of numbers"),
    ],
)
def test_replies_without_the_right_vectors_are_format_errors(reply: Any, message: str) -> None:
    with pytest.raises(ResponseFormatError, match=message):
        vectors_from_reply(reply, 2)


# The shells, sync and async.


@both_modes
def test_vectors_come_back_in_the_order_of_the_texts(mode: str) -> None:
    server = EmbeddingsServer()
    vectors = run_embed(mode, server, "@cf/baai/bge-base-en-v1.5", numbered(230))
    assert vectors == [[len(f"text {n}"), float(n)] for n in range(230)]
    assert [len(body["input"]) for body in server.bodies] == [100, 100, 30]
    assert {body["model"] for body in server.bodies} == {"@cf/baai/bge-base-en-v1.5"}
    assert all(headers["authorization"] == f"Bearer {TOKEN}" for headers in server.headers)


@both_modes
def test_a_batch_size_makes_smaller_requests(mode: str) -> None:
    server = EmbeddingsServer()
    run_embed(mode, server, "@cf/baai/bge-m3", numbered(5), batch_size=2)
    assert [body["input"] for body in server.bodies] == [["text 0", "text 1"], ["text 2", "text 3"], ["text 4"]]


@both_modes
def test_no_texts_send_nothing(mode: str) -> None:
    server = EmbeddingsServer()
    assert run_embed(mode, server, "@cf/baai/bge-m3", []) == []
    assert server.bodies == []


@both_modes
def test_an_empty_text_fails_before_any_request(mode: str) -> None:
    server = EmbeddingsServer()
    with pytest.raises(ValueError, match="Text 150 is empty"):
        run_embed(mode, server, "@cf/baai/bge-m3", [*numbered(150), "", "after"])
    assert server.bodies == []


def cloudflare_error(status: int, code: int, message: str, **headers: str) -> httpx.Response:
    body = {"result": None, "success": False, "errors": [{"code": code, "message": message}], "messages": []}
    return httpx.Response(status, json=body, headers=headers)


@both_modes
def test_capacity_errors_are_retried_by_the_transport(mode: str) -> None:
    server = EmbeddingsServer([cloudflare_error(429, 3040, "Capacity temporarily exceeded", **{"retry-after": "0"})])
    assert run_embed(mode, server, "@cf/baai/bge-m3", ["text 1"], retries=1) == [[6.0, 1.0]]
    assert len(server.bodies) == 2


@both_modes
def test_errors_are_cfai_errors_without_the_token(mode: str) -> None:
    server = EmbeddingsServer([cloudflare_error(401, 10000, f"Authentication error for {TOKEN}")])
    with pytest.raises(AuthenticationError) as raised:
        run_embed(mode, server, "@cf/baai/bge-m3", ["text 1"])
    assert raised.value.code == 10000 and TOKEN not in str(raised.value)
    server = EmbeddingsServer([cloudflare_error(400, 5006, "AiError: Bad input: maxLength at '/input/0' not met")])
    with pytest.raises(BadRequestError, match="maxLength"):
        run_embed(mode, server, "@cf/baai/bge-m3", ["text 1"])


def test_async_requests_overlap_up_to_the_bound() -> None:
    server = EmbeddingsServer(delay=0.01)
    vectors = run_embed("async", server, "@cf/baai/bge-m3", numbered(10), batch_size=1, max_concurrency=3)
    assert server.most_in_flight == 3
    assert vectors == [[len(f"text {n}"), float(n)] for n in range(10)]


def test_async_one_at_a_time_when_the_bound_is_one() -> None:
    server = EmbeddingsServer(delay=0.002)
    run_embed("async", server, "@cf/baai/bge-m3", numbered(4), batch_size=1, max_concurrency=1)
    assert server.most_in_flight == 1 and len(server.bodies) == 4


def test_async_first_failure_cancels_the_requests_still_waiting() -> None:
    failures = [cloudflare_error(400, 5006, "AiError: Bad input")]
    server = EmbeddingsServer(failures, delay=0.005)
    with pytest.raises(BadRequestError):
        run_embed("async", server, "@cf/baai/bge-m3", numbered(10), batch_size=1, max_concurrency=2)
    assert len(server.bodies) < 10  # the batches behind the failed one were never sent


def test_async_refuses_a_bound_below_one() -> None:
    with pytest.raises(ValueError, match="max_concurrency must be 1 or more"):
        run_embed("async", EmbeddingsServer(), "@cf/baai/bge-m3", ["text 1"], max_concurrency=0)
