"""A RAG pipeline end to end against the emulator: documents, a vector index, query engines and a chat engine.

`MockEmbedding` needs no network and no download; the LLM and the embedding are passed explicitly so no test
depends on (or leaks) LlamaIndex's global `Settings`, except the one test that checks `Settings.llm` and restores it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding

from cfai.emulator import Emulator
from llamaindex_cfai import WorkersAI

pytestmark = pytest.mark.loopback

DOCUMENTS = [
    Document(text="The Eiffel Tower is 330 metres tall and stands in Paris."),
    Document(text="Mount Fuji is 3,776 metres high and lies on Honshu, Japan."),
    Document(text="The Zürich Prime Tower is 126 metres tall."),
]


@pytest.fixture(scope="module")
def index() -> VectorStoreIndex:
    return VectorStoreIndex.from_documents(DOCUMENTS, embed_model=MockEmbedding(embed_dim=8))


@pytest.fixture
def llm(workers_ai_emulator: Emulator) -> WorkersAI:
    return WorkersAI(base_url=workers_ai_emulator.v1_url, api_token=workers_ai_emulator.api_token)


def prompt_text(request_json: dict[str, Any]) -> str:
    """Everything the model was shown: instructions and every input item's text."""
    parts = [request_json.get("instructions") or ""]
    for item in request_json["input"]:
        content = item.get("content")
        parts.extend([content] if isinstance(content, str) else [part.get("text", "") for part in content or []])
    return "\n".join(parts)


def assert_context_sent(emulator: Emulator, source_nodes: list[Any]) -> None:
    assert source_nodes
    sent = prompt_text(emulator.requests[-1].json)
    for node in source_nodes:
        assert node.node.get_content() in sent


def test_query_engine(index: VectorStoreIndex, llm: WorkersAI, workers_ai_emulator: Emulator) -> None:
    response = index.as_query_engine(llm=llm, similarity_top_k=2).query("How tall is the Eiffel Tower?")

    assert_context_sent(workers_ai_emulator, response.source_nodes)
    assert "How tall is the Eiffel Tower?" in str(response)  # the emulator quotes the question it was asked


def test_streaming_query_engine(index: VectorStoreIndex, llm: WorkersAI, workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.configure(stream_mode="sse")

    response = index.as_query_engine(llm=llm, streaming=True, similarity_top_k=3).query("How high is Mount Fuji?")
    text = "".join(response.response_gen)

    assert text.startswith("You asked:") and "How high is Mount Fuji?" in text
    assert workers_ai_emulator.requests[-1].json["stream"] is True
    assert_context_sent(workers_ai_emulator, response.source_nodes)


def test_async_query_engine(index: VectorStoreIndex, llm: WorkersAI, workers_ai_emulator: Emulator) -> None:
    response = asyncio.run(index.as_query_engine(llm=llm).aquery("Where is the Prime Tower?"))
    assert_context_sent(workers_ai_emulator, response.source_nodes)


def test_chat_engine_over_the_same_index(
    index: VectorStoreIndex, llm: WorkersAI, workers_ai_emulator: Emulator
) -> None:
    engine = index.as_chat_engine(chat_mode="condense_plus_context", llm=llm, similarity_top_k=2)

    first = engine.chat("How tall is the Eiffel Tower?")
    assert_context_sent(workers_ai_emulator, first.source_nodes)
    streamed = engine.stream_chat("And Mount Fuji?")
    text = "".join(streamed.response_gen)

    assert str(first) == "You asked: How tall is the Eiffel Tower?"
    assert text.startswith("You asked:")
    last = workers_ai_emulator.requests[-1].json
    # the earlier turn went back as history: the question, and our answer as an assistant message
    assert {"role": "user", "content": "How tall is the Eiffel Tower?"} in last["input"]
    assert any(item.get("role") == "assistant" for item in last["input"])
    assert_context_sent(workers_ai_emulator, streamed.source_nodes)


@pytest.fixture
def restored_settings() -> Iterator[None]:
    saved = (Settings._llm, Settings._embed_model)
    try:
        yield
    finally:
        Settings._llm, Settings._embed_model = saved


@pytest.mark.usefixtures("restored_settings")
def test_works_as_settings_llm(llm: WorkersAI, workers_ai_emulator: Emulator) -> None:
    Settings.llm = llm
    Settings.embed_model = MockEmbedding(embed_dim=8)

    response = VectorStoreIndex.from_documents(DOCUMENTS[:1]).as_query_engine().query("How tall is the Eiffel Tower?")

    assert_context_sent(workers_ai_emulator, response.source_nodes)
