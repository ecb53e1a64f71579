"""One reply, every way it can travel: each stream mode and server dialect folds to what a non-streamed call returns.

The parametrised matrix is {buffered, responses, chat_completions} x {text, refusal, leaked forced call,
reasoning-only/incomplete, parallel calls, the gpt-oss reference server's dialect, LiteLLM's dialect}, run sync and
async through the core clients. The deltas the caller sees must add up to the final reply, with nothing said twice.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from support.dialects import Call, Canned, Dialect, chat_sse, responses_json, responses_sse

from cfai.wire import (
    ReasoningDelta,
    RefusalDelta,
    Reply,
    ReplyDone,
    StreamEvent,
    TextDelta,
    ToolCallArgumentsDelta,
    ToolCallStarted,
)

WEATHER = {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}
TIME = {"type": "function", "name": "get_time", "parameters": {"type": "object", "properties": {}}}
PLAIN = {"model": "@cf/openai/gpt-oss-120b", "input": "What's the weather in Paris and the time in Tokyo?"}
WITH_TOOLS = {**PLAIN, "tools": [WEATHER, TIME]}
FORCED = {**WITH_TOOLS, "tool_choice": {"type": "function", "name": "get_weather"}}
THINKING = "The user wants the weather. I should check before answering, and keep it short."
PARALLEL = (Call("call_a", "get_weather", '{"city": "Paris"}'), Call("call_b", "get_time", '{"city": "Tokyo"}'))

SCENARIOS: dict[str, tuple[Canned, Dialect, dict[str, Any]]] = {
    "text": (Canned(reasoning=THINKING, text="It is sunny in Paris, 21 °C."), "openai", PLAIN),
    "refusal": (Canned(reasoning=THINKING, refusal="I can't help with that request."), "openai", PLAIN),
    "leaked forced call": (
        Canned(reasoning=THINKING, text='{"name": "get_weather", "arguments": {"city": "Paris"}}'),
        "openai",
        FORCED,
    ),
    "reasoning only, incomplete": (
        Canned(reasoning=THINKING, status="incomplete", incomplete_reason="max_output_tokens"),
        "openai",
        PLAIN,
    ),
    "parallel calls": (Canned(reasoning=THINKING, calls=PARALLEL), "openai", WITH_TOOLS),
    "gpt-oss reference, text": (Canned(reasoning=THINKING, text="The answer is 4."), "gpt-oss-reference", PLAIN),
    "gpt-oss reference, tool call": (Canned(reasoning=THINKING, calls=PARALLEL[:1]), "gpt-oss-reference", WITH_TOOLS),
    "litellm, text": (Canned(reasoning=THINKING, text="The answer is 4."), "litellm", PLAIN),
    "litellm, tool calls": (Canned(reasoning=THINKING, calls=PARALLEL), "litellm", WITH_TOOLS),
}
MODES = ("buffered", "responses", "chat_completions")


def server_for(canned: Canned, dialect: Dialect, mode: str) -> httpx.Response:
    if mode == "buffered":
        return httpx.Response(200, json=responses_json(canned, dialect))
    content = chat_sse(canned) if mode == "chat_completions" else responses_sse(canned, dialect)
    return httpx.Response(200, content=content, headers={"content-type": "text/event-stream"})


def fold(reply: Reply) -> tuple[Any, ...]:
    """What a reply means, apart from the ids each dialect numbers its own way."""
    calls = [(call.call_id, call.name, json.loads(call.arguments)) for call in reply.tool_calls]
    usage = reply.usage
    return (
        reply.text,
        reply.reasoning,
        reply.refusal,
        calls,
        usage,
        reply.status,
        reply.finish_reason,
        reply.incomplete_reason,
        reply.reasoning_kind,
        reply.id,
    )


def said(events: list[StreamEvent]) -> tuple[Any, ...]:
    """What the deltas told the caller, folded the way a framework folds chunks."""
    text = "".join(event.delta for event in events if isinstance(event, TextDelta))
    refusal = "".join(event.delta for event in events if isinstance(event, RefusalDelta))
    reasoning: dict[int, str] = {}
    calls: dict[int, list[str]] = {}
    for event in events:
        if isinstance(event, ReasoningDelta):
            reasoning[event.index] = reasoning.get(event.index, "") + event.delta
        elif isinstance(event, ToolCallStarted):
            calls[event.index] = [event.call_id, event.name, ""]
        elif isinstance(event, ToolCallArgumentsDelta):
            calls[event.index][2] += event.delta
    folded_calls = [(call_id, name, json.loads(arguments)) for call_id, name, arguments in calls.values()]
    return text, "\n\n".join(reasoning.values()), refusal, folded_calls


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_mode_folds_to_the_non_streamed_reply(call, script, scenario, mode):
    canned, dialect, body = SCENARIOS[scenario]
    server = script(server_for(canned, dialect, mode), httpx.Response(200, json=responses_json(canned, dialect)))
    client = call(server, stream_mode=mode)
    events = client.stream(body)
    whole = client.create(body)

    assert [type(event) for event in events].count(ReplyDone) == 1 and isinstance(events[-1], ReplyDone)
    streamed = events[-1].reply
    assert fold(streamed) == fold(whole)
    assert said(events) == (whole.text, whole.reasoning, whole.refusal, fold(whole)[3])
    if scenario == "leaked forced call":
        assert not any(isinstance(event, TextDelta) for event in events), "the leaked JSON reached the caller"
        assert [call.name for call in whole.tool_calls] == ["get_weather"]
    if mode != "chat_completions":  # the chat route asks the same question in its own dialect
        assert script_bodies(server)[0]["input"] == body["input"]


def script_bodies(server: Any) -> list[dict[str, Any]]:
    return [json.loads(request.content) for request in server.requests]


def test_the_matrix_covers_what_each_reply_should_mean():
    """Guards the matrix itself: each scenario's non-streamed reply says what its name promises."""
    meanings = {name: canned for name, (canned, _, _) in SCENARIOS.items()}
    assert meanings["refusal"].refusal and not meanings["refusal"].text
    assert meanings["reasoning only, incomplete"].status == "incomplete"
    assert len(meanings["parallel calls"].calls) == 2
    assert {dialect for _, dialect, _ in SCENARIOS.values()} == {"openai", "gpt-oss-reference", "litellm"}
