"""`cfai demo`: a tour of both adapters on Workers AI, against the emulator unless credentials are set.

LangChain first: one question with its reasoning, usage and cost, a chain whose model calls a tool and answers from
its result, and a structured answer. Then LlamaIndex: a RAG query over an index built with Workers AI embeddings,
answered by gpt-oss, and an agent that calls a tool. `examples/demo.py` runs the same tour.

This is the one module of the core that uses the adapters and their frameworks: it imports them inside its
functions, when the command runs, so importing `cfai` (or running any other command) never loads a framework.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Mapping
from typing import Any, TextIO

from cfai.commands import CommandError
from cfai.commands.target import target

__all__ = ["WARRANTY_FACTS", "demo"]

# The documents the RAG step indexes; the question shares words with the first only.
WARRANTY_FACTS = (
    "The warranty covers manufacturing defects for two years from purchase.",
    "Returns are accepted within 30 days with the original receipt.",
    "Shipping within the European Union takes three to five business days.",
)
_NEEDED = {"langchain_core": "langchain", "llama_index.core": "llamaindex"}


def demo(*, use_emulator: bool, out: TextIO) -> int:
    missing = [extra for module, extra in _NEEDED.items() if not _installed(module)]
    if missing:
        raise CommandError(f"cfai demo needs LangChain and LlamaIndex: pip install 'cfai[{','.join(missing)}]'")
    with target(use_emulator) as where:
        print(where.first_line, file=out, flush=True)
        langchain_tour(where.settings, out)
        llamaindex_tour(where.settings, out)
    return 0


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is missing
        return False


def _show(out: TextIO, label: str, value: object, width: int = 200) -> None:
    text = " ".join(str(value).split())
    print(f"  {label:<10} {text if len(text) <= width else text[: width - 3] + '...'}", file=out, flush=True)


def langchain_tour(settings: Mapping[str, Any], out: TextIO) -> None:
    from langchain_core.messages import HumanMessage
    from langchain_core.tools import tool
    from pydantic import BaseModel

    from langchain_cfai import ChatWorkersAI

    @tool
    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        return f"Sunny and 21 °C in {city}"

    class Trip(BaseModel):
        city: str
        days: int

    print("\n== LangChain: ChatWorkersAI ==", file=out)
    llm = ChatWorkersAI(reasoning_effort="low", **settings)
    reply = llm.invoke("In one sentence: why is the sky blue?")
    _show(out, "reasoning", reply.additional_kwargs.get("reasoning_content", ""))
    _show(out, "answer", reply.content)
    _show(out, "usage", reply.usage_metadata)
    _show(out, "cost USD", reply.response_metadata.get("cost_usd"))

    question = HumanMessage("What's the weather in Paris?")
    with_tools = llm.bind_tools([get_weather])
    call = with_tools.invoke([question])
    results = [get_weather.invoke(tool_call) for tool_call in call.tool_calls]
    _show(out, "tool call", [(tool_call["name"], tool_call["args"]) for tool_call in call.tool_calls])
    _show(out, "answer", with_tools.invoke([question, call, *results]).content)

    trip = llm.with_structured_output(Trip).invoke("Plan 3 days in Kyoto")
    _show(out, "structured", repr(trip))


def llamaindex_tour(settings: Mapping[str, Any], out: TextIO) -> None:
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.core.prompts import PromptTemplate

    from llamaindex_cfai import WorkersAI, WorkersAIEmbedding

    # Shorter than LlamaIndex's default, so that the emulator's echo of it fits on one line.
    qa_prompt = PromptTemplate("Answer from the context only. Context: {context_str} Question: {query_str}")
    print("\n== LlamaIndex: WorkersAI and WorkersAIEmbedding ==", file=out)
    llm = WorkersAI(reasoning_effort="low", **settings)
    embedding = WorkersAIEmbedding(**settings)
    index = VectorStoreIndex.from_documents([Document(text=fact) for fact in WARRANTY_FACTS], embed_model=embedding)
    engine = index.as_query_engine(llm=llm, similarity_top_k=1, text_qa_template=qa_prompt)
    response = engine.query("How long is the warranty?")
    _show(out, "embedding", f"{embedding.model_name}, {len(embedding.get_query_embedding('warranty'))} dimensions")
    _show(out, "retrieved", response.source_nodes[0].node.get_content())
    _show(out, "RAG answer", response)

    def get_time(city: str) -> str:
        """Get the local time in a city."""
        return f"It is 14:05 in {city}"

    async def run_agent() -> str:
        agent = FunctionAgent(tools=[get_time], llm=llm, system_prompt="Use the tools.")
        return str(await agent.run("What time is it in Tokyo?"))

    _show(out, "agent", asyncio.run(run_agent()))
