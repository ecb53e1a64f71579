"""One table over both embedding classes, `WorkersAIEmbeddings` (LangChain) and `WorkersAIEmbedding` (LlamaIndex),
against the emulator: the same model, batches, settings, errors, retries and secret handling as the chat models.

Each framework's own API is called (`embed_documents`/`embed_query`, `get_text_embedding_batch`/
`get_query_embedding`, and their async forms), so what is checked is what users call.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest
from langchain_core.load import dumps

from cfai.emulator import Emulator, Fault
from cfai.errors import AuthenticationError, BadRequestError, RateLimitError
from langchain_cfai import WorkersAIEmbeddings
from llamaindex_cfai import WorkersAIEmbedding

ADAPTERS = pytest.mark.parametrize("adapter", ["langchain", "llamaindex"])
MODES = pytest.mark.parametrize("mode", ["sync", "async"])
SECRET = "cf-embedding-secret-9f8e7d"
DOCUMENTS = [
    "The warranty covers manufacturing defects for two years after purchase.",
    "Shipping takes three to five business days within the European Union.",
    "Returns are accepted within thirty days if the product is unused.",
]

Embedder = WorkersAIEmbeddings | WorkersAIEmbedding


def make(adapter: str, emulator: Emulator | None = None, **fields: Any) -> Embedder:
    if emulator is not None:
        fields = {"base_url": emulator.v1_url, "api_token": emulator.api_token, **fields}
    return (WorkersAIEmbeddings if adapter == "langchain" else WorkersAIEmbedding)(**fields)


# The public method each framework offers for (what is embedded, how it is called).
METHODS = {
    WorkersAIEmbeddings: {
        ("documents", "sync"): "embed_documents",
        ("documents", "async"): "aembed_documents",
        ("query", "sync"): "embed_query",
        ("query", "async"): "aembed_query",
    },
    WorkersAIEmbedding: {
        ("documents", "sync"): "get_text_embedding_batch",
        ("documents", "async"): "aget_text_embedding_batch",
        ("query", "sync"): "get_query_embedding",
        ("query", "async"): "aget_query_embedding",
    },
}


def call(embedder: Embedder, what: str, value: Any, mode: str) -> Any:
    result = getattr(embedder, METHODS[type(embedder)][what, mode])(value)
    return asyncio.run(result) if mode == "async" else result


def documents(embedder: Embedder, texts: list[str], mode: str = "sync") -> list[list[float]]:
    vectors: list[list[float]] = call(embedder, "documents", texts, mode)
    return vectors


def query(embedder: Embedder, text: str, mode: str = "sync") -> list[float]:
    vector: list[float] = call(embedder, "query", text, mode)
    return vector


def model_of(embedder: Embedder) -> str:
    return embedder.model if isinstance(embedder, WorkersAIEmbeddings) else embedder.model_name


def dot(left: list[float], right: list[float]) -> float:
    return sum(a * b for a, b in zip(left, right, strict=True))


@ADAPTERS
@MODES
def test_documents_and_queries_are_vectors_that_retrieve(
    adapter: str, mode: str, workers_ai_emulator: Emulator
) -> None:
    embedder = make(adapter, workers_ai_emulator)
    vectors = documents(embedder, DOCUMENTS, mode)
    question = query(embedder, "How long does the warranty cover defects?", mode)

    assert model_of(embedder) == "@cf/baai/bge-m3"
    assert [len(vector) for vector in [*vectors, question]] == [1024] * 4  # bge-m3's dimensions
    assert all(type(number) is float for number in question)
    assert all(math.isclose(math.sqrt(dot(vector, vector)), 1.0, rel_tol=1e-6) for vector in vectors)
    scores = [dot(question, vector) for vector in vectors]
    assert scores.index(max(scores)) == 0
    first, second = (request.json for request in workers_ai_emulator.requests)
    assert first == {"model": "@cf/baai/bge-m3", "input": DOCUMENTS}
    assert second == {"model": "@cf/baai/bge-m3", "input": ["How long does the warranty cover defects?"]}
    assert workers_ai_emulator.requests[0].path.endswith("/ai/v1/embeddings")


@ADAPTERS
@MODES
def test_long_lists_go_in_requests_cloudflare_accepts(adapter: str, mode: str, workers_ai_emulator: Emulator) -> None:
    texts = [f"document number {number}" for number in range(250)]
    embedder = make(adapter, workers_ai_emulator, model="@cf/baai/bge-small-en-v1.5")

    vectors = documents(embedder, texts, mode)

    assert [len(request.json["input"]) for request in workers_ai_emulator.requests] == [100, 100, 50]
    assert [text for request in workers_ai_emulator.requests for text in request.json["input"]] == texts
    assert vectors[137] == query(embedder, texts[137]) and len(vectors[0]) == 384


@ADAPTERS
def test_a_smaller_batch_size_is_kept(adapter: str, workers_ai_emulator: Emulator) -> None:
    size_field = "batch_size" if adapter == "langchain" else "embed_batch_size"
    documents(make(adapter, workers_ai_emulator, **{size_field: 2}), DOCUMENTS)
    assert [len(request.json["input"]) for request in workers_ai_emulator.requests] == [2, 1]


@ADAPTERS
def test_every_catalog_model_by_either_field_name(adapter: str, workers_ai_emulator: Emulator) -> None:
    qwen = make(adapter, workers_ai_emulator, model="@cf/qwen/qwen3-embedding-0.6b")
    plamo = make(adapter, workers_ai_emulator, model_name="@cf/pfnet/plamo-embedding-1b")
    assert (len(query(qwen, "Hello")), len(query(plamo, "Hello"))) == (1024, 2048)
    documents(qwen, [f"text {number}" for number in range(40)])
    assert [len(request.json["input"]) for request in workers_ai_emulator.requests[2:]] == [32, 8]


@ADAPTERS
@MODES
def test_an_empty_text_is_refused_before_any_request(adapter: str, mode: str, workers_ai_emulator: Emulator) -> None:
    embedder = make(adapter, workers_ai_emulator)
    with pytest.raises(ValueError, match="Text 1 is empty; Workers AI refuses empty texts"):
        documents(embedder, ["fine", "", "fine too"], mode)
    with pytest.raises(ValueError, match="Text 0 is empty"):
        query(embedder, "", mode)
    assert workers_ai_emulator.requests == []


@ADAPTERS
def test_connection_settings_are_the_chat_models(adapter: str, workers_ai_emulator: Emulator) -> None:
    embedder = make(
        adapter,
        workers_ai_emulator,
        gateway_id="my-gateway",
        gateway_options={"cache_ttl": 60},
        session_id="session-7",
        default_headers={"x-team": "search"},
    )
    query(embedder, "Hello")
    headers = workers_ai_emulator.requests[-1].headers
    assert (headers["cf-aig-gateway-id"], headers["cf-aig-cache-ttl"]) == ("my-gateway", "60")
    assert (headers["x-session-affinity"], headers["x-team"]) == ("session-7", "search")
    assert headers["user-agent"].startswith("cfai/")


@ADAPTERS
def test_the_environment_alone_is_enough(adapter: str, workers_ai_env: Emulator) -> None:
    assert len(query(make(adapter), "Hello")) == 1024
    assert workers_ai_env.requests[-1].headers["authorization"] == f"Bearer {workers_ai_env.api_token}"


@ADAPTERS
@MODES
def test_capacity_errors_are_retried_and_then_raised(adapter: str, mode: str, workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.enqueue(Fault.rate_limited(retry_after=0), route="embeddings")
    assert len(query(make(adapter, workers_ai_emulator), "Hello", mode)) == 1024
    assert len(workers_ai_emulator.requests) == 2

    workers_ai_emulator.enqueue(Fault.rate_limited(retry_after=0), route="embeddings")
    with pytest.raises(RateLimitError) as raised:
        documents(make(adapter, workers_ai_emulator, max_retries=0), DOCUMENTS, mode)
    assert raised.value.code == 3040


@ADAPTERS
def test_an_unknown_model_is_cloudflares_bad_request(adapter: str, workers_ai_emulator: Emulator) -> None:
    with pytest.raises(BadRequestError, match="No such model"):
        query(make(adapter, workers_ai_emulator, model="@cf/acme/no-such-embedder"), "Hello")


@ADAPTERS
def test_the_token_stays_secret(adapter: str, workers_ai_emulator: Emulator) -> None:
    query(make(adapter, workers_ai_emulator), "Hello")
    assert all(workers_ai_emulator.api_token not in request.body.decode() for request in workers_ai_emulator.requests)

    offline = make(adapter, base_url="http://127.0.0.1:1/v1", api_token=SECRET)
    shown = [repr(offline), str(offline), offline.model_dump_json()]
    shown += [dumps(offline)] if adapter == "langchain" else [offline.to_json()]  # type: ignore[union-attr]
    assert all(SECRET not in text for text in shown)
    with pytest.raises(AuthenticationError) as raised:
        query(make(adapter, workers_ai_emulator, api_token=SECRET), "Hello")
    assert SECRET not in f"{raised.value} {raised.value!r} {raised.value.body!r}"


@ADAPTERS
def test_unknown_arguments_are_refused_without_their_value(adapter: str) -> None:
    with pytest.raises((TypeError, ValueError)) as refused:
        make(adapter, base_url="http://127.0.0.1:1/v1", api_token="token", api_keyy=SECRET)
    assert "api_keyy" in str(refused.value) and SECRET not in str(refused.value)


@ADAPTERS
def test_with_lets_go_of_the_connections(adapter: str, workers_ai_emulator: Emulator) -> None:
    with make(adapter, workers_ai_emulator) as embedder:
        query(embedder, "Hello")
        assert embedder._clients.created
    assert not embedder._clients.created
