"""A `langchain.agents.create_agent` agent with two tools, run to its final answer against the emulator.

Checks what the agent sent: each `function_call` paired with its `function_call_output` by `call_id`, the pending
turn's reasoning sent back (without server ids) right before its calls, and earlier turns' reasoning dropped.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from cfai.emulator import Emulator
from langchain_cfai import ChatWorkersAI

QUESTION = "What is the weather in Paris? Use get_weather and get_local_time."


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return "Sunny, 21 °C"


@tool
def get_local_time(city: str) -> str:
    """Get the local time in a city."""
    return "14:05"


def make_agent(emulator: Emulator) -> Any:
    model = ChatWorkersAI(base_url=emulator.v1_url, api_token=emulator.api_token, reasoning_effort="low")
    return create_agent(model, [get_weather, get_local_time], system_prompt="You are a concise assistant.")


async def run_agent(agent: Any, messages: list[BaseMessage], how: str) -> tuple[list[BaseMessage], list[Any]]:
    """The agent's final messages, and the message chunks it streamed (none unless streaming)."""
    state = {"messages": messages}
    if how == "invoke":
        return agent.invoke(state)["messages"], []
    if how == "ainvoke":
        return (await agent.ainvoke(state))["messages"], []
    modes = ["messages", "values"]
    if how == "stream":
        parts = list(agent.stream(state, stream_mode=modes))
    else:
        parts = [part async for part in agent.astream(state, stream_mode=modes)]
    final = [data for mode, data in parts if mode == "values"][-1]
    streamed = [data[0] for mode, data in parts if mode == "messages" and isinstance(data[0], AIMessageChunk)]
    return final["messages"], streamed


def assert_tool_turn_sent_back(request: dict[str, Any], call_message: AIMessage) -> None:
    """The request after a tool turn: the turn's reasoning, its calls, then their outputs, paired by call_id."""
    items = request["input"]
    calls = [item for item in items if item.get("type") == "function_call"]
    outputs = [item for item in items if item.get("type") == "function_call_output"]
    ids = [call["id"] for call in call_message.tool_calls]
    assert [call["call_id"] for call in calls][-len(ids) :] == ids
    assert [output["call_id"] for output in outputs][-len(ids) :] == ids
    reasoning = [item for item in items if item.get("type") == "reasoning"]
    assert reasoning == [
        {
            "type": "reasoning",
            "summary": [],
            "content": [{"type": "reasoning_text", "text": call_message.additional_kwargs["reasoning_content"]}],
        }
    ]
    assert items.index(reasoning[0]) == items.index(calls[-len(ids)]) - 1
    assert all("id" not in item for item in items)


@pytest.mark.parametrize("how", ["invoke", "ainvoke", "stream", "astream"])
@pytest.mark.parametrize("server_streams", [False, True], ids=["json", "sse"])
async def test_agent_runs_to_its_answer(workers_ai_emulator: Emulator, how: str, server_streams: bool) -> None:
    if server_streams:
        workers_ai_emulator.configure(stream_mode="sse")
    agent = make_agent(workers_ai_emulator)

    messages, streamed = await run_agent(agent, [HumanMessage(QUESTION)], how)

    assert [type(message) for message in messages] == [HumanMessage, AIMessage, ToolMessage, ToolMessage, AIMessage]
    call_message, answer = messages[1], messages[-1]
    assert isinstance(call_message, AIMessage) and isinstance(answer, AIMessage)
    assert [call["name"] for call in call_message.tool_calls] == ["get_weather", "get_local_time"]
    assert answer.text.startswith("Based on get_weather: Sunny, 21 °C; get_local_time: 14:05")
    assert answer.additional_kwargs["reasoning_content"]
    assert answer.usage_metadata is not None and answer.response_metadata["finish_reason"] == "stop"
    # Before Python 3.11 asyncio tasks do not carry LangGraph's callbacks into an async model call, so LangGraph
    # invokes the model instead of streaming it under `astream` there (its documentation says to pass the config by
    # hand); sync streaming streams everywhere.
    tokens_streamed = how == "stream" or (how == "astream" and sys.version_info >= (3, 11))
    if tokens_streamed:
        assert any(chunk.additional_kwargs.get("reasoning_content") for chunk in streamed)
        assert any(chunk.tool_call_chunks for chunk in streamed)
        assert "".join(chunk.text for chunk in streamed) == answer.text

    requests = [request.json for request in workers_ai_emulator.requests]
    assert len(requests) == 2
    assert requests[0]["instructions"] == "You are a concise assistant."
    assert [tool["name"] for tool in requests[0]["tools"]] == ["get_weather", "get_local_time"]
    assert requests[0]["input"] == [{"role": "user", "content": QUESTION}]
    assert_tool_turn_sent_back(requests[1], call_message)
    assert all(request.get("stream", False) is tokens_streamed for request in requests)


async def test_next_question_drops_the_finished_turns_reasoning(workers_ai_emulator: Emulator) -> None:
    agent = make_agent(workers_ai_emulator)
    first = agent.invoke({"messages": [HumanMessage(QUESTION)]})["messages"]
    follow_up = HumanMessage("And in Zürich? Use get_weather.")
    second = (await agent.ainvoke({"messages": [*first, follow_up]}))["messages"]

    requests = [request.json for request in workers_ai_emulator.requests]
    assert len(requests) == 4
    new_question = requests[2]["input"]
    assert not [item for item in new_question if item.get("type") == "reasoning"]
    assert [item.get("type", item.get("role")) for item in new_question] == [
        "user", "function_call", "function_call", "function_call_output", "function_call_output", "message", "user",
    ]  # fmt: skip
    assert_tool_turn_sent_back(requests[3], second[-3])
    assert second[-1].text.startswith("Based on get_weather")


class WeatherReport(BaseModel):
    """The weather in a city."""

    city: str
    conditions: str


async def test_agent_structured_response_uses_text_format(workers_ai_emulator: Emulator) -> None:
    model = ChatWorkersAI(base_url=workers_ai_emulator.v1_url, api_token=workers_ai_emulator.api_token)
    agent = create_agent(model, [get_weather], response_format=WeatherReport)
    result = await agent.ainvoke({"messages": [HumanMessage("What is the weather in Paris? Use get_weather.")]})
    assert isinstance(result["structured_response"], WeatherReport)
    final_request = workers_ai_emulator.requests[-1].json
    assert final_request["text"]["format"]["type"] == "json_schema"
    assert final_request["text"]["format"]["name"] == "WeatherReport"
