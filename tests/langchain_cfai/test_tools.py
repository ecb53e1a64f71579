"""bind_tools and with_structured_output: what goes on the wire, and what comes back parsed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Get current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@tool
def get_weather(city: str) -> str:
    """Get current weather for a city."""
    return f"Sunny in {city}"


class Address(BaseModel):
    city: str


class Person(BaseModel):
    """A person and where they live."""

    name: str = Field(description="Full name")
    home: Address


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def text_reply(server: Any, text: str) -> dict[str, Any]:
    reply = server.load("responses-text")
    message = {**reply["output"][1], "content": [{"type": "output_text", "text": text}]}
    return {**reply, "output": [reply["output"][0], message]}


def tool_reply(server: Any, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    reply = server.load("responses-tool-call")
    call = {**reply["output"][1], "name": name, "arguments": json.dumps(arguments)}
    return {**reply, "output": [reply["output"][0], call]}


class TestBindTools:
    def test_every_tool_kind_becomes_a_flat_responses_function(self, server: Any) -> None:
        server.reply("responses-tool-call")
        openai_nested = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
        bound = server.model().bind_tools([get_weather, Person, add, openai_nested, WEATHER_TOOL])
        bound.invoke("Weather in Paris?")
        tools = server.last_body["tools"]
        assert [tool["name"] for tool in tools] == ["get_weather", "Person", "add", "lookup", "get_weather"]
        assert all(tool["type"] == "function" and "function" not in tool for tool in tools)
        assert tools[4] == WEATHER_TOOL
        person = json.dumps(tools[1]["parameters"])
        assert "$ref" not in person and "$defs" not in person  # gpt-oss does not follow references
        assert tools[1]["parameters"]["properties"]["home"]["properties"]["city"] == {"type": "string"}

    def test_tools_are_converted_once_at_bind_time(self, server: Any) -> None:
        bound = server.model().bind_tools([get_weather])
        assert bound.kwargs["tools"] == [
            {
                "type": "function",
                "name": "get_weather",
                "description": "Get current weather for a city.",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            }
        ]

    @pytest.mark.parametrize(
        ("tools", "choice", "sent"),
        [
            ([get_weather, add], "auto", "auto"),
            ([get_weather, add], "none", "none"),
            ([get_weather, add], "any", "required"),
            ([get_weather, add], "required", "required"),
            ([get_weather, add], "add", {"type": "function", "name": "add"}),
            (
                [get_weather, add],
                {"type": "function", "function": {"name": "add"}},
                {"type": "function", "name": "add"},
            ),
            # With one tool, "must call a tool" is sent as that tool: Cloudflare treats "required" as advisory.
            ([get_weather], "any", {"type": "function", "name": "get_weather"}),
            ([get_weather], True, {"type": "function", "name": "get_weather"}),
        ],
    )
    def test_tool_choice(self, server: Any, tools: list[Any], choice: Any, sent: Any) -> None:
        server.reply("responses-tool-call")
        server.model().bind_tools(tools, tool_choice=choice, parallel_tool_calls=False).invoke("Hi")
        assert server.last_body["tool_choice"] == sent
        assert server.last_body["parallel_tool_calls"] is False

    def test_unknown_tool_choice_fails_at_bind_time(self, server: Any) -> None:
        with pytest.raises(ValueError, match="not among the bound tools"):
            server.model().bind_tools([get_weather], tool_choice="send_email")

    def test_built_in_tools_are_refused(self, server: Any) -> None:
        with pytest.raises(ValueError, match="function tools only"):
            server.model().bind_tools([{"type": "web_search_preview"}])

    def test_no_tools_sends_no_tools_field(self, server: Any) -> None:
        server.reply("responses-text")
        server.model().bind_tools([], tool_choice="any").invoke("Hi")
        assert "tools" not in server.last_body and "tool_choice" not in server.last_body

    def test_strict(self, server: Any) -> None:
        server.reply("responses-tool-call")
        server.model().bind_tools([get_weather], strict=True).invoke("Hi")
        sent = server.last_body["tools"][0]
        assert sent["strict"] is True
        assert sent["parameters"]["additionalProperties"] is False


class Joke(BaseModel):
    """Joke to tell user."""

    setup: str = Field(description="question to set up a joke")
    punchline: str = Field(description="answer to resolve the joke")


class JokeDict(TypedDict):
    setup: str
    punchline: str


JOKE = {"setup": "Why did the cat sit on the computer?", "punchline": "To keep an eye on the mouse."}


class TestStructuredOutput:
    @pytest.mark.parametrize(
        "schema", [Joke, JokeDict, Joke.model_json_schema()], ids=["pydantic", "typeddict", "json"]
    )
    async def test_json_schema_is_the_default(self, server: Any, run: Any, schema: Any) -> None:
        server.reply(text_reply(server, json.dumps(JOKE)))
        result = await run.invoke(server.model().with_structured_output(schema), "Tell me a joke about cats")
        assert (result.model_dump() if isinstance(result, Joke) else result) == JOKE
        text = server.last_body["text"]["format"]
        assert (text["type"], text["name"]) == ("json_schema", "JokeDict" if schema is JokeDict else "Joke")
        assert set(text["schema"]["properties"]) == {"setup", "punchline"}
        assert "tools" not in server.last_body

    def test_strict_json_schema_and_inlined_defs(self, server: Any) -> None:
        server.reply(text_reply(server, json.dumps({"name": "Ada", "home": {"city": "London"}})))
        person = server.model().with_structured_output(Person, strict=True).invoke("Who is Ada?")
        assert person == Person(name="Ada", home=Address(city="London"))
        text = server.last_body["text"]["format"]
        assert text["strict"] is True and text["schema"]["additionalProperties"] is False
        assert "$defs" not in json.dumps(text["schema"])

    async def test_function_calling(self, server: Any, run: Any) -> None:
        server.reply(tool_reply(server, "Joke", JOKE))
        joke = await run.invoke(server.model().with_structured_output(Joke, method="function_calling"), "A joke")
        assert joke == Joke(**JOKE)
        assert server.last_body["tool_choice"] == {"type": "function", "name": "Joke"}
        assert server.last_body["parallel_tool_calls"] is False
        assert "text" not in server.last_body

    async def test_json_mode(self, server: Any, run: Any) -> None:
        server.reply(text_reply(server, json.dumps(JOKE)))
        result = await run.invoke(server.model().with_structured_output(None, method="json_mode"), "JSON joke")
        assert result == JOKE
        assert server.last_body["text"] == {"format": {"type": "json_object"}}

    def test_include_raw(self, server: Any) -> None:
        server.reply(text_reply(server, json.dumps(JOKE)))
        server.reply(text_reply(server, "not json"))
        structured = server.model().with_structured_output(Joke, include_raw=True)
        good = structured.invoke("A joke")
        assert isinstance(good["raw"], AIMessage) and good["parsed"] == Joke(**JOKE) and good["parsing_error"] is None
        bad = structured.invoke("A joke")
        assert bad["parsed"] is None and bad["parsing_error"] is not None

    async def test_streaming_structured_output(self, server: Any, run: Any) -> None:
        server.sse(text_reply(server, json.dumps(JOKE)))
        structured = server.model(base_url="https://responses.example/v1").with_structured_output(JokeDict)
        parts = await run.stream(structured, "A joke")
        assert len(parts) > 1 and parts[-1] == JOKE

    def test_bad_arguments(self, server: Any) -> None:
        with pytest.raises(ValueError, match="method must be one of"):
            server.model().with_structured_output(Joke, method="xml")
        with pytest.raises(ValueError, match="unsupported arguments"):
            server.model().with_structured_output(Joke, tools=[])

    def test_create_agent_response_format(self, server: Any) -> None:
        server.reply(text_reply(server, json.dumps(JOKE)))
        schema = {"name": "Joke", "schema": Joke.model_json_schema(), "strict": True}
        server.model().bind_tools([], response_format={"type": "json_schema", "json_schema": schema}).invoke("Hi")
        text = server.last_body["text"]["format"]
        assert (text["type"], text["name"], text["strict"]) == ("json_schema", "Joke", True)
