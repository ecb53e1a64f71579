"""Reading replies leniently: the fixtures, the /ai/run envelope, usage in both dialects, leaked tool-call salvage."""

from __future__ import annotations

import dataclasses
import json

import httpx
import pytest

from cfai.errors import ResponseFailedError, ResponseFormatError
from cfai.wire import (
    ReplyDone,
    TextDelta,
    ToolCall,
    ToolCallArgumentsDelta,
    ToolCallStarted,
    Usage,
    finish_reply,
    missing_answer,
    reply_from_bytes,
    reply_from_json,
    usage_from_json,
)
from cfai.wire.types import Reply


def test_text_reply(fixtures):
    reply = reply_from_json(fixtures.json("responses-text.json"))
    assert reply == Reply(
        id="resp_7f3c1e9a2b6d4c0f8e5a1b2c3d4e5f60",
        model="@cf/openai/gpt-oss-120b",
        status="completed",
        text="Open-source models offer transparency, customizability and no lock-in.",
        reasoning="The user asks about the benefits of open-source models. Provide a concise list.",
        usage=Usage(input_tokens=79, output_tokens=214, total_tokens=293, cached_tokens=0, reasoning_tokens=23),
        created_at=1754400000,
        reasoning_kind="raw",
    )
    assert reply.finish_reason == "stop"
    assert missing_answer(reply) is None
    assert reply.raw == fixtures.json("responses-text.json")


def test_tool_call_reply(fixtures):
    reply = reply_from_json(fixtures.json("responses-tool-call.json"))
    assert reply.text == ""
    assert reply.tool_calls == (
        ToolCall(
            call_id="call_c2fa810793ba4b79abd260a109f99413",
            name="get_weather",
            arguments='{"city":"Paris"}',
            id="fc_c2fa810793ba4b79abd260a109f99413",
        ),
    )
    assert reply.finish_reason == "tool_calls"


def test_reasoning_only_reply_is_not_a_successful_empty_answer(fixtures):
    reply = reply_from_json(fixtures.json("responses-incomplete-reasoning-only.json"))
    assert reply.status == "incomplete"
    assert reply.incomplete_reason == "max_output_tokens"
    assert reply.finish_reason == "length"
    assert "on reasoning and returned no answer" in missing_answer(reply)
    assert reply.text == ""
    assert reply.reasoning.startswith("The user wants a long essay.")
    assert reply.usage == Usage(435, 256, 691, 0, 256)


def test_run_envelope_gives_the_same_reply(fixtures):
    assert reply_from_json(fixtures.json("run-envelope-text.json")) == reply_from_json(
        fixtures.json("responses-text.json")
    )
    assert reply_from_bytes(fixtures.bytes("run-envelope-text.json")).text.startswith("Open-source")


def test_content_filter_finish_reason():
    reply = reply_from_json({"status": "incomplete", "incomplete_details": {"reason": "content_filter"}, "output": []})
    assert reply.finish_reason == "content_filter"


def test_lenient_reading():
    data = {
        "id": "resp_x",
        "status": "some_new_status",
        "created_at": "not a number",
        "output": [
            "not an item",
            {"type": "web_search_call", "id": "ws_1"},
            {"type": "reasoning", "content": [{"type": "reasoning_text", "text": "first"}]},
            {"type": "reasoning", "content": [], "summary": [{"type": "summary_text", "text": "a summary"}]},
            {"type": "message", "role": "assistant", "content": None},
            {"type": "message", "role": "assistant", "content": "plain string content. "},
            {
                "type": "message",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": "Part two."},
                    {"type": "refusal", "refusal": "I can't help with that."},
                    {"type": "future_part", "text": "ignored"},
                ],
            },
            {"type": "function_call", "id": "fc_9", "name": "f", "arguments": {"k": "ü"}},
        ],
    }
    reply = reply_from_json(data)
    assert reply.status == "completed"
    assert reply.created_at is None
    assert reply.model == ""
    assert reply.reasoning == "first\n\na summary"
    assert reply.text == "plain string content. Part two."
    assert reply.refusal == "I can't help with that."
    assert reply.tool_calls == (ToolCall(call_id="fc_9", name="f", arguments='{"k": "ü"}', id="fc_9"),)
    assert reply.usage is None


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (
            {
                "input_tokens": 10,
                "output_tokens": 5,
                "total_tokens": 15,
                "input_tokens_details": {"cached_tokens": 4},
                "output_tokens_details": {"reasoning_tokens": 3},
            },
            Usage(10, 5, 15, 4, 3),
        ),
        (
            {
                "prompt_tokens": 61,
                "completion_tokens": 18,
                "prompt_tokens_details": {"cached_tokens": 2},
                "completion_tokens_details": {"reasoning_tokens": 9},
                "neurons": 12.75,
            },
            Usage(61, 18, 79, 2, 9),
        ),
        ({"prompt_tokens": 3.0, "completion_tokens": True, "total_tokens": None}, Usage(3, 0, 3)),
        ({"input_tokens_details": None, "output_tokens_details": "n/a"}, Usage()),
    ],
)
def test_usage_in_both_dialects(usage, expected):
    assert usage_from_json(usage) == expected


def test_usage_absent():
    assert usage_from_json(None) is None
    assert usage_from_json([1, 2]) is None


def test_reply_from_bytes_errors():
    with pytest.raises(ResponseFormatError, match="not valid JSON"):
        reply_from_bytes(b'{"id": "resp_1", "output": [{"type": "mess')
    with pytest.raises(ResponseFormatError, match="Expected a Responses object"):
        reply_from_bytes(b'{"result": {"response": "a /ai/run text reply"}}')
    with pytest.raises(ResponseFailedError):
        reply_from_bytes(b'{"status": "failed", "output": []}')


