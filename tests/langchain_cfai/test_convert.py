"""The pure conversions: LangChain messages to Responses input, and replies/stream events back to messages."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from cfai.wire import (
    ReasoningDelta,
    Reply,
    ReplyDone,
    TextDelta,
    ToolCall,
    ToolCallArgumentsDelta,
    ToolCallStarted,
    Usage,
    finish_reply,
    replay,
)
from langchain_cfai.convert import chunk_from_event, message_from_reply, to_responses_input

USER = {"role": "user", "content": "What's the weather in Paris?"}
CALL = {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city":"Paris"}'}
OUTPUT = {"type": "function_call_output", "call_id": "call_1", "output": "Sunny, 21 °C"}
THOUGHT = {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": "Call get_weather."}]}


def tool_turn(**extra: Any) -> AIMessage:
    return AIMessage(
        content=extra.pop("content", ""),
        tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}],
        additional_kwargs={"reasoning_content": "Call get_weather."},
        **extra,
    )


@pytest.mark.parametrize(
    ("messages", "instructions", "items"),
    [
        pytest.param([HumanMessage("Hi")], None, [{"role": "user", "content": "Hi"}], id="user-text"),
        pytest.param(
            [SystemMessage("Be brief."), SystemMessage("Use metric."), HumanMessage("Hi")],
            "Be brief.\n\nUse metric.",
            [{"role": "user", "content": "Hi"}],
            id="leading-systems-are-instructions",
        ),
        pytest.param(
            [HumanMessage("Hi"), SystemMessage("Now answer in French.")],
            None,
            [{"role": "user", "content": "Hi"}, {"role": "developer", "content": "Now answer in French."}],
            id="later-system-is-developer",
        ),
        pytest.param(
            [ChatMessage(role="developer", content="Terse."), HumanMessage("Hi")],
            None,
            [{"role": "developer", "content": "Terse."}, {"role": "user", "content": "Hi"}],
            id="developer-role",
        ),
        pytest.param(
            [HumanMessage([{"type": "text", "text": "Part one."}, {"type": "text", "text": "Part two."}])],
            None,
            [
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "Part one."},
                        {"type": "input_text", "text": "Part two."},
                    ],
                }
            ],
            id="multi-part-text",
        ),
        pytest.param(
            [HumanMessage([{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}])],
            None,
            [{"role": "user", "content": [{"type": "input_image", "image_url": "https://example.com/cat.png"}]}],
            id="image-url-part",
        ),
        pytest.param(
            [HumanMessage([{"type": "image", "base64": "iVBOR", "mime_type": "image/png"}])],
            None,
            [{"role": "user", "content": [{"type": "input_image", "image_url": "data:image/png;base64,iVBOR"}]}],
            id="image-base64-part",
        ),
        pytest.param(
            [HumanMessage("Hello", name="example_user")], None, [{"role": "user", "content": "Hello"}], id="named"
        ),
        pytest.param(
            [HumanMessage([{"type": "input_text", "text": "Already Responses-shaped."}])],
            None,
            [{"role": "user", "content": [{"type": "input_text", "text": "Already Responses-shaped."}]}],
            id="native-part-passes-through",
        ),
        pytest.param(
            [HumanMessage("hello"), AIMessage("hello"), HumanMessage("how are you")],
            None,
            [
                {"role": "user", "content": "hello"},
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "hello"}]},
                {"role": "user", "content": "how are you"},
            ],
            id="assistant-text",
        ),
        pytest.param(
            [
                HumanMessage("What's the weather in Paris?"),
                tool_turn(),
                ToolMessage("Sunny, 21 °C", tool_call_id="call_1"),
            ],
            None,
            [USER, THOUGHT, CALL, OUTPUT],
            id="pending-tool-turn-keeps-reasoning",
        ),
        pytest.param(
            [
                HumanMessage("What's the weather in Paris?"),
                tool_turn(),
                ToolMessage("Sunny, 21 °C", tool_call_id="call_1"),
                AIMessage("Sunny.", additional_kwargs={"reasoning_content": "Report it."}),
                HumanMessage("Thanks"),
            ],
            None,
            [
                USER,
                CALL,
                OUTPUT,
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Sunny."}]},
                {"role": "user", "content": "Thanks"},
            ],
            id="completed-turns-drop-reasoning",
        ),
        pytest.param(
            [
                HumanMessage("What's the weather in Paris?"),
                tool_turn(),
                ToolMessage("Sunny, 21 °C", tool_call_id="call_1"),
                HumanMessage("And now?"),
                tool_turn(),
                ToolMessage("Sunny, 21 °C", tool_call_id="call_1"),
            ],
            None,
            [USER, CALL, OUTPUT, {"role": "user", "content": "And now?"}, THOUGHT, CALL, OUTPUT],
            id="only-the-turn-after-the-last-user-message-keeps-reasoning",
        ),
        pytest.param(
            [
                HumanMessage("What's the weather in Paris?"),
                tool_turn(content="Let me check."),
                ToolMessage("Sunny, 21 °C", tool_call_id="call_1"),
            ],
            None,
            [
                USER,
                THOUGHT,
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Let me check."}]},
                CALL,
                OUTPUT,
            ],
            id="reasoning-text-and-calls-keep-the-reply-order",
        ),
        pytest.param(
            [
                HumanMessage("What's the weather in Paris?"),
                AIMessage(
                    content=[{"type": "reasoning", "reasoning": "Call get_weather."}],
                    tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}],
                    response_metadata={"output_version": "v1"},
                ),
                ToolMessage("Sunny, 21 °C", tool_call_id="call_1"),
            ],
            None,
            [USER, THOUGHT, CALL, OUTPUT],
            id="v1-reasoning-block",
        ),
        pytest.param(
            [
                HumanMessage("Add"),
                AIMessage(
                    [
                        {"type": "text", "text": "some text"},
                        {"type": "tool_use", "id": "abc", "name": "add", "input": {"a": 1}},
                    ],
                    tool_calls=[{"name": "add", "args": {"a": 1}, "id": "abc"}],
                ),
                ToolMessage([{"type": "text", "text": "3"}], tool_call_id="abc", status="error"),
            ],
            None,
            [
                {"role": "user", "content": "Add"},
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "some text"}]},
                {"type": "function_call", "call_id": "abc", "name": "add", "arguments": '{"a":1}'},
                {"type": "function_call_output", "call_id": "abc", "output": "3"},
            ],
            id="anthropic-style-list-content",
        ),
        pytest.param(
            [
                HumanMessage("Create 你好啊集团"),
                AIMessage("", tool_calls=[{"name": "make", "args": {"name": "你好啊集团"}, "id": "c9"}]),
            ],
            None,
            [
                {"role": "user", "content": "Create 你好啊集团"},
                {"type": "function_call", "call_id": "c9", "name": "make", "arguments": '{"name":"你好啊集团"}'},
            ],
            id="unicode-kept",
        ),
        pytest.param(
            [
                HumanMessage("Go"),
                AIMessage("", invalid_tool_calls=[{"name": "f", "args": "{oops", "id": "c2", "error": "bad"}]),
                ToolMessage("Error: bad arguments", tool_call_id="c2", status="error"),
            ],
            None,
            [
                {"role": "user", "content": "Go"},
                {"type": "function_call", "call_id": "c2", "name": "f", "arguments": "{oops"},
                {"type": "function_call_output", "call_id": "c2", "output": "Error: bad arguments"},
            ],
            id="invalid-call-still-paired",
        ),
    ],
)
def test_to_responses_input(messages: list[Any], instructions: str | None, items: list[dict[str, Any]]) -> None:
    before = copy.deepcopy(messages)
    assert to_responses_input(messages) == (instructions, items)
    assert messages == before


def test_content_that_gpt_oss_cannot_take_is_refused_clearly() -> None:
    audio = HumanMessage([{"type": "audio", "base64": "AAAA", "mime_type": "audio/wav"}])
    with pytest.raises(ValueError, match="text and image parts only"):
        to_responses_input([audio])


REPLY = Reply(
    id="resp_1",
    model="@cf/openai/gpt-oss-120b",
    status="completed",
    text="Sunny.",
    reasoning="Think.",
    usage=Usage(input_tokens=100, output_tokens=40, total_tokens=140, cached_tokens=64, reasoning_tokens=12),
)


def test_message_from_reply_maps_text_reasoning_usage_and_metadata() -> None:
    # The cost is computed once, as the reply leaves the core.
    message = message_from_reply(
        finish_reply(REPLY, {"model": "@cf/openai/gpt-oss-120b"}), model="@cf/openai/gpt-oss-120b"
    )
    assert message.content == "Sunny."
    assert message.additional_kwargs == {"reasoning_content": "Think."}
    assert message.content_blocks == [{"type": "reasoning", "reasoning": "Think."}, {"type": "text", "text": "Sunny."}]
    assert message.usage_metadata == {
        "input_tokens": 100,
        "output_tokens": 40,
        "total_tokens": 140,
        "input_token_details": {"cache_read": 64},
        "output_token_details": {"reasoning": 12},
    }
    assert message.response_metadata == {
        "id": "resp_1",
        "model_name": "@cf/openai/gpt-oss-120b",
        "model_provider": "cloudflare",
        "finish_reason": "stop",
        "status": "completed",
        "cost_usd": pytest.approx((100 * 0.35 + 40 * 0.75) / 1e6),
    }
    assert message.id == "resp_1"


def test_tool_calls_valid_and_invalid() -> None:
    reply = Reply(
        id="r",
        model="m",
        status="completed",
        tool_calls=(
            ToolCall("call_a", "get_weather", '{"city":"Paris"}', id="fc_a"),
            ToolCall("call_b", "noargs", ""),
            ToolCall("call_c", "broken", '{"city":'),
            ToolCall("call_d", "listy", "[1, 2]"),
        ),
    )
    message = message_from_reply(reply, model="m")
    assert message.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_a", "type": "tool_call"},
        {"name": "noargs", "args": {}, "id": "call_b", "type": "tool_call"},
    ]
    assert [(call["id"], call["args"]) for call in message.invalid_tool_calls] == [
        ("call_c", '{"city":'),
        ("call_d", "[1, 2]"),
    ]
    assert message.response_metadata["finish_reason"] == "tool_calls"


def test_incomplete_reply_reports_length() -> None:
    reply = Reply(id="r", model="m", status="incomplete", reasoning="...", incomplete_reason="max_output_tokens")
    metadata = message_from_reply(reply, model="m").response_metadata
    assert (metadata["finish_reason"], metadata["incomplete_reason"]) == ("length", "max_output_tokens")


def test_unknown_model_has_no_cost_and_keeps_requested_name() -> None:
    reply = Reply(id="r", model="", status="completed", text="x", usage=Usage(1, 1, 2))
    metadata = message_from_reply(reply, model="@cf/some/other-model").response_metadata
    assert metadata["model_name"] == "@cf/some/other-model"
    assert "cost_usd" not in metadata


def test_chunks_per_event() -> None:
    model = "@cf/openai/gpt-oss-120b"
    assert chunk_from_event(TextDelta("Hi", 1), model=model).content == "Hi"
    assert chunk_from_event(ReasoningDelta("Hm", 0), model=model).additional_kwargs == {"reasoning_content": "Hm"}
    started = chunk_from_event(ToolCallStarted("call_1", "f", 2, id="fc_1"), model=model)
    assert started.tool_call_chunks == [
        {"name": "f", "args": "", "id": "call_1", "index": 2, "type": "tool_call_chunk"}
    ]
    delta = chunk_from_event(ToolCallArgumentsDelta('{"a":', 2), model=model)
    assert delta.tool_call_chunks == [
        {"name": None, "args": '{"a":', "id": None, "index": 2, "type": "tool_call_chunk"}
    ]
    last = chunk_from_event(ReplyDone(REPLY), model=model)
    assert last.chunk_position == "last"
    assert last.usage_metadata == message_from_reply(REPLY, model=model).usage_metadata
    assert last.response_metadata == message_from_reply(REPLY, model=model).response_metadata


@pytest.mark.parametrize(
    "reply",
    [
        REPLY,
        Reply(
            id="r2",
            model="@cf/openai/gpt-oss-20b",
            status="completed",
            reasoning="Need two calls.",
            tool_calls=(ToolCall("c1", "a", '{"x":1}'), ToolCall("c2", "b", '{"y":"ü"}')),
            usage=Usage(10, 5, 15, 0, 3),
        ),
    ],
    ids=["text", "tool-calls"],
)
def test_summed_chunks_equal_the_message(reply: Reply) -> None:
    chunks = [chunk_from_event(event, model=reply.model) for event in replay(reply)]
    summed = sum(chunks[1:], chunks[0])
    assert isinstance(summed, AIMessageChunk)
    message = message_from_reply(reply, model=reply.model)
    assert summed.content == message.content
    assert summed.additional_kwargs == message.additional_kwargs
    assert summed.tool_calls == message.tool_calls
    assert summed.usage_metadata == message.usage_metadata
    assert summed.response_metadata == message.response_metadata
