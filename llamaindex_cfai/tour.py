"""The LlamaIndex part of `cfai demo` (registered as the `llamaindex` entry of `cfai.tours`): a RAG query over an
index built with Workers AI embeddings, answered by gpt-oss, and an agent that calls a tool."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, TextIO

from llama_index.core import Document, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.prompts import PromptTemplate

from cfai.commands.demo import WARRANTY_FACTS, show
from llamaindex_cfai import WorkersAI, WorkersAIEmbedding

__all__ = ["tour"]


def tour(settings: Mapping[str, Any], out: TextIO) -> None:
    """Prints the LlamaIndex tour against `settings` (`WorkersAI`'s connection fields)."""
    # Shorter than LlamaIndex's default, so that the emulator's echo of it fits on one line.
    qa_prompt = PromptTemplate("Answer from the context only. Context: {context_str} Question: {query_str}")
    print("\n== LlamaIndex: WorkersAI and WorkersAIEmbedding ==", file=out)
    llm = WorkersAI(reasoning_effort="low", **settings)
    embedding = WorkersAIEmbedding(**settings)
    index = VectorStoreIndex.from_documents([Document(text=fact) for fact in WARRANTY_FACTS], embed_model=embedding)
    engine = index.as_query_engine(llm=llm, similarity_top_k=1, text_qa_template=qa_prompt)
    response = engine.query("How long is the warranty?")
    show(out, "embedding", f"{embedding.model_name}, {len(embedding.get_query_embedding('warranty'))} dimensions")
    show(out, "retrieved", response.source_nodes[0].node.get_content())
    show(out, "RAG answer", response)

    def get_time(city: str) -> str:
        """Get the local time in a city."""
        return f"It is 14:05 in {city}"

    async def run_agent() -> str:
        agent = FunctionAgent(tools=[get_time], llm=llm, system_prompt="Use the tools.")
        return str(await agent.run("What time is it in Tokyo?"))

    show(out, "agent", asyncio.run(run_agent()))
