"""The rule-based model's decisions, as pure functions: which tools, what arguments, what answer, what budget."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cfai.emulator.envelope import CloudflareError
from cfai.emulator.model import ITEM_OVERHEAD_TOKENS, Prompt, respond
from cfai.emulator.tokens import count_tokens
from cfai.emulator.tool_plan import Tool

MODEL = "@cf/openai/gpt-oss-120b"
WEATHER = Tool("get_weather", "Weather for a city.", {"type": "object", "properties": {"city": {"type": "string"}}})
TIME = Tool("get_time", "Time in a zone.", {"type": "object", "properties": {"zone": {"type": "string"}}})
ADD = Tool(
    "add",
    "Add two integers.",
    {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]},
)


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": text}


def prompt(*items: dict[str, Any], **fields: Any) -> Prompt:
    return Prompt(model=MODEL, items=tuple(items), **fields)


def test_plain_question_is_echoed_after_reasoning() -> None:
    turn = respond(prompt(user("Why is the sky blue?")))
    assert turn.text == "You asked: Why is the sky blue?"
    assert "Why is the sky blue?" in turn.reasoning
    assert not turn.tool_calls and not turn.incomplete


def test_usage_adds_up() -> None:
    turn = respond(prompt(user("Why is the sky blue?"), instructions="Be brief."))
    expected_input = count_tokens("Be brief.") + count_tokens("Why is the sky blue?") + 2 * ITEM_OVERHEAD_TOKENS
    assert turn.input_tokens == expected_input
    assert turn.reasoning_tokens == count_tokens(turn.reasoning)
    assert turn.output_tokens == turn.reasoning_tokens + count_tokens(turn.text or "")


def test_reasoning_grows_with_effort() -> None:
    lengths = [respond(prompt(user("Hi"), effort=effort)).reasoning_tokens for effort in ("low", "medium", "high")]
    assert lengths == sorted(lengths) and len(set(lengths)) == 3


def test_tools_named_in_the_question_are_called_in_order_with_arguments_from_the_prompt() -> None:
    turn = respond(prompt(user("Use get_time for Tokyo, then get_weather for Zürich."), tools=(WEATHER, TIME)))
    assert [call.name for call in turn.tool_calls] == ["get_time", "get_weather"]
    assert [json.loads(call.arguments) for call in turn.tool_calls] == [{"zone": "Tokyo"}, {"city": "Zürich"}]
    assert turn.text is None
    assert turn.tool_calls[1].arguments == '{"city":"Zürich"}'  # compact, Unicode kept


def test_without_a_named_tool_the_first_is_called() -> None:
    turn = respond(prompt(user("Sum 2 and 3"), tools=(ADD, WEATHER)))
    assert [(call.name, json.loads(call.arguments)) for call in turn.tool_calls] == [("add", {"a": 2, "b": 3})]


def test_forced_tool_wins_over_mentions_and_none_disables_tools() -> None:
    forced = respond(prompt(user("get_weather in Paris"), tools=(WEATHER, TIME), forced_tool="get_time"))
    assert [call.name for call in forced.tool_calls] == ["get_time"]
    none = respond(prompt(user("get_weather in Paris"), tools=(WEATHER,), tool_choice="none"))
    assert not none.tool_calls and none.text == "You asked: get_weather in Paris"


def test_parallel_tool_calls_false_keeps_one_call() -> None:
    turn = respond(prompt(user("get_time and get_weather"), tools=(WEATHER, TIME), parallel_tool_calls=False))
    assert [call.name for call in turn.tool_calls] == ["get_time"]


CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
CITY_WEATHER, CITY_TIME = Tool("get_weather", "", CITY), Tool("get_time", "", CITY)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # each call reads its own part of the question, found by a word of the tool's name
        ("What's the weather in Paris and the time in Tokyo?", [("get_weather", "Paris"), ("get_time", "Tokyo")]),
        ("What time is it in Tokyo, and what's the weather in Oslo?", [("get_time", "Tokyo"), ("get_weather", "Oslo")]),
        # the same tool twice: once per city
        ("What's the weather in Paris and in Rome?", [("get_weather", "Paris"), ("get_weather", "Rome")]),
        ("Weather in Paris? And the weather in Rome?", [("get_weather", "Paris"), ("get_weather", "Rome")]),
        ("Tell me the times in Lima and Quito", [("get_time", "Lima"), ("get_time", "Quito")]),
        # one place in two words is one call; a tool without a value of its own shares the next one
        ("What's the weather in São Paulo, Brazil?", [("get_weather", "São Paulo")]),
        ("What's the weather and the time in Paris?", [("get_weather", "Paris"), ("get_time", "Paris")]),
    ],
)
def test_parallel_calls_each_get_their_own_arguments(question: str, expected: list[tuple[str, str]]) -> None:
    turn = respond(prompt(user(question), tools=(CITY_WEATHER, CITY_TIME)))
    assert [(call.name, json.loads(call.arguments)["city"]) for call in turn.tool_calls] == expected


def test_a_second_call_without_a_value_gets_its_part_of_the_question_not_the_whole() -> None:
    turn = respond(prompt(user("Use get_weather for Paris, then get_time please"), tools=(CITY_WEATHER, CITY_TIME)))
    weather, time = (json.loads(call.arguments)["city"] for call in turn.tool_calls)
    assert (weather, time) == ("Paris", "get_time please")


def test_a_word_two_tool_names_share_does_not_pick_a_tool() -> None:
    tools = (Tool("add_numbers", "", ADD.parameters), Tool("multiplyNumbers", "", ADD.parameters))
    turn = respond(prompt(user("Please multiply the numbers 6 and 7"), tools=tools))
    assert [(call.name, json.loads(call.arguments)) for call in turn.tool_calls] == [
        ("multiplyNumbers", {"a": 6, "b": 7})
    ]


def test_two_sets_of_numbers_make_two_calls_and_one_set_one() -> None:
    twice = respond(prompt(user("Add 2 and 3, then add 4 and 5"), tools=(ADD,)))
    assert [json.loads(call.arguments) for call in twice.tool_calls] == [{"a": 2, "b": 3}, {"a": 4, "b": 5}]
    once = respond(prompt(user("Add 2 and 3"), tools=(ADD,)))
    assert [json.loads(call.arguments) for call in once.tool_calls] == [{"a": 2, "b": 3}]


def test_tool_results_are_answered_from_their_output() -> None:
    items = (
        user("Weather in Paris and the time?"),
        {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        {"type": "function_call", "call_id": "c2", "name": "get_time", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "Sunny, 21 °C"},
        {"type": "function_call_output", "call_id": "c2", "output": "10:42"},
    )
    turn = respond(prompt(*items, tools=(WEATHER, TIME)))
    assert not turn.tool_calls
    assert turn.text == "Based on get_weather: Sunny, 21 °C; get_time: 10:42"


def test_structured_output_after_a_tool_result_uses_the_output() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "celsius": {"type": "number"}}}
    items = (
        user("Weather in Paris as JSON"),
        {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "21 degrees"},
    )
    output_format = {"type": "json_schema", "name": "weather", "schema": schema}
    turn = respond(prompt(*items, tools=(WEATHER,), output_format=output_format))
    assert json.loads(turn.text or "") == {"city": "Paris", "celsius": 21}


def test_json_object_format_uses_quoted_keys_else_wraps_the_question() -> None:
    turn = respond(prompt(user("List three fruits"), output_format={"type": "json_object"}))
    assert json.loads(turn.text or "") == {"answer": "List three fruits"}
    ask = "Tell me a joke about Cats. Return JSON with 'setup' and 'punchline' keys."
    joke = json.loads(respond(prompt(user(ask), output_format={"type": "json_object"})).text or "")
    assert list(joke) == ["setup", "punchline"] and all(isinstance(value, str) for value in joke.values())


def test_max_output_tokens_truncates_the_answer_as_a_prefix() -> None:
    question = "Tell me everything about the history of the Roman Empire in great detail"
    full = respond(prompt(user(question)))
    budget = full.reasoning_tokens + 4
    short = respond(prompt(user(question), max_output_tokens=budget))
    assert short.incomplete
    assert short.output_tokens == budget
    assert short.text == "You asked: Tell"  # four tokens: "You", "asked", ":", "Tell"
    assert (full.text or "").startswith(short.text or "")


def test_a_tiny_budget_leaves_reasoning_only() -> None:
    turn = respond(prompt(user("Hello"), tools=(WEATHER,), max_output_tokens=5))
    assert turn.incomplete and turn.text is None and not turn.tool_calls
    assert turn.reasoning_tokens == 5 == turn.output_tokens


def test_a_forced_tool_call_that_does_not_fit_is_refused_with_8006() -> None:
    base = respond(prompt(user("Weather in Paris"), tools=(WEATHER,)))
    with pytest.raises(CloudflareError) as raised:
        respond(prompt(user("Weather in Paris"), tools=(WEATHER,), forced_tool="get_weather",
                       max_output_tokens=base.reasoning_tokens + 2))  # fmt: skip
    assert (raised.value.status, raised.value.code) == (400, 8006)
    unforced = respond(prompt(user("Weather in Paris"), tools=(WEATHER,), max_output_tokens=base.reasoning_tokens + 2))
    assert unforced.incomplete and not unforced.tool_calls


def test_context_window_overflow_is_a_400_naming_the_context_length() -> None:
    with pytest.raises(CloudflareError) as raised:
        respond(prompt(user("word " * 200), context_window=100))
    assert (raised.value.status, raised.value.code) == (400, 5006)
    assert "maximum context length is 100 tokens" in raised.value.message


def test_the_same_prompt_gets_the_same_turn() -> None:
    request = prompt(user('Call add with 4 and 5 for "Ann"'), tools=(ADD,))
    assert respond(request) == respond(request)