# Salvage of forced tool calls that came back as answer text (docs/wire.md, quirk 2).

TOOLS = [{"type": "function", "name": "get_weather"}, {"type": "function", "name": "get_time"}]
LEAKED = '{"name": "get_weather", "arguments": {"city": "Paris"}}'


def leaked(text: str = LEAKED) -> Reply:
    return Reply(id="resp_l", model="m", status="completed", text=text, reasoning="thinking")


@pytest.mark.parametrize(
    ("tool_choice", "text", "expected"),
    [
        ({"type": "function", "name": "get_weather"}, LEAKED, ("get_weather", '{"city": "Paris"}')),
        ("required", LEAKED, ("get_weather", '{"city": "Paris"}')),
        ("required", '{"name": "get_time", "parameters": {"tz": "UTC"}}', ("get_time", '{"tz": "UTC"}')),
        # The one forced tool is meant even when the model left its name out.
        (
            {"type": "function", "name": "get_weather"},
            '{"arguments": "{\\"city\\": \\"Oslo\\"}"}',
            ("get_weather", '{"city": "Oslo"}'),
        ),
    ],
)
def test_salvage_recovers_forced_tool_calls(tool_choice, text, expected):
    reply = finish_reply(leaked(text), {"tools": TOOLS, "tool_choice": tool_choice})
    assert reply.text == ""
    assert reply.reasoning == "thinking"
    assert [(call.name, call.arguments) for call in reply.tool_calls] == [expected]
    assert reply.tool_calls[0].call_id == "call_resp_l_0"
    assert reply.finish_reason == "tool_calls"


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"tools": TOOLS, "tool_choice": "auto"}, LEAKED),  # not forced
        ({"tools": TOOLS}, LEAKED),
        ({"tool_choice": "required"}, LEAKED),  # no tools at all
        ({"tools": TOOLS, "tool_choice": "required"}, "It is sunny in Paris."),  # not JSON
        ({"tools": TOOLS, "tool_choice": "required"}, '["get_weather"]'),  # not an object
        ({"tools": TOOLS, "tool_choice": "required"}, '{"name": "get_stock", "arguments": {}}'),  # not a bound tool
        ({"tools": TOOLS, "tool_choice": {"type": "function", "name": "get_weather"}}, '{"name": "get_weather"}'),
        (
            {"tools": TOOLS, "tool_choice": {"type": "function", "name": "get_weather"}},
            '{"name": "get_weather", "arguments": 42}',
        ),
        ({"tools": TOOLS, "tool_choice": {"type": "function", "name": "unbound"}}, LEAKED),
    ],
)
def test_salvage_leaves_everything_else_alone(body, text):
    reply = leaked(text)
    assert finish_reply(reply, body) is reply


def test_salvage_never_touches_a_reply_with_real_tool_calls():
    reply = Reply(id="r", model="m", status="completed", text=LEAKED, tool_calls=(ToolCall("c", "get_time", "{}"),))
    assert finish_reply(reply, {"tools": TOOLS, "tool_choice": "required"}) is reply


def test_salvage_through_the_client(call, script, fixtures, body):
    response = fixtures.json("responses-text.json")
    response["output"][1]["content"][0]["text"] = LEAKED
    forced = {**body, "tools": TOOLS, "tool_choice": {"type": "function", "name": "get_weather"}}
    server = script(httpx.Response(200, json=response), httpx.Response(200, json=response))
    client = call(server)

    reply = client.create(forced)
    events = client.stream(forced, mode="buffered")

    assert reply.tool_calls[0].name == "get_weather"
    assert json.loads(reply.tool_calls[0].arguments) == {"city": "Paris"}
    assert [type(event) for event in events][-3:] == [ToolCallStarted, ToolCallArgumentsDelta, ReplyDone]
    assert not [event for event in events if isinstance(event, TextDelta)]
    assert events[-1].reply == reply


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(id="r", model="m", status="completed", text="Hi"), None),
        (Reply(id="r", model="m", status="completed", tool_calls=(ToolCall("c", "f", "{}"),)), None),
        (Reply(id="r", model="m", status="completed", reasoning="thinking"), "empty answer"),
        (
            Reply(id="r", model="m", status="incomplete", reasoning="thinking", usage=Usage(output_tokens=64)),
            "spent all 64 output tokens on reasoning",
        ),
    ],
)
def test_missing_answer_says_why_a_reply_has_none(reply, expected):
    problem = missing_answer(reply, max_output_tokens=64)
    if expected is None:
        assert problem is None
    else:
        assert expected in problem
        assert ("max_tokens=64" in problem) == (reply.status == "incomplete")


def test_pricing_changes_only_the_cost() -> None:
    usage = Usage(input_tokens=1_000, output_tokens=2_000, total_tokens=3_000, cached_tokens=10, reasoning_tokens=20)
    call = ToolCall(call_id="call_1", name="get_weather", arguments="{}", id="fc_1")
    reply = Reply(
        *("resp_1", "@cf/openai/gpt-oss-20b", "incomplete", "text", "thought", (call,), "no", usage, "length", 7),
        reasoning_kind="summary",
        raw={"id": "resp_1"},
    )
    priced = finish_reply(reply, {"model": "@cf/openai/gpt-oss-120b"})
    assert priced.cost_usd == pytest.approx((1_000 * 0.20 + 2_000 * 0.30) / 1e6)  # the model that answered
    assert [getattr(priced, field.name) for field in dataclasses.fields(Reply) if field.name != "cost_usd"] == [
        getattr(reply, field.name) for field in dataclasses.fields(Reply) if field.name != "cost_usd"
    ]
    assert priced.raw is reply.raw
