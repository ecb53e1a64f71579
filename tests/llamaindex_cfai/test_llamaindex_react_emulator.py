"""LlamaIndex's prompting agents end to end against the emulator, no scripted replies: the emulator's model speaks
ReAct to `ReActAgent` and answers `LLMTextCompletionProgram`'s JSON schema with JSON text."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from llama_index.core.agent.workflow import ReActAgent, ToolCallResult
from llama_index.core.program import LLMTextCompletionProgram
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

from cfai.emulator import Emulator
from llamaindex_cfai import WorkersAI

pytestmark = pytest.mark.loopback


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"sunny in {city}"


def get_time(city: str) -> str:
    """Local time in a city."""
    return f"noon in {city}"


@pytest.fixture
def llm(workers_ai_emulator: Emulator) -> WorkersAI:
    return WorkersAI(base_url=workers_ai_emulator.v1_url, api_token=workers_ai_emulator.api_token)


def run(agent: ReActAgent, question: str) -> tuple[str, list[tuple[str, dict[str, Any], str]]]:
    async def go() -> tuple[str, list[tuple[str, dict[str, Any], str]]]:
        handler = agent.run(question)
        events = [event async for event in handler.stream_events()]
        calls = [
            (event.tool_name, event.tool_kwargs, str(event.tool_output.content))
            for event in events
            if isinstance(event, ToolCallResult)
        ]
        return str(await handler), calls

    return asyncio.run(go())


@pytest.mark.parametrize("streaming", [True, False])
def test_a_react_agent_with_one_tool_answers_through_a_tool_call(
    streaming: bool, llm: WorkersAI, workers_ai_emulator: Emulator
) -> None:
    agent = ReActAgent(tools=[FunctionTool.from_defaults(get_weather)], llm=llm, streaming=streaming)

    output, calls = run(agent, "What's the weather in Paris?")

    assert calls == [("get_weather", {"city": "Paris"}, "sunny in Paris")]
    assert output == "Based on get_weather: sunny in Paris"
    first, second = (request.json for request in workers_ai_emulator.requests)
    assert "> Tool Name: get_weather" in first["instructions"] and "tools" not in first
    assert second["input"][-1] == {"role": "user", "content": "Observation: sunny in Paris"}


def test_a_react_agent_takes_one_tool_per_step(llm: WorkersAI, workers_ai_emulator: Emulator) -> None:
    tools = [FunctionTool.from_defaults(get_weather), FunctionTool.from_defaults(get_time)]
    agent = ReActAgent(tools=tools, llm=llm)

    output, calls = run(agent, "What is the weather in Paris and the time in Tokyo?")

    assert calls == [
        ("get_weather", {"city": "Paris"}, "sunny in Paris"),
        ("get_time", {"city": "Tokyo"}, "noon in Tokyo"),
    ]
    assert output == "Based on get_weather: sunny in Paris; get_time: noon in Tokyo"
    assert len(workers_ai_emulator.requests) == 3


class Invoice(BaseModel):
    vendor: str
    total: float


def test_a_text_completion_program_gets_json_built_from_its_schema(llm: WorkersAI) -> None:
    program = LLMTextCompletionProgram.from_defaults(
        output_cls=Invoice, prompt_template_str="Extract the invoice: {text}", llm=llm
    )

    assert program(text='"ACME Corp", total due 42.50 USD') == Invoice(vendor="ACME Corp", total=42.5)
