"""The contract of WorkersAI against the emulator: every entry point, sync and async, streamed and not.

The emulator serves `/responses` both ways Cloudflare-compatible servers do: one JSON reply even when asked to
stream ("ignore", Cloudflare today) and OpenAI's Responses SSE ("sse"); every test runs against both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock, ThinkingBlock
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

from cfai.emulator import Emulator, Fault
from cfai.errors import AuthenticationError, EmptyAnswerWarning
from llamaindex_cfai import WorkersAI

pytestmark = pytest.mark.loopback

QUESTION = "Why is the sky blue?"
ANSWER = f"You asked: {QUESTION}"
USAGE_KEYS = {"prompt_tokens", "completion_tokens", "total_tokens"}
ENTRY_POINTS = (
    "chat",
    "achat",
    "stream_chat",
    "astream_chat",
    "complete",
    "acomplete",
    "stream_complete",
    "astream_complete",
)
TOOL_ENTRY_POINTS = ("chat_with_tools", "achat_with_tools", "stream_chat_with_tools", "astream_chat_with_tools")
STRUCTURED_ENTRY_POINTS = ("structured_predict", "astructured_predict", "stream_structured_predict")


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"sunny in {city}"


class Forecast(BaseModel):
    city: str
    temperature_celsius: int


@pytest.fixture(params=["ignore", "sse"])
def emulator(request: pytest.FixtureRequest, workers_ai_emulator: Emulator) -> Emulator:
    workers_ai_emulator.configure(stream_mode=request.param)
    return workers_ai_emulator


def llm_for(emulator: Emulator, **settings: Any) -> WorkersAI:
    return WorkersAI(base_url=emulator.v1_url, api_token=emulator.api_token, **settings)


def question() -> list[ChatMessage]:
    return [ChatMessage(role=MessageRole.USER, content=QUESTION)]


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_every_entry_point_answers_with_reasoning_and_usage(
    entry_point: str, emulator: Emulator, run_entry: Callable[..., list[Any]]
) -> None:
    results = run_entry(llm_for(emulator), entry_point, QUESTION if "complete" in entry_point else question())

    last = results[-1]
    if "complete" in entry_point:
        assert last.text == ANSWER and last.additional_kwargs["thinking"].startswith("The user asks")
    else:
        assert isinstance(last.message.blocks[0], ThinkingBlock) and last.message.blocks[0].num_tokens
        assert last.message.blocks[1:] == [TextBlock(text=ANSWER)]
    assert last.additional_kwargs["finish_reason"] == "stop" and last.additional_kwargs["completion_tokens"] > 0
    if "stream" in entry_point:
        assert "".join(result.delta for result in results) == ANSWER
        assert "".join(result.additional_kwargs.get("thinking_delta") or "" for result in results)
        assert [bool(USAGE_KEYS & result.additional_kwargs.keys()) for result in results].count(True) == 1
    (request,) = emulator.requests
    assert request.json["input"] == [{"role": "user", "content": QUESTION}]
    assert request.json.get("stream", False) is ("stream" in entry_point)  # auto mode streams from non-Cloudflare hosts


@pytest.mark.parametrize("streamed", ["stream_chat", "astream_chat"])
def test_the_last_chunk_equals_the_chat_reply(
    streamed: str, emulator: Emulator, run_entry: Callable[..., list[Any]]
) -> None:
    llm = llm_for(emulator, reasoning_effort="high")

    whole = llm.chat(question())
    chunks = run_entry(llm, streamed, question())

    assert chunks[-1].message == whole.message
    assert {key: chunks[-1].additional_kwargs[key] for key in USAGE_KEYS} == {
        key: whole.additional_kwargs[key] for key in USAGE_KEYS
    }


@pytest.mark.parametrize("entry_point", TOOL_ENTRY_POINTS)
def test_function_calling_round_trip_on_every_chat_path(
    entry_point: str, emulator: Emulator, run_entry: Callable[..., list[Any]]
) -> None:
    llm = llm_for(emulator)
    tools = [FunctionTool.from_defaults(get_weather)]
    history = [ChatMessage(role=MessageRole.USER, content="What is the weather in Paris?")]

    call_turn = run_entry(llm, entry_point, tools, chat_history=history)[-1]
    (call,) = llm.get_tool_calls_from_response(call_turn)
    result = ChatMessage(
        role=MessageRole.TOOL, content=get_weather(**call.tool_kwargs), additional_kwargs={"tool_call_id": call.tool_id}
    )
    answer = run_entry(llm, entry_point, tools, chat_history=[*history, call_turn.message, result])[-1]

    assert (call.tool_name, call.tool_kwargs) == ("get_weather", {"city": "Paris"}) and call.tool_id.startswith("call_")
    assert answer.message.content == "Based on get_weather: sunny in Paris"
    sent = emulator.requests[1].json["input"]
    assert [item.get("type", "message") for item in sent] == [
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
    ]
    assert sent[2]["call_id"] == sent[3]["call_id"] == call.tool_id


@pytest.mark.parametrize("entry_point", [*STRUCTURED_ENTRY_POINTS, "astream_structured_predict"])
def test_structured_output_on_every_path(entry_point: str, emulator: Emulator) -> None:
    llm = llm_for(emulator)
    prompt = PromptTemplate("Forecast for {city}: 21 degrees.")
    method = getattr(llm, entry_point)

    if entry_point.startswith("a"):

        async def run() -> Any:
            result = await method(Forecast, prompt, city="Paris")
            return [item async for item in result][-1] if "stream" in entry_point else result

        forecast = asyncio.run(run())
    else:
        result = method(Forecast, prompt, city="Paris")
        forecast = list(result)[-1] if "stream" in entry_point else result

    assert isinstance(forecast, Forecast)
    assert emulator.requests[0].json["text"]["format"]["type"] == "json_schema"


def test_settings_reach_the_emulator(workers_ai_emulator: Emulator) -> None:
    llm = llm_for(workers_ai_emulator, reasoning_effort="low", max_tokens=2_000, temperature=0.1, session_id="s-1")

    llm.chat(question())

    (request,) = workers_ai_emulator.requests
    assert request.json["reasoning"] == {"effort": "low"} and request.json["max_output_tokens"] == 2_000
    assert request.json["temperature"] == 0.1 and request.headers["x-session-affinity"] == "s-1"


def test_a_budget_spent_on_reasoning_warns(workers_ai_emulator: Emulator) -> None:
    with pytest.warns(EmptyAnswerWarning, match="no answer"):
        response = llm_for(workers_ai_emulator, max_tokens=4).chat(question())
    assert response.additional_kwargs["finish_reason"] == "length" and response.message.content is None


def test_a_wrong_token_is_an_authentication_error(workers_ai_emulator: Emulator) -> None:
    llm = WorkersAI(base_url=workers_ai_emulator.v1_url, api_token="wrong-token")
    with pytest.raises(AuthenticationError) as caught:
        llm.chat(question())
    assert caught.value.code == 10000 and "wrong-token" not in str(caught.value)


def test_capacity_errors_are_retried_by_the_core(workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.enqueue(Fault.rate_limited(retry_after=0))

    response = llm_for(workers_ai_emulator).chat(question())

    assert response.message.content == ANSWER and len(workers_ai_emulator.requests) == 2


@pytest.mark.parametrize("entry_point", ["stream_chat", "astream_chat", "stream_complete", "astream_complete"])
def test_token_streaming_over_chat_completions(
    entry_point: str, workers_ai_emulator: Emulator, run_entry: Callable[..., list[Any]]
) -> None:
    llm = llm_for(workers_ai_emulator, stream_mode="chat_completions")

    chunks = run_entry(llm, entry_point, QUESTION if "complete" in entry_point else question())

    assert len([chunk for chunk in chunks if chunk.delta]) > 3  # token by token, not one replayed delta
    assert "".join(chunk.delta for chunk in chunks) == ANSWER
    assert len([chunk for chunk in chunks if chunk.additional_kwargs.get("thinking_delta")]) > 3
    assert chunks[-1].additional_kwargs["completion_tokens"] > 0
    assert workers_ai_emulator.requests[0].path.endswith("/ai/v1/chat/completions")
