"""Agents end to end against the emulator: FunctionAgent and ReActAgent run two tools to their final answer.

The emulator's model calls the tools a user message names, with arguments taken from its words, and answers from
the tool results (FunctionAgent). It does not speak ReAct's text protocol, so the ReActAgent test scripts the
model's three turns with `CannedReply` and checks what the agent sent back after each tool ran.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.agent.workflow import AgentStream, FunctionAgent, ReActAgent, ToolCallResult
from llama_index.core.memory import ChatMemoryBuffer
from llama_index.core.tools import FunctionTool

from cfai.emulator import CannedReply, Emulator
from llamaindex_cfai import WorkersAI

pytestmark = pytest.mark.loopback

QUESTION = "Use get_weather for Paris and get_time for Tokyo."


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"sunny in {city}"


def get_time(city: str) -> str:
    """Local time in a city."""
    return f"noon in {city}"


TOOLS = [FunctionTool.from_defaults(get_weather), FunctionTool.from_defaults(get_time)]


@pytest.fixture
def llm(workers_ai_emulator: Emulator) -> WorkersAI:
    return WorkersAI(base_url=workers_ai_emulator.v1_url, api_token=workers_ai_emulator.api_token)


def run(agent: Any, question: str, **options: Any) -> tuple[Any, list[Any]]:
    async def go() -> tuple[Any, list[Any]]:
        handler = agent.run(question, **options)
        events = [event async for event in handler.stream_events()]
        return await handler, events

    return asyncio.run(go())


def items_of(request_json: dict[str, Any], kind: str) -> dict[str, str]:
    field = "output" if kind == "function_call_output" else "name"
    return {item["call_id"]: item[field] for item in request_json["input"] if item.get("type") == kind}


@pytest.mark.parametrize("streaming", [True, False])
def test_function_agent_runs_two_tools_to_the_final_answer(
    streaming: bool, llm: WorkersAI, workers_ai_emulator: Emulator
) -> None:
    agent = FunctionAgent(tools=TOOLS, llm=llm, streaming=streaming)

    output, events = run(agent, QUESTION)

    results = [event for event in events if isinstance(event, ToolCallResult)]
    assert sorted((result.tool_name, result.tool_kwargs["city"]) for result in results) == [
        ("get_time", "Tokyo"),
        ("get_weather", "Paris"),
    ]
    # The agent runs both tools at once, so their results reach the history, and the answer, in either order.
    answer = str(output)
    assert answer.startswith("Based on ")
    assert sorted(answer.removeprefix("Based on ").split("; ")) == [
        "get_time: noon in Tokyo",
        "get_weather: sunny in Paris",
    ]
    final_request = workers_ai_emulator.requests[-1].json
    assert items_of(final_request, "function_call") == {result.tool_id: result.tool_name for result in results}
    assert items_of(final_request, "function_call_output") == {
        result.tool_id: result.tool_output.content for result in results
    }
    assert [item.get("type") for item in final_request["input"]][1] == "reasoning"  # the in-progress turn's
    if streaming:
        assert any(event.thinking_delta for event in events if isinstance(event, AgentStream))
        assert "".join(event.delta for event in events if isinstance(event, AgentStream)).endswith(answer)


def test_a_second_run_sends_history_without_the_finished_turns_reasoning(
    llm: WorkersAI, workers_ai_emulator: Emulator
) -> None:
    agent = FunctionAgent(tools=TOOLS, llm=llm)
    memory = ChatMemoryBuffer.from_defaults(llm=llm)
    run(agent, QUESTION, memory=memory)

    output, _ = run(agent, "Thanks. Use get_weather for Oslo.", memory=memory)

    assert str(output) == "Based on get_weather: sunny in Oslo"
    calling, answering = (request.json["input"] for request in workers_ai_emulator.requests[-2:])
    assert calling[0] == {"role": "user", "content": QUESTION}
    assert [item.get("type", "message") for item in calling] == [
        "message",
        "function_call",
        "function_call",
        "function_call_output",
        "function_call_output",
        "message",
        "message",
    ]  # the finished first turn went back without its reasoning
    assert [item.get("type", "message") for item in answering][-4:] == [
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
    ]  # the turn in progress keeps its reasoning right before its call


@pytest.mark.parametrize("streaming", [True, False])
def test_react_agent_runs_two_tools_to_the_final_answer(
    streaming: bool, llm: WorkersAI, workers_ai_emulator: Emulator, reply: Callable[..., dict[str, Any]]
) -> None:
    for text in (
        'Thought: I need the weather first.\nAction: get_weather\nAction Input: {"city": "Paris"}',
        'Thought: Now the time.\nAction: get_time\nAction Input: {"city": "Tokyo"}',
        "Thought: I can answer without using any more tools.\nAnswer: Sunny in Paris; noon in Tokyo.",
    ):
        workers_ai_emulator.enqueue(CannedReply(json=reply(text)), route="responses")
    agent = ReActAgent(tools=TOOLS, llm=llm, streaming=streaming)

    output, events = run(agent, "What is the weather in Paris and the time in Tokyo?")

    assert str(output) == "Sunny in Paris; noon in Tokyo."
    results = [(event.tool_name, event.tool_output.content) for event in events if isinstance(event, ToolCallResult)]
    assert results == [("get_weather", "sunny in Paris"), ("get_time", "noon in Tokyo")]
    first, second, third = (request.json for request in workers_ai_emulator.requests)
    assert "get_weather" in first["instructions"] and "tools" not in first  # ReAct describes tools in the prompt
    assert "Observation: sunny in Paris" in str(second["input"])
    assert "Observation: noon in Tokyo" in str(third["input"])
    assert workers_ai_emulator.pending_scripts == 0
