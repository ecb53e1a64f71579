"""A LangChain RAG pipeline on Cloudflare alone, against the emulator: `InMemoryVectorStore` over
`WorkersAIEmbeddings`, a retriever, and `ChatWorkersAI` answering from what was retrieved."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore

from cfai.emulator import Emulator
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
