"""LlamaIndex's prompting agents over a Cloudflare-only RAG tool, against the emulator: a `ReActAgent` whose one tool
is a query engine over `WorkersAIEmbedding`, and `LLMTextCompletionProgram` on the async path (the sync program and
agents with function tools are in test_llamaindex_react_emulator.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.agent.workflow import ReActAgent, ToolCallResult
from llama_index.core.program import LLMTextCompletionProgram
from llama_index.core.tools import QueryEngineTool
from pydantic import BaseModel

from cfai.emulator import Emulator
from llamaindex_cfai import WorkersAI, WorkersAIEmbedding

pytestmark = pytest.mark.loopback

FACTS = [
    "The warranty covers manufacturing defects for two years after purchase.",
    "Shipping takes three to five business days within the European Union.",
]


@pytest.fixture
def connection(workers_ai_emulator: Emulator) -> dict[str, Any]:
    return {"base_url": workers_ai_emulator.v1_url, "api_token": workers_ai_emulator.api_token}


def test_a_react_agent_answers_through_a_rag_tool(connection: dict[str, Any], workers_ai_emulator: Emulator) -> None:
    llm = WorkersAI(**connection)
    index = VectorStoreIndex.from_documents(
        [Document(text=fact) for fact in FACTS], embed_model=WorkersAIEmbedding(**connection)
    )
    faq = QueryEngineTool.from_defaults(
        index.as_query_engine(llm=llm, similarity_top_k=1),
        name="product_faq",
        description="Answers questions about the warranty and shipping.",
    )

    async def run() -> tuple[str, list[ToolCallResult]]:
        handler = ReActAgent(tools=[faq], llm=llm).run("How long does the warranty last?")
        calls = [event async for event in handler.stream_events() if isinstance(event, ToolCallResult)]
        return str(await handler), calls

    answer, calls = asyncio.run(run())

    assert [(call.tool_name, call.tool_kwargs) for call in calls] == [
        ("product_faq", {"input": "How long does the warranty last?"})
    ]
    assert FACTS[0] in str(calls[0].tool_output.content) and FACTS[1] not in str(calls[0].tool_output.content)
    assert answer.startswith("Based on product_faq: ") and FACTS[0] in answer
    routes = [request.path.rsplit("/", 1)[-1] for request in workers_ai_emulator.requests]
    # the index, the agent's step, the tool's retrieval and answer, the agent's answer
    assert routes == ["embeddings", "responses", "embeddings", "responses", "responses"]


class Invoice(BaseModel):
    vendor: str
    total: float


def test_a_text_completion_program_runs_async(connection: dict[str, Any], workers_ai_emulator: Emulator) -> None:
    program = LLMTextCompletionProgram.from_defaults(
        output_cls=Invoice, prompt_template_str="Extract the invoice: {text}", llm=WorkersAI(**connection)
    )

    invoice = asyncio.run(program.acall(text='"Globex Ltd", total due 17.25 EUR'))

    assert invoice == Invoice(vendor="Globex Ltd", total=17.25)
    (request,) = workers_ai_emulator.requests
    assert "text" not in request.json  # the schema travels in the prompt, not as structured output
