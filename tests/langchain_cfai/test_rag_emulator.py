"""A LangChain RAG pipeline on Cloudflare alone, against the emulator: `InMemoryVectorStore` over
`WorkersAIEmbeddings`, a retriever, and `ChatWorkersAI` answering from what was retrieved; then the same pipeline
inside a Python Worker, both models over the Worker's AI binding (a fake `env.AI`)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore
from support.fake_binding import FakeBinding

from cfai.binding import AsyncOnlyError
from cfai.emulator import Emulator
from cfai.errors import RateLimitError
from langchain_cfai import ChatWorkersAI, WorkersAIEmbeddings

FACTS = [
    "The warranty covers manufacturing defects for two years after purchase.",
    "Shipping takes three to five business days within the European Union.",
    "Returns are accepted within thirty days if the product is unused.",
    "Our support team answers emails in English, French and German.",
]
PROMPT = ChatPromptTemplate.from_messages(
    [("system", "Answer from the context only."), ("human", "Context:\n{context}\n\nQuestion: {question}")]
)


@pytest.fixture
def connection(workers_ai_emulator: Emulator) -> dict[str, Any]:
    return {"base_url": workers_ai_emulator.v1_url, "api_token": workers_ai_emulator.api_token}


def joined(documents: list[Document]) -> str:
    return "\n".join(document.page_content for document in documents)


def rag_chain(store: InMemoryVectorStore, connection: dict[str, Any]) -> Runnable[str, str]:
    retriever = store.as_retriever(search_kwargs={"k": 1})
    context = retriever | joined
    return (
        {"context": context, "question": RunnablePassthrough()}
        | PROMPT
        | ChatWorkersAI(**connection)
        | StrOutputParser()
    )


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How long does the warranty last?", 0),
        ("How many days does shipping take?", 1),
        ("Which languages does support answer emails in?", 3),
    ],
)
def test_the_vector_store_finds_the_document_sharing_the_question_words(
    question: str, expected: int, connection: dict[str, Any]
) -> None:
    store = InMemoryVectorStore.from_texts(FACTS, WorkersAIEmbeddings(**connection))
    assert store.similarity_search(question, k=1)[0].page_content == FACTS[expected]


def test_a_rag_chain_answers_from_the_retrieved_document(
    connection: dict[str, Any], workers_ai_emulator: Emulator
) -> None:
    store = InMemoryVectorStore.from_texts(FACTS, WorkersAIEmbeddings(**connection))

    answer = rag_chain(store, connection).invoke("How long does the warranty last?")

    assert answer.startswith("You asked: Context:\n" + FACTS[0])  # the emulator quotes what it was given
    routes = [request.path.rsplit("/", 1)[-1] for request in workers_ai_emulator.requests]
    assert routes == ["embeddings", "embeddings", "responses"]  # the documents, the question, the answer


async def test_the_same_chain_async(connection: dict[str, Any], workers_ai_emulator: Emulator) -> None:
    store = await InMemoryVectorStore.afrom_texts(FACTS, WorkersAIEmbeddings(**connection))

    answer = await rag_chain(store, connection).ainvoke("Are returns accepted for unused products?")

    assert FACTS[2] in answer
    assert workers_ai_emulator.requests[0].json["input"] == FACTS


# Inside a Python Worker: no account id, token or URL, only the binding.

EMBEDDING_MODEL = "@cf/baai/bge-small-en-v1.5"


@pytest.fixture
def binding() -> FakeBinding:
    return FakeBinding()


@pytest.fixture
def embeddings(binding: FakeBinding) -> WorkersAIEmbeddings:
    return WorkersAIEmbeddings(model=EMBEDDING_MODEL, binding=binding, max_retries=1)


async def test_the_chain_embeds_and_answers_through_a_binding(
    binding: FakeBinding, embeddings: WorkersAIEmbeddings
) -> None:
    store = await InMemoryVectorStore.afrom_texts(FACTS, embeddings)

    answer = await rag_chain(store, {"binding": binding}).ainvoke("How many days does shipping take?")

    assert answer.startswith("You asked: Context:\n" + FACTS[1])  # the fake answers with what it was given
    assert [model for model, _ in binding.calls] == [EMBEDDING_MODEL, EMBEDDING_MODEL, "@cf/openai/gpt-oss-120b"]
    assert binding.calls[0][1] == {"text": FACTS}
    assert binding.calls[1][1] == {"text": ["How many days does shipping take?"]}


async def test_the_binding_vectors_are_those_of_the_rest_route(
    embeddings: WorkersAIEmbeddings, connection: dict[str, Any]
) -> None:
    over_http = WorkersAIEmbeddings(model=EMBEDDING_MODEL, **connection)
    assert await embeddings.aembed_documents(FACTS) == await over_http.aembed_documents(FACTS)
    assert await embeddings.aembed_query(FACTS[0]) == await over_http.aembed_query(FACTS[0])


def test_with_a_binding_the_sync_methods_name_the_async_ones(
    embeddings: WorkersAIEmbeddings, binding: FakeBinding
) -> None:
    with pytest.raises(AsyncOnlyError, match="aembed_documents"):
        embeddings.embed_documents(FACTS)
    with pytest.raises(AsyncOnlyError, match="WorkersAIEmbeddings"):
        embeddings.embed_query("hi")
    assert binding.calls == []


async def test_a_binding_capacity_error_is_retried_and_an_empty_text_never_sent(
    embeddings: WorkersAIEmbeddings, binding: FakeBinding
) -> None:
    binding.fail_with("AiError: 3040: Capacity temporarily exceeded")
    assert len(await embeddings.aembed_query("hi")) == 384
    assert len(binding.calls) == 2
    binding.fail_with(*["AiError: 3040: Capacity temporarily exceeded"] * 2)
    with pytest.raises(RateLimitError, match="binding"):
        await embeddings.aembed_query("hi")
    with pytest.raises(ValueError, match="Text 1 is empty"):
        await embeddings.aembed_documents(["a", ""])
    assert len(binding.calls) == 4
