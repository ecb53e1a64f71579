"""stream_mode="chat_completions": a Responses request sent as Chat Completions, its SSE read back as our events."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from cfai import AsyncWorkersAIClient, WorkersAIClient
from cfai.errors import APIConnectionError, ResponseFailedError
from cfai.wire import (
    ReasoningDelta,
    ReplyDone,
    TextDelta,
    ToolCallArgumentsDelta,
    ToolCallStarted,
    assistant_item,
    build_request,
    function_call_item,
    function_call_output_item,
    function_tool,
    input_image,
    input_text,
    json_schema_format,
    message_item,
    reasoning_item,
)
from cfai.wire.chat_completions import chat_request_from
from cfai.wire.request import JSON_OBJECT_FORMAT

FIXTURES = Path(__file__).parent.parent / "fixtures"
RECORDED_SSE = (FIXTURES / "cf-chat-completions-gpt-oss-20b-tool-call.sse").read_bytes()
RECORDED_REQUEST = json.loads((FIXTURES / "cf-chat-completions-gpt-oss-20b-tool-call.request.json").read_text())
ACCOUNT = "0123456789abcdef0123456789abcdef"

WEATHER = function_tool(
    "get_weather",
    "Get current weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False},
)


def recorded_body() -> dict[str, Any]:
    return build_request(
        model="@cf/openai/gpt-oss-20b",
        instructions="Call tools exactly as requested.",
        input="Call get_weather with city exactly Paris.",
        tools=[WEATHER],
        tool_choice={"type": "function", "name": "get_weather"},
        max_output_tokens=120,
        temperature=0,
    )


def collect(mode: str, handler: Any, body: dict[str, Any]) -> list[Any]:
    """Runs one chat_completions stream through the sync or the async client."""
    settings = {"api_token": "secret-token", "account_id": ACCOUNT, "stream_mode": "chat_completions"}
    if mode == "sync":
        with WorkersAIClient(http_client=httpx.Client(transport=httpx.MockTransport(handler)), **settings) as client:
            return list(client.stream(body))

    async def run() -> list[Any]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        async with AsyncWorkersAIClient(http_client=http, **settings) as client:
            return [event async for event in client.stream(body)]

    return asyncio.run(run())


def sse_handler(payload: bytes, seen: list[httpx.Request] | None = None) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(200, content=payload, headers={"content-type": "text/event-stream"})

    return handler


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_recorded_stream_becomes_reasoning_and_tool_call_events_with_usage_once(mode: str) -> None:
    seen: list[httpx.Request] = []
    events = collect(mode, sse_handler(RECORDED_SSE, seen), recorded_body())

    assert seen[0].url.path == f"/client/v4/accounts/{ACCOUNT}/ai/v1/chat/completions"
    reasoning = "".join(event.delta for event in events if isinstance(event, ReasoningDelta))
    assert reasoning == 'We need to call the function get_weather with city "Paris".'
    assert not [event for event in events if isinstance(event, TextDelta)]
    started = [event for event in events if isinstance(event, ToolCallStarted)]
    assert [(event.call_id, event.name) for event in started] == [
        ("chatcmpl-tool-ed7127682c90443da222d0f8c607b5d5", "get_weather")
    ]
    arguments = "".join(event.delta for event in events if isinstance(event, ToolCallArgumentsDelta))
    assert json.loads(arguments) == {"city": "Paris"}
    done = [event for event in events if isinstance(event, ReplyDone)]
    assert len(done) == 1 and events[-1] is done[0]
    reply = done[0].reply
    # The final usage chunk is sent twice; counting it once gives the reply's real totals.
    assert (reply.usage.input_tokens, reply.usage.output_tokens, reply.usage.total_tokens) == (136, 37, 173)
    assert reply.finish_reason == "tool_calls"
    assert reply.model == "@cf/openai/gpt-oss-20b"
    assert reply.tool_calls[0].arguments == arguments


def test_request_translation_matches_what_cloudflare_recorded() -> None:
    request = chat_request_from(recorded_body())
    for key in ("model", "messages", "tool_choice", "stream", "stream_options", "max_tokens", "temperature"):
        assert request[key] == RECORDED_REQUEST[key], key
    assert request["tools"] == RECORDED_REQUEST["tools"]


def test_history_items_map_to_chat_messages() -> None:
    body = build_request(
        model="@cf/openai/gpt-oss-120b",
        input=[
            message_item("user", "Weather in Paris?"),
            reasoning_item("Need the tool."),
            function_call_item("call_1", "get_weather", {"city": "Paris"}),
            function_call_output_item("call_1", "18°C"),
            message_item("developer", "Answer in one line."),
        ],
        tools=[WEATHER],
        reasoning_effort="high",
        text_format=json_schema_format("Answer", {"type": "object", "properties": {"a": {"type": "string"}}}),
    )
    request = chat_request_from(body)
    assert request["messages"] == [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
            # The pending turn's chain of thought, where vLLM reads it into the analysis channel.
            "reasoning": "Need the tool.",
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18°C"},
        {"role": "system", "content": "Answer in one line."},
    ]
    assert request["reasoning_effort"] == "high"
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["name"] == "Answer"


def chunk(delta: dict[str, Any], finish: str | None = None, usage: dict[str, Any] | None = None) -> bytes:
    data: dict[str, Any] = {
        "id": "c1",
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage:
        data["usage"] = usage
    return b"data: " + json.dumps(data).encode() + b"\n\n"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_length_finish_is_incomplete_and_text_streams(mode: str) -> None:
    payload = (
        chunk({"role": "assistant", "content": ""})
        + chunk({"content": "Hello"})
        + chunk({"content": " wor"})
        + chunk({}, "length", {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8, "neurons": 1.5})
        + b"data: [DONE]\n\n"
    )
    events = collect(mode, sse_handler(payload), recorded_body())
    assert [event.delta for event in events if isinstance(event, TextDelta)] == ["Hello", " wor"]
    reply = events[-1].reply
    assert reply.status == "incomplete" and reply.finish_reason == "length"
    assert reply.usage.total_tokens == 8
    assert reply.text == "Hello wor"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_stream_without_done_raises(mode: str) -> None:
    with pytest.raises(APIConnectionError, match="ended before the response was complete"):
        collect(mode, sse_handler(chunk({"content": "partial"})), recorded_body())


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_error_chunk_raises(mode: str) -> None:
    payload = chunk({"content": "x"}) + b'data: {"error": {"message": "model overloaded"}}\n\n'
    with pytest.raises(ResponseFailedError, match="model overloaded"):
        collect(mode, sse_handler(payload), recorded_body())


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_whole_chat_completion_answering_a_stream_request_is_replayed(mode: str) -> None:
    completion = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "@cf/openai/gpt-oss-20b",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "reasoning_content": "Call the tool.",
                    "tool_calls": [
                        {"id": "call_9", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=completion)

    events = collect(mode, handler, recorded_body())
    assert [type(event).__name__ for event in events] == [
        "ReasoningDelta",
        "ToolCallStarted",
        "ToolCallArgumentsDelta",
        "ReplyDone",
    ]
    reply = events[-1].reply
    assert reply.reasoning == "Call the tool." and reply.tool_calls[0].call_id == "call_9"
    assert reply.usage.total_tokens == 14 and reply.finish_reason == "tool_calls"


def test_parts_assistant_text_with_calls_and_json_mode_translate() -> None:
    body = build_request(
        model="@cf/openai/gpt-oss-120b",
        input=[
            message_item("user", [input_text("Describe"), input_image("data:image/png;base64,AAAA")]),
            assistant_item("Checking two cities."),
            function_call_item("call_a", "get_weather", {"city": "Oslo"}),
            function_call_item("call_b", "get_weather", {"city": "Rome"}),
            function_call_output_item("call_a", "cold"),
            function_call_output_item("call_b", "warm"),
        ],
        tools=[WEATHER],
        tool_choice="required",
        text_format=JSON_OBJECT_FORMAT,
    )
    request = chat_request_from(body)
    user, assistant, *outputs = request["messages"]
    assert user["content"] == [
        {"type": "text", "text": "Describe"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
    ]
    assert assistant["content"] == "Checking two cities."
    assert [call["id"] for call in assistant["tool_calls"]] == ["call_a", "call_b"]
    assert [(message["role"], message["tool_call_id"]) for message in outputs] == [
        ("tool", "call_a"),
        ("tool", "call_b"),
    ]
    assert request["tool_choice"] == "required"
    assert request["response_format"] == {"type": "json_object"}
    assert body["input"][1] == assistant_item("Checking two cities.")  # the Responses body is left untouched
