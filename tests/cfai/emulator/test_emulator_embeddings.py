"""Embeddings over HTTP: the OpenAI-compatible route and the native run route, limits, and vectors that retrieve."""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

import httpx
import pytest

from cfai.catalog import EMBEDDING_MODELS
from cfai.emulator import Emulator, Fault

BGE_SMALL = "@cf/baai/bge-small-en-v1.5"
DOCUMENTS = [
    "The warranty covers manufacturing defects for two years after purchase.",
    "Shipping takes three to five business days within the European Union.",
    "Returns are accepted within thirty days if the product is unused.",
    "Our support team answers emails in English, French and German.",
    "The battery lasts about ten hours of continuous video playback.",
]


def dot(left: list[float], right: list[float]) -> float:
    return sum(a * b for a, b in zip(left, right, strict=True))


def run_url(client: httpx.AsyncClient, emulator: Emulator, model: str) -> str:
    root = str(client.base_url).split("/client/")[0]
    return f"{root}/client/v4/accounts/{emulator.account_id}/ai/run/{model}"


async def embeddings(client: httpx.AsyncClient, texts: str | list[str], model: str = BGE_SMALL) -> list[list[float]]:
    reply = await client.post("/embeddings", json={"model": model, "input": texts})
    assert reply.status_code == 200, reply.text
    return [item["embedding"] for item in reply.json()["data"]]


async def test_openai_route_reply_shape_and_usage(client: httpx.AsyncClient) -> None:
    reply = (await client.post("/embeddings", json={"model": BGE_SMALL, "input": ["Hello world", "Hi"]})).json()
    assert list(reply) == ["object", "data", "model", "usage"]
    assert (reply["object"], reply["model"]) == ("list", BGE_SMALL)
    assert [(item["object"], item["index"], len(item["embedding"])) for item in reply["data"]] == [
        ("embedding", 0, 384),
        ("embedding", 1, 384),
    ]
    assert reply["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    (single,) = await embeddings(client, "Hello world")
    assert single == reply["data"][0]["embedding"]  # a string is one text; the same text, the same vector


@pytest.mark.parametrize("name", sorted(EMBEDDING_MODELS))
async def test_every_catalog_model_gives_unit_vectors_of_its_dimension(client: httpx.AsyncClient, name: str) -> None:
    (vector,) = await embeddings(client, "Cloudflare runs models at the edge.", model=name)
    assert len(vector) == EMBEDDING_MODELS[name].dimensions
    assert math.isclose(math.sqrt(dot(vector, vector)), 1.0, rel_tol=1e-9)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("What does the warranty cover?", 0),
        ("How many days does shipping take?", 1),
        ("Can I return an unused product?", 2),
        ("Which languages does support answer in?", 3),
        ("How long does the battery last?", 4),
    ],
)
async def test_a_query_retrieves_the_document_sharing_its_words(
    client: httpx.AsyncClient, query: str, expected: int
) -> None:
    documents = await embeddings(client, DOCUMENTS)
    (question,) = await embeddings(client, query)
    scores = [dot(question, document) for document in documents]
    assert scores.index(max(scores)) == expected
    assert sorted(scores)[-1] > sorted(scores)[-2] + 0.1  # clearly, not by a rounding error


async def test_native_route_shape_pooling_and_agreement_with_the_openai_route(
    client: httpx.AsyncClient, emulator: Emulator
) -> None:
    url = run_url(client, emulator, BGE_SMALL)
    mean = (await client.post(url, json={"text": DOCUMENTS[:2]})).json()
    assert (mean["success"], mean["errors"]) == (True, [])
    assert list(mean["result"]) == ["shape", "data", "pooling"] and "usage" not in mean["result"]
    assert (mean["result"]["shape"], mean["result"]["pooling"]) == ([2, 384], "mean")
    assert mean["result"]["data"] == await embeddings(client, DOCUMENTS[:2])
    cls = (await client.post(url, json={"text": DOCUMENTS[:2], "pooling": "cls"})).json()["result"]
    assert cls["pooling"] == "cls" and cls["data"] != mean["result"]["data"]
    assert cls == (await client.post(url, json={"text": DOCUMENTS[:2], "pooling": "cls"})).json()["result"]
    single = (await client.post(url, json={"text": "Hello"})).json()["result"]
    assert single["shape"] == [1, 384]


