"""Folding stream events into ChatResponse chunks: deltas, thinking deltas, partial tool calls, usage once, last."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.base.llms.types import TextBlock, ThinkingBlock, ToolCallBlock

from cfai.wire import (
    ReasoningDelta,
    Reply,
    ReplyDone,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallArgumentsDelta,
    ToolCallStarted,
    Usage,
    replay,
    reply_from_json,
)
from llamaindex_cfai.convert import response_from_reply, tool_selections_from_message
from llamaindex_cfai.stream import ChunkFolder

USAGE_KEYS = {"prompt_tokens", "completion_tokens", "total_tokens", "reasoning_tokens", "cached_tokens"}


def fold(events: list[StreamEvent]) -> list[Any]:
    chat_stream = ChunkFolder(model="@cf/openai/gpt-oss-120b")
    return [chat_stream.chunk_from_event(event) for event in events]


def test_text_and_reasoning_deltas_and_a_final_chunk_equal_to_chat() -> None:
    reply = Reply(
        id="resp_1",
        model="@cf/openai/gpt-oss-120b",
        status="completed",
        text="Hello there",
        reasoning="Thinking hard.",
        usage=Usage(10, 20, 30, 0, 4),
    )
    events: list[StreamEvent] = [
        ReasoningDelta("Thinking ", 0),
        ReasoningDelta("hard.", 0),
        TextDelta("Hello", 1),
        TextDelta(" there", 1),
        ReplyDone(reply),
    ]

    chunks = fold(events)

    assert [chunk.additional_kwargs.get("thinking_delta") for chunk in chunks] == [
        "Thinking ",
        "hard.",
        None,
        None,
        None,
    ]
    assert [chunk.delta for chunk in chunks] == ["", "", "Hello", " there", ""]
    assert [chunk.message.content for chunk in chunks[2:]] == ["Hello", "Hello there", "Hello there"]
    assert chunks[1].message.blocks == [ThinkingBlock(content="Thinking hard.")]
    assert chunks[-1].message == response_from_reply(reply).message
    assert chunks[-1].message.blocks[0].num_tokens == 4
    assert chunks[-1].raw is reply.raw


def test_usage_appears_only_on_the_last_chunk() -> None:
    reply = Reply(id="r", model="m", status="completed", text="ok", reasoning="r", usage=Usage(1, 2, 3))

    chunks = fold(replay(reply))

    assert [bool(USAGE_KEYS & chunk.additional_kwargs.keys()) for chunk in chunks] == [False, False, True]
    assert chunks[-1].additional_kwargs["total_tokens"] == 3


def test_tool_call_arguments_stream_in_and_the_last_chunk_has_the_whole_call() -> None:
    reply = Reply(
        id="r",
        model="m",
        status="completed",
        reasoning="Call it.",
        tool_calls=(ToolCall("call_1", "get_weather", '{"city":"Paris","unit":"c"}'),),
        usage=Usage(5, 6, 11),
    )
    events: list[StreamEvent] = [
        ReasoningDelta("Call it.", 0),
        ToolCallStarted("call_1", "get_weather", 1),
        ToolCallArgumentsDelta('{"city":"Paris",', 1),
        ToolCallArgumentsDelta('"unit":"c"}', 1),
        ReplyDone(reply),
    ]

    chunks = fold(events)

    partial = [tool_selections_from_message(chunk.message) for chunk in chunks]
    assert partial[1][0].tool_kwargs == {} and partial[1][0].tool_id == "call_1"
    assert partial[2][0].tool_kwargs == {"city": "Paris"}
    assert partial[3][0].tool_kwargs == {"city": "Paris", "unit": "c"}
    assert chunks[-1].message.blocks == [
        ThinkingBlock(content="Call it."),
        ToolCallBlock(tool_call_id="call_1", tool_name="get_weather", tool_kwargs={"city": "Paris", "unit": "c"}),
    ]
    assert chunks[-1].additional_kwargs["finish_reason"] == "tool_calls"


@pytest.mark.parametrize(
    "name", ["responses-text.json", "responses-tool-call.json", "responses-incomplete-reasoning-only.json"]
)
def test_a_replayed_reply_ends_in_the_message_chat_returns(fixture: Any, name: str) -> None:
    reply = reply_from_json(fixture(name))

    chunks = fold(replay(reply))

    expected = response_from_reply(reply)
    assert chunks[-1].message == expected.message
    assert chunks[-1].additional_kwargs == expected.additional_kwargs
    assert "".join(chunk.delta for chunk in chunks) == reply.text
    assert all(isinstance(block, (ThinkingBlock, TextBlock, ToolCallBlock)) for block in chunks[-1].message.blocks)
