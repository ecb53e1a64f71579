"""Round trips: reply -> AIMessage -> next request reproduces the reply's items (no server ids), streamed or not.

Reasoning goes back only for the tool-calling turn still awaiting results; a completed turn goes back as its text.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage

SSE_BASE_URL = "https://responses.example/v1"


def as_input(item: dict[str, Any]) -> dict[str, Any]:
    """A reply's output item as it must come back in the next request: content kept, ids and statuses dropped."""
    if item["type"] == "reasoning":
        text = "".join(part["text"] for part in item["content"])
        return {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": text}]}
    if item["type"] == "message":
        text = "".join(part["text"] for part in item["content"])
        return {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}
    return {key: item[key] for key in ("type", "call_id", "name", "arguments")}


def parallel_calls(server: Any) -> dict[str, Any]:
    reply = server.load("responses-tool-call")
    first = reply["output"][1]
    second = {**first, "id": "fc_2", "call_id": "call_2", "arguments": '{"city":"Zürich"}'}
    return {**reply, "output": [*reply["output"], second]}


async def receive(server: Any, run: Any, reply: dict[str, Any], how: str, **fields: Any) -> AIMessage:
    """Gets `reply` as the AIMessage the caller would hold: invoked, or a stream's summed chunks."""
    if how == "invoke":
        server.reply(reply)
        message: AIMessage = await run.invoke(server.model(**fields), "Weather in Paris?")
        return message
    sse = how == "sse"
    (server.sse if sse else server.reply)(reply)
    chunks = await run.stream(server.model(base_url=SSE_BASE_URL if sse else None, **fields), "Weather in Paris?")
    total: AIMessageChunk = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


def results_for(message: AIMessage) -> list[ToolMessage]:
    return [ToolMessage(f"Sunny in {call['args']['city']}", tool_call_id=call["id"]) for call in message.tool_calls]


HOW = pytest.mark.parametrize("how", ["invoke", "buffered", "sse"])
VERSION = pytest.mark.parametrize("version", [None, "v1"])


@HOW
@VERSION
@pytest.mark.parametrize("reply_of", ["single", "parallel"])
async def test_tool_turn_comes_back_with_its_reasoning(
    server: Any, run: Any, how: str, version: str | None, reply_of: str
) -> None:
    reply = server.load("responses-tool-call") if reply_of == "single" else parallel_calls(server)
    message = await receive(server, run, reply, how, output_version=version)
    history = [HumanMessage("Weather in Paris?"), message, *results_for(message)]
    before = copy.deepcopy(history)
    server.reply("responses-text")
    await run.invoke(server.model(), history)
    outputs = [
        {"type": "function_call_output", "call_id": item["call_id"], "output": f"Sunny in {city}"}
        for item, city in zip(reply["output"][1:], ("Paris", "Zürich"), strict=False)
    ]
    assert server.last_body["input"] == [
        {"role": "user", "content": "Weather in Paris?"},
        *[as_input(item) for item in reply["output"]],
        *outputs,
    ]
    assert history == before


@HOW
@VERSION
async def test_answer_comes_back_as_text_without_its_reasoning(
    server: Any, run: Any, how: str, version: str | None
) -> None:
    reply = server.load("responses-text")
    message = await receive(server, run, reply, how, output_version=version)
    server.reply("responses-text")
    await run.invoke(server.model(), [HumanMessage("Weather in Paris?"), message, HumanMessage("And tomorrow?")])
    assert server.last_body["input"] == [
        {"role": "user", "content": "Weather in Paris?"},
        as_input(reply["output"][1]),
        {"role": "user", "content": "And tomorrow?"},
    ]


@HOW
async def test_whole_agent_turn_round_trip(server: Any, run: Any, how: str) -> None:
    """Tool call, result, final answer, next question: only text and the call/result pair of the old turn remain."""
    call_reply, answer_reply = server.load("responses-tool-call"), server.load("responses-text")
    call = await receive(server, run, call_reply, how)
    answer = await receive(server, run, answer_reply, how)
    server.reply("responses-text")
    history = [HumanMessage("Weather in Paris?"), call, *results_for(call), answer, HumanMessage("Thanks!")]
    await run.invoke(server.model(), history)
    assert server.last_body["input"] == [
        {"role": "user", "content": "Weather in Paris?"},
        as_input(call_reply["output"][1]),
        {"type": "function_call_output", "call_id": call_reply["output"][1]["call_id"], "output": "Sunny in Paris"},
        as_input(answer_reply["output"][1]),
        {"role": "user", "content": "Thanks!"},
    ]
    assert "rs_" not in str(server.last_body) and "fc_" not in str(server.last_body)