async def test_base64_encoding_holds_the_same_floats(client: httpx.AsyncClient) -> None:
    body = {"model": BGE_SMALL, "input": "Hello world", "encoding_format": "base64"}
    encoded = (await client.post("/embeddings", json=body)).json()["data"][0]["embedding"]
    decoded = struct.unpack("<384f", base64.b64decode(encoded))
    (plain,) = await embeddings(client, "Hello world")
    assert all(math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-7) for a, b in zip(decoded, plain, strict=True))


def _bad(reply: httpx.Response, code: int = 5006) -> str:
    assert reply.status_code == 400, reply.text
    (error,) = reply.json()["errors"]
    assert error["code"] == code
    return str(error["message"])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"input": "x"}, "required properties at '/' are 'model'"),
        ({"model": BGE_SMALL}, "required properties at '/' are 'input'"),
        ({"model": BGE_SMALL, "input": ""}, "minLength at '/input' not met: a text must not be empty"),
        ({"model": BGE_SMALL, "input": ["a", ""]}, "minLength at '/input/1' not met"),
        ({"model": BGE_SMALL, "input": []}, "minItems at '/input' not met"),
        ({"model": BGE_SMALL, "input": [1, 2, 3]}, "token ids are not accepted"),
        ({"model": BGE_SMALL, "input": [[1, 2], [3]]}, "token ids are not accepted"),
        ({"model": BGE_SMALL, "input": {"text": "x"}}, "must be a string or an array of strings"),
        ({"model": BGE_SMALL, "input": ["x"] * 101}, "takes at most 100 texts per request, got 101"),
        ({"model": "@cf/qwen/qwen3-embedding-0.6b", "input": ["x"] * 33}, "at most 32 texts per request"),
        ({"model": BGE_SMALL, "input": ["ok", "word " * 513]}, "'/input/1' not met: the text has 513 tokens"),
        ({"model": BGE_SMALL, "input": "x", "encoding_format": "int8"}, "'/encoding_format'"),
        ({"model": BGE_SMALL, "input": "x", "dimensions": 128}, "returns 384 dimensions only"),
    ],
)
async def test_bad_openai_requests_are_400_5006_saying_what_is_wrong(
    client: httpx.AsyncClient, body: dict[str, Any], expected: str
) -> None:
    message = _bad(await client.post("/embeddings", json=body))
    assert message.startswith("AiError: Bad input: Error: ") and expected in message


async def test_limits_come_from_the_catalog(client: httpx.AsyncClient) -> None:
    longest = "word " * EMBEDDING_MODELS[BGE_SMALL].max_input_tokens
    assert len(await embeddings(client, [longest] * EMBEDDING_MODELS[BGE_SMALL].max_batch_size)) == 100


async def test_unknown_models_and_native_errors(client: httpx.AsyncClient, emulator: Emulator) -> None:
    unknown = await client.post("/embeddings", json={"model": "@cf/baai/bge-huge", "input": "x"})
    assert _bad(unknown, code=5007) == "No such model @cf/baai/bge-huge or task"
    chat_model = await client.post("/embeddings", json={"model": "@cf/openai/gpt-oss-120b", "input": "x"})
    _bad(chat_model, code=5007)
    url = run_url(client, emulator, BGE_SMALL)
    assert "required properties at '/' are 'text'" in _bad(await client.post(url, json={"input": "x"}))
    assert "'/pooling'" in _bad(await client.post(url, json={"text": "x", "pooling": "max"}))
    assert "'/text/0'" in _bad(await client.post(url, json={"text": [""]}))
    emulator.configure(embedding_models={"@cf/baai/bge-m3"})
    _bad(await client.post(url, json={"text": "x"}), code=5007)


async def test_scripts_apply_to_the_embeddings_route(client: httpx.AsyncClient, emulator: Emulator) -> None:
    emulator.enqueue(Fault.rate_limited(retry_after=1), route="embeddings")
    limited = await client.post("/embeddings", json={"model": BGE_SMALL, "input": "x"})
    assert (limited.status_code, limited.headers["retry-after"], limited.json()["errors"][0]["code"]) == (
        429,
        "1",
        3040,
    )
    assert len(await embeddings(client, "x")) == 1
