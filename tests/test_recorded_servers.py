"""Traffic captured from Responses servers we did not write, through the core and both adapters, sync and async.

OpenAI's reference gpt-oss server (`gpt_oss.responses_api`) numbers the `output_index` of its delta events one lower
than that of the `.done` events of the same item; a client that ties events by position says everything twice
("The answer is 4.The answer is 4."). Each capture must fold to the reply its own `response.completed` carries,
which is what the same server answers without streaming.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessageChunk
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, ThinkingBlock

from cfai import AsyncWorkersAIClient, WorkersAIClient
from cfai.wire import ReplyDone
from langchain_cfai import ChatWorkersAI
from llamaindex_cfai import WorkersAI

FIXTURES = Path(__file__).parent / "fixtures"
# (stream, the same request answered without streaming); None: the stream's own response.completed.
CAPTURES = (
    ("gpt-oss-reference-server-text.sse", None),
    ("gpt-oss-reference-server-tool-call.sse", None),
    *(
        (f"{server}-{case}-stream.sse", f"{server}-{case}.json")
        for server in ("gpt-oss-0.0.9", "litellm-1.80.0")
        for case in ("text", "tool-call", "tool-result")
    ),
)
SETTINGS: dict[str, Any] = {"base_url": "https://gpt-oss.example/v1", "api_token": "t", "stream_mode": "responses"}
BODY = {"model": "gpt-oss-120b", "input": "What is 2 + 2?"}


def completed_response(capture: bytes) -> dict[str, Any]:
    for line in capture.decode().splitlines():
        if line.startswith("data: ") and '"response.completed"' in line:
            response: dict[str, Any] = json.loads(line[6:])["response"]
            return response
    raise AssertionError("the capture has no response.completed")


class Server:
    """Answers a streaming request with the capture and any other request with the same reply as JSON."""

    def __init__(self, name: str, whole: str | None = None) -> None:
        self.capture = (FIXTURES / name).read_bytes()
        self.final = json.loads((FIXTURES / whole).read_text()) if whole else completed_response(self.capture)
        # A capture paired with its own final response is one reply: ids and token counts must match too. A pair
        # captured by two requests has ids made up anew, and may count the prompt of a streaming request apart.
        self.one_reply = whole is None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if json.loads(request.content).get("stream"):
            return httpx.Response(200, content=self.capture, headers={"content-type": "text/event-stream"})
        return httpx.Response(200, json=self.final)

    def clients(self) -> dict[str, Any]:
        transport = httpx.MockTransport(self)
        return {
            "http_client": httpx.Client(transport=transport),
            "http_async_client": httpx.AsyncClient(transport=transport),
        }


@pytest.fixture(params=CAPTURES, ids=lambda capture: capture[0].removesuffix(".sse"))
def server(request: pytest.FixtureRequest) -> Server:
    return Server(*request.param)


def test_the_captures_show_what_makes_these_servers_hard():
    def deltas(name: str) -> list[dict[str, Any]]:
        lines = (FIXTURES / name).read_text().splitlines()
        return [json.loads(line[6:]) for line in lines if line.startswith("data: ") and '.delta"' in line]

    # The reference server: delta events one position below their item.
    assert all(event["output_index"] == -1 for event in deltas("gpt-oss-reference-server-text.sse")[:3])
    # LiteLLM: reasoning only as summary deltas, each with an item id of its own.
    litellm = deltas("litellm-1.80.0-text-stream.sse")
    reasoning = [event for event in litellm if event["type"] == "response.reasoning_summary_text.delta"]
    assert len({event["item_id"] for event in reasoning}) > len(reasoning) // 2


def test_core_fold_equals_the_non_streamed_reply(server):
    clients = server.clients()
    sync = WorkersAIClient(http_client=clients["http_client"], **SETTINGS)
    asynchronous = AsyncWorkersAIClient(http_client=clients["http_async_client"], **SETTINGS)

    async def async_fold() -> tuple[Any, Any]:
        events = [event async for event in asynchronous.stream(BODY)]
        return events[-1], await asynchronous.create(BODY)

    for done, whole in ((list(sync.stream(BODY))[-1], sync.create(BODY)), asyncio.run(async_fold())):
        assert isinstance(done, ReplyDone)
        assert meaning(done.reply) == meaning(whole)
        assert (whole.text or whole.tool_calls) and whole.reasoning and whole.usage is not None


def meaning(reply: Any) -> tuple[Any, ...]:
    """A reply apart from the ids a server makes up anew for each request (and the token counts of captures made
    by two requests: a server may count a streaming request's prompt differently)."""
    calls = [(call.name, json.loads(call.arguments)) for call in reply.tool_calls]
    return reply.text, reply.reasoning, calls, reply.status, reply.reasoning_kind


def summed(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


def langchain_view(message: Any, exact: bool) -> tuple[Any, ...]:
    assert message.usage_metadata is not None
    return (
        message.content,
        message.additional_kwargs.get("reasoning_content"),
        [(call["name"], call["args"], call["id"] if exact else None) for call in message.tool_calls],
        message.usage_metadata if exact else None,
    )


def test_langchain_stream_equals_invoke(server):
    llm = ChatWorkersAI(**SETTINGS, **server.clients())
    invoked = llm.invoke("What is 2 + 2?")
    streamed = summed(list(llm.stream("What is 2 + 2?")))

    async def async_pair() -> tuple[Any, Any]:
        return await llm.ainvoke("What is 2 + 2?"), summed([chunk async for chunk in llm.astream("What is 2 + 2?")])

    ainvoked, astreamed = asyncio.run(async_pair())
    views = [langchain_view(message, server.one_reply) for message in (streamed, invoked, ainvoked, astreamed)]
    assert views[0] == views[1] == views[2] == views[3]
    assert invoked.content or invoked.tool_calls


def llamaindex_view(response: Any, exact: bool) -> tuple[Any, ...]:
    message = response.message
    thinking = [block.content for block in message.blocks if isinstance(block, ThinkingBlock)]
    calls = [
        (call.tool_name, call.tool_kwargs, call.tool_id if exact else None)
        for call in WorkersAI.get_tool_calls_from_response(WorkersAI(**SETTINGS), response, error_on_no_tool_call=False)
    ]
    usage = response.additional_kwargs.get("prompt_tokens")
    assert usage is not None
    return message.content, thinking, calls, usage if exact else None


def test_llamaindex_stream_equals_chat(server):
    llm = WorkersAI(**SETTINGS, **server.clients())
    messages = [ChatMessage(role="user", content="What is 2 + 2?")]
    chatted = llm.chat(messages)
    streamed = list(llm.stream_chat(messages))

    async def async_pair() -> tuple[Any, Any]:
        return await llm.achat(messages), [chunk async for chunk in await llm.astream_chat(messages)]

    achatted, astreamed = asyncio.run(async_pair())
    views = [
        llamaindex_view(response, server.one_reply) for response in (chatted, streamed[-1], achatted, astreamed[-1])
    ]
    assert views[0] == views[1] == views[2] == views[3]
    assert (views[0][0] or views[0][2]) and views[0][1]
    text = "".join(chunk.delta or "" for chunk in streamed)
    assert text == (chatted.message.content or "")


@pytest.mark.parametrize("capture", ["gpt-oss-reference-server-text.sse", "gpt-oss-0.0.9-text-stream.sse"])
def test_a_function_agent_says_the_answer_once(capture):
    server = Server(capture)
    agent = FunctionAgent(tools=[], llm=WorkersAI(**SETTINGS, **server.clients()))

    async def run() -> str:
        return str(await agent.run("What is 2 + 2?"))

    assert asyncio.run(run()) == "The answer is 4."
