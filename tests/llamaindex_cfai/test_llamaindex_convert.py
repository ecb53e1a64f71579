"""The pure conversions: LlamaIndex messages to Responses items, replies back to messages, and tool calls."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

from cfai.errors import EmptyAnswerWarning, InvalidToolArgumentsWarning
from cfai.wire import Reply, ToolCall, Usage, finish_reply, prune_reasoning, reply_from_json
from llamaindex_cfai.convert import (
    completion_from_chat,
    items_from_message,
    message_from_reply,
    reply_kwargs,
    reply_problems,
    response_from_reply,
    to_input_items,
    tool_kwargs_from_arguments,
    tool_selections_from_message,
    tool_spec,
    without_extra_tool_calls,
)


def user(text: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.USER, content=text)


def tool_turn(reasoning: str = "Need the weather.") -> ChatMessage:
    return ChatMessage(
        role=MessageRole.ASSISTANT,
        blocks=[
            ThinkingBlock(content=reasoning, num_tokens=5),
            ToolCallBlock(tool_call_id="call_1", tool_name="get_weather", tool_kwargs={"city": "Zürich"}),
            ToolCallBlock(tool_call_id="call_2", tool_name="get_time", tool_kwargs='{"city":"Zürich"}'),
        ],
    )


def tool_result(call_id: str, text: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.TOOL, content=text, additional_kwargs={"tool_call_id": call_id})


# Messages -> input items.


def test_leading_system_messages_become_instructions_and_later_ones_developer_items() -> None:
    messages = [
        ChatMessage(role=MessageRole.SYSTEM, content="Be concise."),
        ChatMessage(role=MessageRole.SYSTEM, content="Context: Paris is in France."),
        user("Where is Paris?"),
        ChatMessage(role=MessageRole.SYSTEM, content="Answer in French."),
        ChatMessage(role=MessageRole.DEVELOPER, content="No emojis."),
    ]

    instructions, items = to_input_items(messages)

    assert instructions == "Be concise.\n\nContext: Paris is in France."
    assert items == [
        {"role": "user", "content": "Where is Paris?"},
        {"role": "developer", "content": "Answer in French."},
        {"role": "developer", "content": "No emojis."},
    ]


def test_no_system_message_means_no_instructions() -> None:
    assert to_input_items([user("hi")]) == (None, [{"role": "user", "content": "hi"}])


def test_multi_part_user_content_becomes_input_parts() -> None:
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )
    message = ChatMessage(
        role=MessageRole.USER,
        blocks=[
            TextBlock(text="What is this?"),
            ImageBlock(image=png, image_mimetype="image/png"),
            ImageBlock(url="https://example.com/cat.png", detail="low"),
        ],
    )

    _, items = to_input_items([message])

    parts = items[0]["content"]
    assert parts[0] == {"type": "input_text", "text": "What is this?"}
    assert parts[1]["type"] == "input_image" and parts[1]["image_url"].startswith("data:image/png;base64,iVBOR")
    assert parts[2] == {"type": "input_image", "image_url": "https://example.com/cat.png", "detail": "low"}


def test_unsupported_blocks_are_a_clear_error() -> None:
    from llama_index.core.base.llms.types import AudioBlock

    message = ChatMessage(
        role=MessageRole.USER, blocks=[TextBlock(text="hear"), AudioBlock(audio=b"RIFF", format="wav")]
    )
    with pytest.raises(ValueError, match="AudioBlock is not supported"):
        to_input_items([message])


def test_pending_tool_turn_sends_its_reasoning_right_before_its_calls() -> None:
    history = [
        user("Weather and time in Zürich?"),
        tool_turn(),
        tool_result("call_1", "sunny"),
        tool_result("call_2", "noon"),
    ]

    _, items = to_input_items(history)

    assert items == [
        {"role": "user", "content": "Weather and time in Zürich?"},
        {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": "Need the weather."}]},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city":"Zürich"}'},
        {"type": "function_call", "call_id": "call_2", "name": "get_time", "arguments": '{"city":"Zürich"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
        {"type": "function_call_output", "call_id": "call_2", "output": "noon"},
    ]


def test_reasoning_of_completed_turns_is_dropped() -> None:
    history = [
        user("Weather?"),
        tool_turn(),
        tool_result("call_1", "sunny"),
        tool_result("call_2", "noon"),
        ChatMessage(
            role=MessageRole.ASSISTANT, blocks=[ThinkingBlock(content="Answer now."), TextBlock(text="Sunny.")]
        ),
        user("Thanks! And tomorrow?"),
    ]

    _, items = to_input_items(history)

    assert [item.get("type", item.get("role")) for item in items] == [
        "user",
        "function_call",
        "function_call",
        "function_call_output",
        "function_call_output",
        "message",
        "user",
    ]
    assert items[5] == {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Sunny."}]}


def test_a_long_history_converts_as_its_messages_do_one_by_one_then_pruned() -> None:
    # to_input_items skips reading reasoning that prune_reasoning would drop; the result must not show it.
    answer = ChatMessage(role=MessageRole.ASSISTANT, blocks=[ThinkingBlock(content="Say so."), TextBlock(text="Ok.")])
    history = [
        ChatMessage(role=MessageRole.SYSTEM, content="sys"),
        user("first"),
        tool_turn("old"),
        tool_result("call_1", "a"),
        tool_result("call_2", "b"),
        answer,
        ChatMessage(role=MessageRole.SYSTEM, content="later system"),
        user("second"),
        tool_turn("pending"),
        tool_result("call_1", "c"),
        answer,
        tool_turn("pending again"),
    ]

    _, items = to_input_items(history)

    assert items == prune_reasoning([item for message in history[1:] for item in items_from_message(message)])
    kept = [item["content"][0]["text"] for item in items if item.get("type") == "reasoning"]
    assert kept == ["pending", "Say so.", "pending again"]


def test_an_assistant_turn_goes_out_as_reasoning_text_then_calls_as_in_langchain() -> None:
    turn = tool_turn()
    with_text = turn.model_copy(update={"blocks": [TextBlock(text="Let me check."), *turn.blocks]})

    _, items = to_input_items([user("Weather?"), with_text, tool_result("call_1", "sunny")])

    assert [item.get("type") for item in items[1:]] == [
        "reasoning",
        "message",
        "function_call",
        "function_call",
        "function_call_output",
    ]


def test_conversion_does_not_mutate_the_messages() -> None:
    history = [
        ChatMessage(role=MessageRole.SYSTEM, content="sys"),
        user("Weather?"),
        tool_turn(),
        tool_result("call_1", "x"),
    ]
    before = copy.deepcopy([message.model_dump() for message in history])

    to_input_items(history)

    assert [message.model_dump() for message in history] == before


def test_tool_message_without_call_id_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="tool_call_id"):
        to_input_items([user("hi"), ChatMessage(role=MessageRole.TOOL, content="42")])


def test_tool_call_without_id_is_a_clear_error() -> None:
    turn = ChatMessage(role=MessageRole.ASSISTANT, blocks=[ToolCallBlock(tool_name="f", tool_kwargs={})])
    with pytest.raises(ValueError, match="no tool_call_id"):
        to_input_items([user("hi"), turn])


def test_legacy_openai_tool_calls_in_additional_kwargs_are_read() -> None:
    legacy = ChatMessage(
        role=MessageRole.ASSISTANT,
        content="",
        additional_kwargs={
            "tool_calls": [{"id": "call_9", "type": "function", "function": {"name": "add", "arguments": '{"a":1}'}}]
        },
    )

    _, items = to_input_items([user("add"), legacy, tool_result("call_9", "1")])

    assert items[1] == {"type": "function_call", "call_id": "call_9", "name": "add", "arguments": '{"a":1}'}


# Replies -> messages.


def test_text_reply_becomes_thinking_and_text_blocks(fixture: Any) -> None:
    reply = reply_from_json(fixture("responses-text.json"))

    message = message_from_reply(reply)

    assert message.role == MessageRole.ASSISTANT
    thinking, text = message.blocks
    assert isinstance(thinking, ThinkingBlock) and thinking.content == reply.reasoning and thinking.num_tokens == 23
    assert (
        isinstance(text, TextBlock)
        and message.content == "Open-source models offer transparency, customizability and no lock-in."
    )


def test_tool_call_reply_becomes_tool_call_blocks_with_their_ids(fixture: Any) -> None:
    message = message_from_reply(reply_from_json(fixture("responses-tool-call.json")))

    calls = [block for block in message.blocks if isinstance(block, ToolCallBlock)]
    assert calls == [
        ToolCallBlock(
            tool_call_id="call_c2fa810793ba4b79abd260a109f99413", tool_name="get_weather", tool_kwargs={"city": "Paris"}
        )
    ]
    assert message.content is None


def test_reply_round_trips_into_the_next_request(fixture: Any) -> None:
    """STYLE.md 9: reply -> message -> next request reproduces the reasoning and the call ids."""
    data = fixture("responses-tool-call.json")
    message = message_from_reply(reply_from_json(data))

    _, items = to_input_items(
        [user("Weather in Paris?"), message, tool_result("call_c2fa810793ba4b79abd260a109f99413", "sunny")]
    )

    reasoning_text = data["output"][0]["content"][0]["text"]
    assert items[1] == {
        "type": "reasoning",
        "summary": [],
        "content": [{"type": "reasoning_text", "text": reasoning_text}],
    }
    assert items[2] == {
        "type": "function_call",
        "call_id": "call_c2fa810793ba4b79abd260a109f99413",
        "name": "get_weather",
        "arguments": '{"city":"Paris"}',
    }
    assert "id" not in items[1] and "id" not in items[2]  # stateless servers reject server item ids


def test_reply_kwargs_carry_usage_finish_reason_and_cost(fixture: Any) -> None:
    # The cost is computed once, as the reply leaves the core.
    reply = finish_reply(reply_from_json(fixture("responses-text.json")), {"model": "@cf/openai/gpt-oss-120b"})

    kwargs = reply_kwargs(reply)

    assert kwargs["prompt_tokens"] == 79 and kwargs["completion_tokens"] == 214 and kwargs["total_tokens"] == 293
    assert kwargs["reasoning_tokens"] == 23 and kwargs["cached_tokens"] == 0
    assert kwargs["finish_reason"] == "stop" and kwargs["id"] == reply.id
    assert kwargs["cost_usd"] == pytest.approx((79 * 0.35 + 214 * 0.75) / 1e6)


def test_response_keeps_the_raw_reply(fixture: Any) -> None:
    data = fixture("responses-text.json")
    response = response_from_reply(reply_from_json(data))
    assert response.raw["usage"]["input_tokens"] == 79  # what LlamaIndex's TokenCountingHandler reads


def test_reasoning_only_reply_is_reported_as_a_problem(fixture: Any) -> None:
    reply = reply_from_json(fixture("responses-incomplete-reasoning-only.json"))

    problems = reply_problems(reply)

    assert reply_kwargs(reply)["finish_reason"] == "length"
    [(problem, category)] = problems
    assert "no answer" in problem and "max_tokens" in problem and category is EmptyAnswerWarning


def test_invalid_tool_arguments_are_kept_as_text_and_reported() -> None:
    reply = Reply(id="r", model="m", status="completed", tool_calls=(ToolCall("call_1", "f", '{"a": 1'),))

    message = message_from_reply(reply)

    assert message.blocks[0].tool_kwargs == '{"a": 1'
    [(problem, category)] = reply_problems(reply)
    assert "not a JSON object" in problem and category is InvalidToolArgumentsWarning


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [("", {}), ('{"a": 1}', {"a": 1}), ("[1, 2]", "[1, 2]"), ("not json", "not json")],
)
def test_tool_kwargs_from_arguments(arguments: str, expected: Any) -> None:
    assert tool_kwargs_from_arguments(arguments) == expected


# Tool calls for LlamaIndex.


@pytest.mark.parametrize(
    ("tool_kwargs", "expected"),
    [
        ({"city": "Paris"}, {"city": "Paris"}),
        ('{"city": "Paris"}', {"city": "Paris"}),
        ('{"city": "Paris", "un', {"city": "Paris"}),  # still streaming: the fields complete so far
        ("garbage", {}),  # documented fallback: the tool then reports its own validation error
        ("[1]", {}),
    ],
)
def test_tool_selections_keep_call_ids_and_fall_back_to_empty_arguments(
    tool_kwargs: Any, expected: dict[str, Any]
) -> None:
    message = ChatMessage(
        role=MessageRole.ASSISTANT,
        blocks=[ToolCallBlock(tool_call_id="call_7", tool_name="get_weather", tool_kwargs=tool_kwargs)],
    )

    (selection,) = tool_selections_from_message(message)

    assert (selection.tool_id, selection.tool_name, selection.tool_kwargs) == ("call_7", "get_weather", expected)


def test_without_extra_tool_calls_keeps_the_first_and_leaves_the_input_alone() -> None:
    turn = tool_turn()

    single = without_extra_tool_calls(turn)

    assert [block.tool_call_id for block in single.blocks if isinstance(block, ToolCallBlock)] == ["call_1"]
    assert len(turn.blocks) == 3


class Address(BaseModel):
    city: str


class ShipArguments(BaseModel):
    to: Address
    express: bool = False


def test_tool_spec_is_a_flat_responses_tool_with_refs_inlined() -> None:
    def ship(to: dict[str, str], express: bool = False) -> str:
        """Ship a parcel."""
        return "ok"

    spec = tool_spec(FunctionTool.from_defaults(ship, fn_schema=ShipArguments), strict=True)

    assert spec["type"] == "function" and spec["name"] == "ship" and spec["strict"] is True
    assert "Ship a parcel." in spec["description"]
    assert spec["parameters"]["properties"]["to"]["properties"] == {"city": {"title": "City", "type": "string"}}
    assert "$defs" not in spec["parameters"]


def test_completion_from_chat_puts_thinking_in_additional_kwargs() -> None:
    message = ChatMessage(role=MessageRole.ASSISTANT, blocks=[ThinkingBlock(content="hmm"), TextBlock(text="42")])
    chat = ChatResponse(message=message, additional_kwargs={"total_tokens": 3}, delta="42", raw={"id": "r"})

    completion = completion_from_chat(chat)

    assert (completion.text, completion.delta, completion.raw) == ("42", "42", {"id": "r"})
    assert completion.additional_kwargs == {"total_tokens": 3, "thinking": "hmm"}
    assert chat.additional_kwargs == {"total_tokens": 3}


def test_usage_without_reasoning_tokens_leaves_num_tokens_unset() -> None:
    reply = Reply(id="r", model="m", status="completed", text="a", reasoning="b", usage=Usage(1, 2, 3))
    assert message_from_reply(reply).blocks[0].num_tokens is None
