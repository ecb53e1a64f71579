"""A tour of cfai: gpt-oss through LangChain and LlamaIndex, with reasoning, tools, streaming and RAG.

    python examples/demo.py          # against the bundled emulator on 127.0.0.1: no account, no network
    python examples/demo.py --live   # against Cloudflare, with CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN set

The emulator is a deterministic stand-in for gpt-oss: its answers echo the question and use tool results, so the
output shows the plumbing (reasoning, tool calls, usage, cost), not model quality.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

from langchain.agents import create_agent
from langchain_core.tools import tool
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import ChatMessage

from cfai.emulator import Emulator
from langchain_cfai import ChatWorkersAI
from llamaindex_cfai import WorkersAI


@contextlib.contextmanager
def connection(live: bool) -> Iterator[dict[str, Any]]:
    """Settings for both adapters: empty for Cloudflare (read from the environment), else a local emulator."""
    if live:
        yield {}
        return
    with Emulator() as emulator:
        print(f"emulator serving at {emulator.v1_url}\n")
        yield {"base_url": emulator.v1_url, "api_token": emulator.api_token}


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny and 21 °C in {city}"


def langchain_tour(settings: dict[str, Any]) -> None:
    print("== LangChain: ChatWorkersAI ==")
    llm = ChatWorkersAI(reasoning_effort="low", max_tokens=2048, **settings)
    reply = llm.invoke("In one sentence: why is the sky blue?")
    print("reasoning:", reply.additional_kwargs.get("reasoning_content", "")[:100])
    print("answer:   ", reply.content)
    print("usage:    ", reply.usage_metadata)
    print("cost USD: ", reply.response_metadata.get("cost_usd"))

    print("stream:    ", end="")
    for chunk in llm.stream("Name three prime numbers."):
        print(chunk.content, end="", flush=True)
    print()

    agent = create_agent(llm, [get_weather], system_prompt="Use tools when they help.")
    result = agent.invoke({"messages": [("user", "What's the weather in Paris?")]})
    for message in result["messages"]:
        calls = getattr(message, "tool_calls", None)
        print(f"  {message.type:>5}: {calls or message.content}")
    print()


def llamaindex_tour(settings: dict[str, Any]) -> None:
    print("== LlamaIndex: WorkersAI ==")
    llm = WorkersAI(reasoning_effort="low", **settings)
    print("metadata: ", llm.metadata.context_window, "tokens of context")
    response = llm.chat([ChatMessage(role="user", content="What is a vector index?")])
    print("answer:   ", response.message.content)

    documents = [
        Document(text="The warranty covers manufacturing defects for two years from purchase."),
        Document(text="Returns are accepted within 30 days with the original receipt."),
    ]
    index = VectorStoreIndex.from_documents(documents, embed_model=MockEmbedding(embed_dim=8))
    engine = index.as_query_engine(llm=llm, similarity_top_k=1)
    answer = str(engine.query("How long is the warranty?"))
    print("RAG:      ", " ".join(answer.split())[:160], "...")

    def get_time(city: str) -> str:
        """Get the local time in a city."""
        return f"It is 14:05 in {city}"

    async def run_agent() -> str:
        agent = FunctionAgent(tools=[get_time], llm=llm, system_prompt="Use the tools.")
        return str(await agent.run("What time is it in Tokyo?"))

    print("agent:    ", asyncio.run(run_agent()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--live", action="store_true", help="call Cloudflare instead of the local emulator")
    args = parser.parse_args(argv)
    with connection(args.live) as settings:
        langchain_tour(settings)
        llamaindex_tour(settings)


if __name__ == "__main__":
    main()
