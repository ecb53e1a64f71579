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
CAPTURES = ("gpt-oss-reference-server-text.sse", "gpt-oss-reference-server-tool-call.sse")
SETTINGS: dict[str, Any] = {"base_url": "https://gpt-oss.example/v1", "api_token": "t", "stream_mode": "responses"}
BODY = {"model": "gpt-oss-120b", "input": "What is 2 + 2?"}


def completed_response(capture: bytes) -> dict[str, Any]:
    for line in capture.decode().splitlines():
        if line.startswith("data: ") and '"response.completed"' in line:
            response: dict[str, Any] = json.loads(line[6:])["response"]
            return response
    raise AssertionError("the capture has no response.completed")


class Server:
    """Answers a streaming request with the capture and any other request with its final response as JSON."""

    def __init__(self, name: str) -> None:
        self.capture = (FIXTURES / name).read_bytes()
        self.final = completed_response(self.capture)

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


@pytest.fixture(params=CAPTURES)
def server(request: pytest.FixtureRequest) -> Server:
    return Server(request.param)


def test_the_captures_show_the_off_by_one_positions(server):
    lines = server.capture.decode().splitlines()
    deltas = [json.loads(line[6:]) for line in lines if line.startswith("data: ") and '.delta"' in line]
    assert deltas and all(event["output_index"] == -1 for event in deltas[:3])


def test_core_fold_equals_the_non_streamed_reply(server):
    clients = server.clients()
    sync = WorkersAIClient(http_client=clients["http_client"], **SETTINGS)
    asynchronous = AsyncWorkersAIClient(http_client=clients["http_async_client"], **SETTINGS)

    async def async_fold() -> tuple[Any, Any]:
        events = [event async for event in asynchronous.stream(BODY)]
        return events[-1], await asynchronous.create(BODY)

    for done, whole in ((list(sync.stream(BODY))[-1], sync.create(BODY)), asyncio.run(async_fold())):
        assert isinstance(done, ReplyDone)
        assert done.reply == whole
        assert (whole.text or whole.tool_calls) and whole.reasoning and whole.usage is not None


def summed(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


def langchain_view(message: Any) -> tuple[Any, ...]:
    return (
        message.content,
        message.additional_kwargs.get("reasoning_content"),
        [(call["name"], call["args"], call["id"]) for call in message.tool_calls],
        message.usage_metadata,
    )


def test_langchain_stream_equals_invoke(server):
    llm = ChatWorkersAI(**SETTINGS, **server.clients())
    invoked = llm.invoke("What is 2 + 2?")
    streamed = summed(list(llm.stream("What is 2 + 2?")))

    async def async_pair() -> tuple[Any, Any]:
        return await llm.ainvoke("What is 2 + 2?"), summed([chunk async for chunk in llm.astream("What is 2 + 2?")])

    ainvoked, astreamed = asyncio.run(async_pair())
    assert langchain_view(streamed) == langchain_view(invoked) == langchain_view(ainvoked) == langchain_view(astreamed)
    assert invoked.content == server.final["output"][-1].get("content", [{}])[0].get("text", "")


def llamaindex_view(response: Any) -> tuple[Any, ...]:
    message = response.message
    thinking = [block.content for block in message.blocks if isinstance(block, ThinkingBlock)]
    calls = [
        (call.tool_name, call.tool_kwargs, call.tool_id)
        for call in WorkersAI.get_tool_calls_from_response(WorkersAI(**SETTINGS), response, error_on_no_tool_call=False)
    ]
    usage = {key: response.additional_kwargs.get(key) for key in ("prompt_tokens", "completion_tokens")}
    return message.content, thinking, calls, usage


def test_llamaindex_stream_equals_chat(server):
    llm = WorkersAI(**SETTINGS, **server.clients())
    messages = [ChatMessage(role="user", content="What is 2 + 2?")]
    chatted = llm.chat(messages)
    streamed = list(llm.stream_chat(messages))

    async def async_pair() -> tuple[Any, Any]:
        return await llm.achat(messages), [chunk async for chunk in await llm.astream_chat(messages)]

    achatted, astreamed = asyncio.run(async_pair())
    view = llamaindex_view(chatted)
    assert llamaindex_view(streamed[-1]) == view == llamaindex_view(achatted) == llamaindex_view(astreamed[-1])
    assert (view[0] or view[2]) and view[1] and view[3]["prompt_tokens"]
    text = "".join(chunk.delta or "" for chunk in streamed)
    assert text == (chatted.message.content or "")


def test_a_function_agent_says_the_answer_once():
    server = Server("gpt-oss-reference-server-text.sse")
    agent = FunctionAgent(tools=[], llm=WorkersAI(**SETTINGS, **server.clients()))

    async def run() -> str:
        return str(await agent.run("What is 2 + 2?"))

    assert asyncio.run(run()) == "The answer is 4."
