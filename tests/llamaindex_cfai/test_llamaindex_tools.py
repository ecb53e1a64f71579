"""Function calling: tool specs in the request, tool_choice, parallel calls, tool selections with their call ids."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.tools import FunctionTool

from cfai.errors import InvalidToolArgumentsWarning


def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"sunny in {city}"


def get_time(city: str) -> str:
    """Local time in a city."""
    return f"noon in {city}"


TOOLS = [FunctionTool.from_defaults(get_weather), FunctionTool.from_defaults(get_time)]
WEATHER_CALL = ("get_weather", '{"city":"Paris"}')
TIME_CALL = ("get_time", '{"city":"Paris"}')


def test_prepare_chat_with_tools_builds_a_new_history(server: Callable[..., Any]) -> None:
    history = [ChatMessage(role=MessageRole.USER, content="earlier")]
    before = copy.deepcopy(history)

    prepared = server().llm()._prepare_chat_with_tools(TOOLS, user_msg="Weather?", chat_history=history)

    assert history == before
    assert [message.content for message in prepared["messages"]] == ["earlier", "Weather?"]
    assert [tool["name"] for tool in prepared["tools"]] == ["get_weather", "get_time"]


def test_chat_with_tools_sends_flat_tools_and_returns_the_call(server: Callable[..., Any], reply: Any) -> None:
    srv = server(reply(calls=(WEATHER_CALL,)))
    llm = srv.llm()

    response = llm.chat_with_tools(TOOLS, user_msg="Weather in Paris?")

    body = srv.bodies[0]
    description = body["tools"][0].pop("description")
    assert description.startswith("get_weather(") and description.endswith("\nCurrent weather for a city.")
    assert body["tools"][0] == {
        "type": "function",
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"title": "City", "type": "string"}},
            "required": ["city"],
        },
    }
    assert body["parallel_tool_calls"] is False and "tool_choice" not in body
    (selection,) = llm.get_tool_calls_from_response(response)
    assert (selection.tool_id, selection.tool_name, selection.tool_kwargs) == (
        "call_0",
        "get_weather",
        {"city": "Paris"},
    )


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"tool_required": True}, "required"),
        ({"tool_choice": "get_time"}, {"type": "function", "name": "get_time"}),
        ({"tool_choice": "none"}, "none"),
        (
            {"tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
            {"type": "function", "name": "get_weather"},
        ),
    ],
)
def test_tool_choice(options: dict[str, Any], expected: Any, server: Callable[..., Any], reply: Any) -> None:
    srv = server(reply(calls=(TIME_CALL,)))

    srv.llm().chat_with_tools(TOOLS, user_msg="Time?", **options)

    assert srv.bodies[0]["tool_choice"] == expected


def test_an_unknown_tool_choice_is_a_clear_error(server: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match="not among the bound tools"):
        server().llm().chat_with_tools(TOOLS, user_msg="Time?", tool_choice="get_date")


def test_parallel_calls_are_kept_only_when_allowed(server: Callable[..., Any], reply: Any) -> None:
    srv = server(reply(calls=(WEATHER_CALL, TIME_CALL)), repeat_last=True)
    llm = srv.llm()

    single = llm.chat_with_tools(TOOLS, user_msg="Weather and time?")
    both = llm.chat_with_tools(TOOLS, user_msg="Weather and time?", allow_parallel_tool_calls=True)

    assert [call.tool_id for call in llm.get_tool_calls_from_response(single)] == ["call_0"]
    assert [call.tool_id for call in llm.get_tool_calls_from_response(both)] == ["call_0", "call_1"]
    assert "parallel_tool_calls" not in srv.bodies[1]


def test_no_tool_call_raises_unless_told_not_to(server: Callable[..., Any], reply: Any) -> None:
    llm = server(reply("Just text.")).llm()
    response = llm.chat_with_tools(TOOLS, user_msg="Hi")

    with pytest.raises(ValueError, match="Expected at least one tool call"):
        llm.get_tool_calls_from_response(response)
    assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []


def test_invalid_arguments_warn_once_and_select_empty_arguments(server: Callable[..., Any], reply: Any) -> None:
    llm = server(reply(calls=(("get_weather", '{"city": Paris}'),))).llm()

    with pytest.warns(InvalidToolArgumentsWarning, match="not a JSON object"):
        response = llm.chat_with_tools(TOOLS, user_msg="Weather?")

    assert llm.get_tool_calls_from_response(response)[0].tool_kwargs == {}


def test_streamed_tool_calls_keep_their_ids(server: Callable[..., Any], reply: Any) -> None:
    llm = server(reply(calls=(WEATHER_CALL, TIME_CALL))).llm()

    async def collect() -> list[Any]:
        chunks = await llm.astream_chat_with_tools(TOOLS, user_msg="Weather and time?", allow_parallel_tool_calls=True)
        return [chunk async for chunk in chunks]

    chunks = asyncio.run(collect())

    assert [(call.tool_id, call.tool_name) for call in llm.get_tool_calls_from_response(chunks[-1])] == [
        ("call_0", "get_weather"),
        ("call_1", "get_time"),
    ]


def test_predict_and_call_runs_the_tool(server: Callable[..., Any], reply: Any) -> None:
    llm = server(reply(calls=(WEATHER_CALL,))).llm()

    result = llm.predict_and_call(TOOLS, user_msg="Weather in Paris?")

    assert result.response == "sunny in Paris"
    assert result.sources[0].raw_input == {"args": (), "kwargs": {"city": "Paris"}}


def test_the_tool_results_go_back_with_their_call_ids(server: Callable[..., Any], reply: Any) -> None:
    srv = server(reply(calls=(WEATHER_CALL,)), reply("It is sunny."))
    llm = srv.llm()
    question = ChatMessage(role=MessageRole.USER, content="Weather in Paris?")

    first = llm.chat_with_tools(TOOLS, chat_history=[question])
    (call,) = llm.get_tool_calls_from_response(first)
    result = ChatMessage(role=MessageRole.TOOL, content="sunny", additional_kwargs={"tool_call_id": call.tool_id})
    llm.chat_with_tools(TOOLS, chat_history=[question, first.message, result])

    items = srv.bodies[1]["input"]
    assert [item.get("type", "message") for item in items] == [
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
    ]
    assert items[2]["call_id"] == items[3]["call_id"] == "call_0"
