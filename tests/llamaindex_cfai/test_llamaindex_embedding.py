"""`WorkersAIEmbedding` in LlamaIndex: its batch size from the catalog, construction checks, and a `VectorStoreIndex`
built with it that answers with `WorkersAI`, all against the emulator (the settings, errors and secrets both embedding
classes share are in tests/test_embeddings_parity.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from llama_index.core import Document, Settings, VectorStoreIndex

from cfai.config import ConfigurationError
from cfai.emulator import Emulator
from llamaindex_cfai import WorkersAI, WorkersAIEmbedding

pytestmark = pytest.mark.loopback

FACTS = [
    "The warranty covers manufacturing defects for two years after purchase.",
    "Shipping takes three to five business days within the European Union.",
    "Returns are accepted within thirty days if the product is unused.",
    "Our support team answers emails in English, French and German.",
]
OFFLINE = {"base_url": "http://127.0.0.1:1/v1", "api_token": "token"}


@pytest.fixture
def connection(workers_ai_emulator: Emulator) -> dict[str, Any]:
    return {"base_url": workers_ai_emulator.v1_url, "api_token": workers_ai_emulator.api_token}


@pytest.fixture
def index(connection: dict[str, Any]) -> VectorStoreIndex:
    documents = [Document(text=fact) for fact in FACTS]
    return VectorStoreIndex.from_documents(documents, embed_model=WorkersAIEmbedding(**connection))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, 100),
        ({"model_name": "@cf/qwen/qwen3-embedding-0.6b"}, 32),
        ({"model": "@cf/acme/new-embedder"}, 32),  # not in the catalog: the smallest known limit
        ({"embed_batch_size": 16}, 16),
    ],
)
def test_embed_batch_size_defaults_to_what_cloudflare_takes_per_request(fields: dict[str, Any], expected: int) -> None:
    assert WorkersAIEmbedding(**OFFLINE, **fields).embed_batch_size == expected


def test_construction_checks_credentials_like_workers_ai() -> None:
    with pytest.raises(ConfigurationError, match="No Cloudflare API token"):
        WorkersAIEmbedding(base_url="http://127.0.0.1:1/v1")
    embedding = WorkersAIEmbedding(**OFFLINE)
    assert embedding.class_name() == "WorkersAIEmbedding"
    assert embedding.to_payload() == {
        "class_name": "WorkersAIEmbedding",
        "model_name": "@cf/baai/bge-m3",
        "embed_batch_size": 100,
    }


def test_an_index_answers_from_the_document_it_retrieves(
    index: VectorStoreIndex, connection: dict[str, Any], workers_ai_emulator: Emulator
) -> None:
    engine = index.as_query_engine(llm=WorkersAI(**connection), similarity_top_k=1)

    response = engine.query("How long does the warranty last?")

    assert [node.node.get_content() for node in response.source_nodes] == [FACTS[0]]
    assert FACTS[0] in str(response) and "How long does the warranty last?" in str(response)
    embedded = [request.json["input"] for request in workers_ai_emulator.requests if "input" in request.json]
    assert embedded[:2] == [FACTS, ["How long does the warranty last?"]]  # one request for the whole index


@pytest.mark.parametrize(
    ("question", "expected"),
    [("How many business days does shipping take?", 1), ("Which languages does support speak?", 3)],
)
def test_async_queries_retrieve_too(
    index: VectorStoreIndex, connection: dict[str, Any], question: str, expected: int
) -> None:
    response = asyncio.run(index.as_query_engine(llm=WorkersAI(**connection), similarity_top_k=1).aquery(question))
    assert response.source_nodes[0].node.get_content() == FACTS[expected]


def test_documents_are_embedded_in_requests_cloudflare_accepts(
    connection: dict[str, Any], workers_ai_emulator: Emulator
) -> None:
    documents = [Document(text=f"Product {number} weighs {number} grams.") for number in range(130)]
    index = VectorStoreIndex.from_documents(documents, embed_model=WorkersAIEmbedding(**connection))

    assert [len(request.json["input"]) for request in workers_ai_emulator.requests] == [100, 30]
    found = index.as_retriever(similarity_top_k=1).retrieve("How many grams does product 117 weigh?")
    assert found[0].node.get_content() == "Product 117 weighs 117 grams."


def test_works_as_the_global_settings(connection: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Settings, "_llm", WorkersAI(**connection))  # restored after the test
    monkeypatch.setattr(Settings, "_embed_model", WorkersAIEmbedding(**connection))

    index = VectorStoreIndex.from_documents([Document(text=fact) for fact in FACTS])
    response = index.as_query_engine(similarity_top_k=1).query("Are returns accepted?")

    assert response.source_nodes[0].node.get_content() == FACTS[2] and FACTS[2] in str(response)
