"""The core clients against the emulator over real loopback sockets: connection reuse, concurrency, every stream
mode, retries and broken streams, end to end."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cfai import AsyncWorkersAIClient, WorkersAIClient
from cfai.emulator import Emulator, Fault
from cfai.errors import APIConnectionError, AuthenticationError, RateLimitError
from cfai.wire import ReasoningDelta, ReplyDone, TextDelta, ToolCallStarted, build_request, function_tool

MODEL = "@cf/openai/gpt-oss-120b"
WEATHER = function_tool(
    "get_weather",
    "Get current weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def settings(emulator: Emulator, **extra: Any) -> dict[str, Any]:
    return {"base_url": emulator.v1_url, "api_token": emulator.api_token, **extra}


def body(question: str, **options: Any) -> dict[str, Any]:
    return build_request(model=MODEL, input=question, **options)


def test_sequential_calls_through_one_client_open_one_connection(emulator: Emulator) -> None:
    with WorkersAIClient(**settings(emulator)) as client:
        replies = [client.create(body(f"Question {number}?")) for number in range(100)]
    assert [reply.text for reply in replies[:2]] == ["You asked: Question 0?", "You asked: Question 1?"]
    assert all(reply.usage and reply.usage.total_tokens > 0 for reply in replies)
    assert emulator.connections_opened == 1


async def test_two_hundred_concurrent_async_calls_all_succeed(emulator: Emulator) -> None:
    async with AsyncWorkersAIClient(**settings(emulator)) as client:
        replies = await asyncio.gather(*(client.create(body(f"Question {n}?")) for n in range(200)))
    assert sorted(reply.text for reply in replies) == sorted(f"You asked: Question {n}?" for n in range(200))
    assert len(emulator.requests) == 200
    # The pool holds at most 100 connections and keeps them all: the second hundred calls reuse the first's.
    assert 1 <= emulator.connections_opened <= 100


async def test_a_hundred_workers_calling_in_a_loop_keep_within_the_pool(emulator: Emulator) -> None:
    """The shape of load under which httpcore hands one idle connection to several requests at once (the reason the
    async pools moved to aiohttp, docs/design.md): each worker sends its next call the moment its last answer is
    read."""
    answers: list[str] = []

    async def worker(number: int, client: AsyncWorkersAIClient) -> None:
        for call in range(5):
            answers.append((await client.create(body(f"Worker {number} call {call}?"))).text)

    async with AsyncWorkersAIClient(**settings(emulator)) as client:
        await asyncio.gather(*(worker(number, client) for number in range(100)))
    assert sorted(answers) == sorted(f"You asked: Worker {n} call {c}?" for n in range(100) for c in range(5))
    assert 1 <= emulator.connections_opened <= 100


@pytest.mark.parametrize(
    ("mode", "server_stream_mode"),
    [("buffered", "ignore"), ("responses", "sse"), ("responses", "ignore"), ("chat_completions", "ignore")],
)
def test_every_stream_mode_yields_reasoning_then_a_tool_call_and_one_final_reply(
    emulator: Emulator, mode: str, server_stream_mode: str
) -> None:
    emulator.configure(stream_mode=server_stream_mode)
    with WorkersAIClient(**settings(emulator, stream_mode=mode)) as client:
        events = list(client.stream(body("What's the weather in Paris?", tools=[WEATHER])))
    kinds = [type(event) for event in events]
    assert kinds[0] is ReasoningDelta and kinds[-1] is ReplyDone and kinds.count(ReplyDone) == 1
    [started] = [event for event in events if isinstance(event, ToolCallStarted)]
    reply = events[-1].reply
    assert started.name == "get_weather" and reply.tool_calls[0].arguments == '{"city":"Paris"}'
    assert reply.usage is not None and reply.usage.output_tokens > 0
    route = "chat/completions" if mode == "chat_completions" else "responses"
    assert emulator.requests[-1].path.endswith(route)


async def test_async_text_stream_over_sse(emulator: Emulator) -> None:
    emulator.configure(stream_mode="sse")
    async with AsyncWorkersAIClient(**settings(emulator, stream_mode="responses")) as client:
        events = [event async for event in client.stream(body("Name a prime."), stop=["prime"])]
    text = "".join(event.delta for event in events if isinstance(event, TextDelta))
    assert text == "You asked: Name a " == events[-1].reply.text


def test_capacity_errors_are_retried_and_daily_quota_is_not(emulator: Emulator) -> None:
    delays: list[float] = []
    emulator.enqueue(Fault.rate_limited(retry_after=1))
    with WorkersAIClient(**settings(emulator), sleep=delays.append) as client:
        assert client.create(body("Hi")).text == "You asked: Hi"
        emulator.enqueue(Fault.daily_limit_exceeded())
        with pytest.raises(RateLimitError) as raised:
            client.create(body("Hi"))
    assert delays == [1.0]
    assert raised.value.code == 3036 and len(emulator.requests) == 3


def test_a_stream_dropped_midway_raises_and_is_not_retried(emulator: Emulator) -> None:
    emulator.configure(stream_mode="sse")
    emulator.enqueue(Fault.disconnect_midway(after_events=4))
    received: list[Any] = []
    client = WorkersAIClient(**settings(emulator, stream_mode="responses"), sleep=lambda _: None)
    with client, pytest.raises(APIConnectionError):
        for event in client.stream(body("Tell me about Paris.")):
            received.append(event)
    assert not any(isinstance(event, ReplyDone) for event in received)
    assert len(emulator.requests) == 1


def test_a_wrong_token_is_an_authentication_error_without_the_token(emulator: Emulator) -> None:
    client = WorkersAIClient(base_url=emulator.v1_url, api_token="wrong-token-value")
    with client, pytest.raises(AuthenticationError) as raised:
        client.create(body("Hi"))
    assert raised.value.code == 10000 and "wrong-token-value" not in str(raised.value)
    assert "CLOUDFLARE_API_TOKEN" in str(raised.value)
