"""Agents that prompt instead of calling functions, over HTTP: ReAct turns, and a JSON schema inside the message.

The requests are shaped like LlamaIndex's: `ReActAgent` describes its tools in the system prompt (which becomes
`instructions`) and sends tool results back as user messages "Observation: ..."; `LLMTextCompletionProgram` puts
the JSON schema in the user's message, braces doubled.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest


def react_header(*tools: tuple[str, str, dict[str, Any] | str]) -> str:
    """A ReAct system prompt listing `tools` (name, description, argument schema) the way LlamaIndex lists them."""
    listed = "\n".join(
        f"> Tool Name: {name}\nTool Description: {description}\n"
        f"Tool Args: {schema if isinstance(schema, str) else json.dumps(schema)}\n"
        for name, description, schema in tools
    )
    return (
        "You answer questions with the help of tools.\n\n## Tools\n"
        f"{listed}\n## Output Format\n"
        "Thought: why a tool is needed\nAction: tool name (one of "
        + ", ".join(name for name, _, _ in tools)
        + ")\nAction Input: the tool's arguments as JSON\n\n"
        "Each tool answers as\nObservation: tool response\n\n"
        "When no more tools are needed:\nThought: I can answer without using any more tools.\nAnswer: the answer\n"
    )


CITY = {"properties": {"city": {"title": "City", "type": "string"}}, "required": ["city"], "type": "object"}
WEATHER = ("get_weather", "get_weather(city: str) -> str\nCurrent weather for a city.", CITY)
TIME = ("get_time", "get_time(city: str) -> str\nLocal time in a city.", CITY)
QUESTION = "What is the weather in Paris and the time in Tokyo?"
# LlamaIndex's own parser reads a step with these patterns (llama_index/core/agent/react/output_parser.py)
ACTION = re.compile(
    r"Thought: (?P<thought>.*?)\nAction: (?P<action>[^\n() ]+).*?\nAction Input: .*?(?P<input>\{.*\})", re.S
)
ANSWER = re.compile(r"\s*Thought:(?P<thought>.*?)Answer:(?P<answer>.*?)$", re.S)


async def answer(client: httpx.AsyncClient, instructions: str, messages: list[tuple[str, str]]) -> str:
    body = {
        "model": "@cf/openai/gpt-oss-120b",
        "instructions": instructions,
        "input": [{"role": role, "content": text} for role, text in messages],
    }
    reply = (await client.post("/responses", json=body)).json()
    assert reply["output"][0]["type"] == "reasoning"
    return str(reply["output"][-1]["content"][0]["text"])


def action_of(text: str) -> tuple[str, dict[str, Any]]:
    match = ACTION.search(text)
    assert match is not None, text
    return match["action"], json.loads(match["input"])


async def test_react_acts_once_per_turn_then_answers_quoting_the_observations(client: httpx.AsyncClient) -> None:
    header = react_header(WEATHER, TIME)
    conversation = [("user", QUESTION)]
    first = await answer(client, header, conversation)
    assert action_of(first) == ("get_weather", {"city": "Paris"})
    conversation += [("assistant", first), ("user", "Observation: sunny in Paris")]
    second = await answer(client, header, conversation)
    assert action_of(second) == ("get_time", {"city": "Tokyo"})
    conversation += [("assistant", second), ("user", "Observation: noon in Tokyo")]
    final = await answer(client, header, conversation)
    match = ANSWER.search(final)
    assert match is not None and "Action:" not in final
    assert match["thought"].strip().startswith("I can answer without using any more tools")
    assert match["answer"].strip() == "Based on get_weather: sunny in Paris; get_time: noon in Tokyo"


async def test_a_new_question_starts_a_new_round(client: httpx.AsyncClient) -> None:
    header = react_header(WEATHER)
    earlier = [
        ("user", "Weather in Oslo?"),
        ("assistant", 'Thought: I need a tool.\nAction: get_weather\nAction Input: {"city": "Oslo"}'),
        ("user", "Observation: snow in Oslo"),
        ("assistant", "Thought: I can answer without using any more tools.\nAnswer: Snow."),
    ]
    text = await answer(client, header, [*earlier, ("user", "And the weather in Lima?")])
    assert action_of(text) == ("get_weather", {"city": "Lima"})


async def test_the_chat_completions_surface_speaks_react_too(client: httpx.AsyncClient) -> None:
    messages = [{"role": "system", "content": react_header(WEATHER)}, {"role": "user", "content": "Weather in Rome?"}]
    body = {"model": "@cf/openai/gpt-oss-120b", "messages": messages}
    reply = (await client.post("/chat/completions", json=body)).json()
    message = reply["choices"][0]["message"]
    assert action_of(message["content"]) == ("get_weather", {"city": "Rome"})
    assert message["tool_calls"] == [] and reply["choices"][0]["finish_reason"] == "stop"


async def test_a_tool_with_unreadable_args_is_called_without_arguments(client: httpx.AsyncClient) -> None:
    header = react_header(("ping", "Checks the service.", "not json"), WEATHER)
    assert action_of(await answer(client, header, [("user", "Please ping the service")])) == ("ping", {})


async def test_function_tools_take_precedence_over_a_react_prompt(client: httpx.AsyncClient, kit: Any) -> None:
    body = kit.body("Weather in Paris?", instructions=react_header(WEATHER), tools=[kit.WEATHER_TOOL])
    reply = (await client.post("/responses", json=body)).json()
    assert [item["type"] for item in reply["output"]] == ["reasoning", "function_call"]


SCHEMA = {
    "properties": {
        "vendor": {"title": "Vendor", "type": "string"},
        "total": {"title": "Total", "type": "number"},
        "items": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["vendor", "total"],
    "title": "Invoice",
    "type": "object",
}


@pytest.mark.parametrize("doubled", [True, False])
async def test_a_json_schema_in_the_message_is_answered_with_json_text(
    client: httpx.AsyncClient, doubled: bool
) -> None:
    schema = json.dumps(SCHEMA)
    if doubled:  # as LlamaIndex's LLMTextCompletionProgram sends it
        schema = schema.replace("{", "{{").replace("}", "}}")
    message = (
        'Extract the invoice: "ACME Corp", total due 42.50 dollars, for "Widgets"\n\n\n'
        f"Here's a JSON schema to follow:\n{schema}\n\nOutput a valid JSON object but do not repeat the schema.\n"
    )
    text = await answer(client, "", [("user", message)])
    assert json.loads(text) == {"vendor": "ACME Corp", "total": 42.5, "items": ["Widgets"]}


async def test_a_message_that_only_talks_about_schemas_is_echoed(client: httpx.AsyncClient) -> None:
    text = await answer(client, "", [("user", "What is a JSON schema? Explain {briefly}.")])
    assert text == "You asked: What is a JSON schema? Explain {briefly}."
