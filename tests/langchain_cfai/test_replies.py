"""Replies as LangChain sees them: invoke, stream, batch, events and callbacks, sync and async, buffered and SSE."""

from __future__ import annotations

import warnings
from typing import Any

import httpx
import pytest
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.messages import AIMessage, AIMessageChunk

from cfai.errors import RateLimitError
from langchain_cfai import ChatWorkersAI, ReasoningBudgetWarning

# A non-Cloudflare base URL makes `stream_mode="auto"` read Responses SSE; the scripted server buffers otherwise.
SSE_BASE_URL = "https://responses.example/v1"


def summed(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


def assert_same_message(streamed: AIMessageChunk, invoked: AIMessage) -> None:
    assert streamed.content == invoked.content
    assert streamed.additional_kwargs == invoked.additional_kwargs
    assert streamed.tool_calls == invoked.tool_calls
    assert streamed.invalid_tool_calls == invoked.invalid_tool_calls
    assert streamed.usage_metadata == invoked.usage_metadata
    assert streamed.response_metadata == invoked.response_metadata
    assert streamed.id == invoked.id


async def test_invoke(server: Any, run: Any) -> None:
    server.reply("responses-text")
    message = await run.invoke(server.model(), "What are the benefits of open-source models?")
    assert message.content == "Open-source models offer transparency, customizability and no lock-in."
    assert message.additional_kwargs["reasoning_content"].startswith("The user asks")
    assert [block["type"] for block in message.content_blocks] == ["reasoning", "text"]
    assert message.usage_metadata["output_token_details"] == {"reasoning": 23}
    assert message.response_metadata["finish_reason"] == "stop"
    assert message.response_metadata["model_provider"] == "cloudflare"


@pytest.mark.parametrize("fixture", ["responses-text", "responses-tool-call"])
@pytest.mark.parametrize("transport", ["buffered", "sse"])
async def test_summed_stream_equals_invoke(server: Any, run: Any, fixture: str, transport: str) -> None:
    base_url = SSE_BASE_URL if transport == "sse" else None
    model = server.model(base_url=base_url)
    server.reply(fixture)
    invoked = await run.invoke(model, "Hi")
    (server.sse if transport == "sse" else server.reply)(fixture)
    chunks = await run.stream(model, "Hi")
    if transport == "sse":
        assert server.last_body["stream"] is True
        assert len(chunks) > 4
    else:  # Cloudflare does not stream /responses for gpt-oss: one plain request, replayed as events
        assert "stream" not in server.last_body
    assert [chunk.chunk_position for chunk in chunks].count("last") == 1
    assert chunks[-1].chunk_position == "last"
    assert sum(1 for chunk in chunks if chunk.usage_metadata) == 1
    assert_same_message(summed(chunks), invoked)


async def test_streamed_tool_call_chunks(server: Any, run: Any) -> None:
    server.sse("responses-tool-call")
    chunks = await run.stream(server.model(base_url=SSE_BASE_URL), "Weather in Paris?")
    pieces = [piece for chunk in chunks for piece in chunk.tool_call_chunks]
    assert pieces[0] == {
        "name": "get_weather",
        "args": "",
        "id": "call_c2fa810793ba4b79abd260a109f99413",
        "index": 1,
        "type": "tool_call_chunk",
    }
    assert "".join(piece["args"] for piece in pieces) == '{"city":"Paris"}'
    assert {piece["index"] for piece in pieces} == {1}
    assert summed(chunks).response_metadata["finish_reason"] == "tool_calls"


async def test_output_version_v1(server: Any, run: Any) -> None:
    server.reply("responses-text")
    model = server.model(output_version="v1")
    message = await run.invoke(model, "Hi")
    assert [block["type"] for block in message.content] == ["reasoning", "text"]
    server.sse("responses-text")
    streamed = summed(await run.stream(server.model(output_version="v1", base_url=SSE_BASE_URL), "Hi"))
    blocks: list[Any] = list(streamed.content)
    assert [block["type"] for block in blocks] == ["reasoning", "text"]
    assert blocks[1]["text"] == message.content[1]["text"]


async def test_batch(server: Any, run: Any) -> None:
    server.reply("responses-text")
    server.reply("responses-text")
    results = await run.batch(server.model(), ["Hello", "Hey"], config={"max_concurrency": 1})
    assert [type(result) for result in results] == [AIMessage, AIMessage]
    assert [body["input"][0]["content"] for body in server.bodies] == ["Hello", "Hey"]


class TokenRecorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.reasoning: list[str] = []

    def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
        self.tokens.append(token)
        chunk = kwargs.get("chunk")
        if chunk is not None:
            self.reasoning.append(chunk.message.additional_kwargs.get("reasoning_content", ""))


class AsyncTokenRecorder(AsyncCallbackHandler):
    def __init__(self) -> None:
        self.sync = TokenRecorder()
        self.tokens, self.reasoning = self.sync.tokens, self.sync.reasoning

    async def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
        self.sync.on_llm_new_token(token, **kwargs)


async def test_callbacks_see_tokens_and_reasoning_when_streaming(server: Any, run: Any) -> None:
    recorder: TokenRecorder | AsyncTokenRecorder = TokenRecorder() if run.mode == "sync" else AsyncTokenRecorder()
    server.sse("responses-text")
    model = server.model(base_url=SSE_BASE_URL, streaming=True)
    message = await run.invoke(model, "Hi", config={"callbacks": [recorder]})
    assert server.last_body["stream"] is True
    assert "".join(recorder.tokens) == message.content
    assert "".join(recorder.reasoning) == message.additional_kwargs["reasoning_content"]


async def test_disable_streaming_sends_one_plain_request(server: Any, run: Any) -> None:
    server.reply("responses-text")
    chunks = await run.stream(server.model(base_url=SSE_BASE_URL, disable_streaming=True), "Hi")
    assert "stream" not in server.last_body
    assert len(chunks) == 1 and chunks[0].content.startswith("Open-source")


async def test_astream_events_carry_reasoning_and_text(server: Any) -> None:
    server.sse("responses-text")
    model = server.model(base_url=SSE_BASE_URL)
    events = [event async for event in model.astream_events("Hi", version="v2")]
    chunks = [event["data"]["chunk"] for event in events if event["event"] == "on_chat_model_stream"]
    assert "".join(chunk.additional_kwargs.get("reasoning_content", "") for chunk in chunks).startswith("The user")
    assert "".join(chunk.content for chunk in chunks).startswith("Open-source models")
    end = next(event for event in events if event["event"] == "on_chat_model_end")
    assert end["data"]["output"].usage_metadata["total_tokens"] == 293


async def test_reasoning_only_reply_warns_and_reports_length(server: Any, run: Any) -> None:
    server.reply("responses-incomplete-reasoning-only")
    with pytest.warns(ReasoningBudgetWarning, match="Raise max_tokens"):
        message = await run.invoke(server.model(max_tokens=256), "Write an essay")
    assert message.content == ""
    assert message.response_metadata["finish_reason"] == "length"
    assert message.additional_kwargs["reasoning_content"]
    server.reply("responses-incomplete-reasoning-only")
    with pytest.warns(ReasoningBudgetWarning, match="max_tokens=256"):
        chunks = await run.stream(server.model(max_tokens=256), "Write an essay")
    assert summed(chunks).response_metadata["finish_reason"] == "length"


async def test_a_completed_reply_with_no_answer_warns(server: Any, run: Any) -> None:
    reply = server.load("responses-text")
    server.reply({**reply, "output": [item for item in reply["output"] if item["type"] == "reasoning"]})
    with pytest.warns(ReasoningBudgetWarning, match="empty answer"):
        message = await run.invoke(server.model(), "Hi")
    assert message.content == "" and message.response_metadata["finish_reason"] == "stop"


async def test_truncated_answer_is_length_without_warning(server: Any, run: Any) -> None:
    reply = server.load("responses-text")
    server.reply({**reply, "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}})
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReasoningBudgetWarning)
        message = await run.invoke(server.model(), "Hi")
    assert message.response_metadata["finish_reason"] == "length"


async def test_errors_surface_as_cfai_errors(server: Any, run: Any) -> None:
    body = {"success": False, "errors": [{"code": 3036, "message": "daily free allocation used"}], "result": None}
    server.reply(body, status=429)
    with pytest.raises(RateLimitError) as caught:
        await run.invoke(server.model(max_retries=2), "Hi")
    assert caught.value.code == 3036
    assert len(server.requests) == 1  # 3036 is a quota, not a capacity blip: never retried


async def test_capacity_errors_are_retried_by_the_transport(server: Any, run: Any) -> None:
    body = {"success": False, "errors": [{"code": 3040, "message": "Capacity temporarily exceeded"}], "result": None}
    server.reply_with(httpx.Response(429, json=body, headers={"retry-after": "0"}))
    server.reply("responses-text")
    message = await run.invoke(server.model(max_retries=1), "Hi")
    assert message.content.startswith("Open-source")
    assert len(server.requests) == 2


def test_model_is_a_drop_in_runnable(server: Any) -> None:
    server.reply("responses-text")
    chain = server.model() | (lambda message: message.content.upper())
    assert chain.invoke("Hi").startswith("OPEN-SOURCE")
    assert isinstance(server.model(), ChatWorkersAI)
