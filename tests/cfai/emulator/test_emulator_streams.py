"""SSE framings, compared with the recorded fixtures: OpenAI's Responses grammar and Cloudflare's chat chunks."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from cfai.emulator import Emulator


async def test_stream_true_on_responses_is_ignored_by_default(client: httpx.AsyncClient, kit: Any) -> None:
    reply = await client.post("/responses", json=kit.body("Hi", stream=True))
    assert reply.headers["content-type"] == "application/json"
    assert kit.answer(reply.json()) == "You asked: Hi"


async def test_stream_true_can_be_rejected(client: httpx.AsyncClient, emulator: Emulator, kit: Any) -> None:
    emulator.configure(stream_mode="reject")
    reply = await client.post("/responses", json=kit.body("Hi", stream=True))
    assert reply.status_code == 400 and reply.json()["errors"][0]["code"] == 5006
    assert (await client.post("/responses", json=kit.body("Hi"))).status_code == 200


async def _sse(client: httpx.AsyncClient, emulator: Emulator, body: dict[str, Any]) -> httpx.Response:
    emulator.configure(stream_mode="sse")
    reply = await client.post("/responses", json=body | {"stream": True})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/event-stream")
    return reply


async def test_responses_sse_text_events_rebuild_the_reply(
    client: httpx.AsyncClient, emulator: Emulator, kit: Any
) -> None:
    reply = await _sse(client, emulator, kit.body("Explain caching, briefly"))
    events = kit.sse_events(reply.text)
    assert "[DONE]" not in reply.text
    assert [data["sequence_number"] for _, data in events] == list(range(len(events)))
    assert all(name == data["type"] for name, data in events)
    names = [name for name, _ in events]
    assert names[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert names[-1] == "response.completed"
    final = events[-1][1]["response"]
    assert events[0][1]["response"]["status"] == "in_progress" and events[0][1]["response"]["output"] == []
    reasoning = "".join(d["delta"] for n, d in events if n == "response.reasoning_text.delta")
    text = "".join(d["delta"] for n, d in events if n == "response.output_text.delta")
    assert reasoning == final["output"][0]["content"][0]["text"]
    assert text == kit.answer(final) == "You asked: Explain caching, briefly"
    order = [n for n in names if n in ("response.reasoning_text.delta", "response.output_text.delta")]
    assert order == sorted(order, reverse=True)  # all reasoning before any text
    assert final["usage"]["output_tokens"] == len(order)  # one token per delta


async def test_responses_sse_tool_call_matches_openais_grammar(
    client: httpx.AsyncClient, emulator: Emulator, kit: Any
) -> None:
    body = kit.body("Call get_weather with city exactly Paris.", tools=[kit.WEATHER_TOOL])
    ours = kit.sse_events((await _sse(client, emulator, body)).text)
    recorded = kit.sse_events(kit.fixture_text("openai-responses-stream-tool-call.sse"))
    lifecycle = ("response.created", "response.in_progress", "response.completed")
    call_events = [(n, d) for n, d in ours if n in lifecycle or d.get("output_index") == 1]  # skip the reasoning item
    assert _dedupe([n for n, _ in call_events]) == _dedupe([n for n, _ in recorded])
    expected_keys = {name: set(data) - {"obfuscation"} for name, data in recorded}
    for name, data in call_events:
        assert set(data) == expected_keys[name], name
        if "item" in data:
            assert set(data["item"]) >= set(recorded[2][1]["item"])
    arguments = "".join(d["delta"] for n, d in ours if n == "response.function_call_arguments.delta")
    assert arguments == recorded[-2][1]["item"]["arguments"] == '{"city":"Paris"}'


async def test_responses_sse_incomplete_ends_with_response_incomplete(
    client: httpx.AsyncClient, emulator: Emulator, kit: Any
) -> None:
    events = kit.sse_events((await _sse(client, emulator, kit.body("Hello", max_output_tokens=3))).text)
    assert events[-1][0] == "response.incomplete"
    final = events[-1][1]["response"]
    assert final["incomplete_details"] == {"reason": "max_output_tokens"}
    assert [item["type"] for item in final["output"]] == ["reasoning"]


def _shape(chunk: dict[str, Any]) -> Any:
    """What a chunk looks like, without its values: keys, delta keys, tool-call keys, finish and stop reasons."""
    choice = chunk["choices"][0]
    delta = choice["delta"]
    calls = [sorted(call) + sorted(call.get("function", {})) for call in delta.get("tool_calls", [])]
    return (list(chunk), list(choice), list(delta), calls, choice.get("finish_reason"), choice.get("stop_reason"))


async def test_chat_sse_reproduces_cloudflares_recorded_framing(client: httpx.AsyncClient, kit: Any) -> None:
    request = kit.fixture_json("cf-chat-completions-gpt-oss-20b-tool-call.request.json")
    async with client.stream("POST", "/chat/completions", json=request) as reply:
        assert reply.headers["content-type"].startswith("text/event-stream")
        text = (await reply.aread()).decode()
    ours, recorded = kit.sse_data(text), kit.sse_data(kit.fixture_text("cf-chat-completions-gpt-oss-20b-tool-call.sse"))
    assert ours[-1] == recorded[-1] == "[DONE]"
    assert "\n\n".join(f"data: {line}" for line in ours) + "\n\n" == text  # data-only lines, blank-line separated
    mine = [json.loads(line) for line in ours[:-1]]
    theirs = [json.loads(line) for line in recorded[:-1]]
    # The same kinds of chunk in the same order; only the number of reasoning/argument pieces differs.
    assert _dedupe([_shape(chunk) for chunk in mine]) == _dedupe([_shape(chunk) for chunk in theirs])
    assert mine[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert mine[1]["choices"][0]["delta"] == {"reasoning_content": ""}
    opening = next(chunk for chunk in mine if "id" in chunk["choices"][0]["delta"].get("tool_calls", [{}])[0])
    assert opening["choices"][0]["delta"]["tool_calls"][0]["id"].startswith("chatcmpl-tool-")
    arguments = "".join(
        call["function"]["arguments"] for chunk in mine for call in chunk["choices"][0]["delta"].get("tool_calls", [])
    )
    assert arguments == '{"city":"Paris"}'
    first_final, second_final = mine[-2:]
    assert (
        first_final["choices"] == second_final["choices"] == [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]
    )
    assert isinstance(first_final["usage"]["neurons"], float) and "neurons" not in second_final["usage"]
    assert first_final["usage"]["total_tokens"] == second_final["usage"]["total_tokens"]
    assert len({chunk["id"] for chunk in mine}) == 1


async def test_chat_sse_text_answer(client: httpx.AsyncClient, kit: Any) -> None:
    body = {"model": kit.MODEL, "messages": [{"role": "user", "content": "Hi there"}], "stream": True}
    chunks = [json.loads(line) for line in kit.sse_data((await client.post("/chat/completions", json=body)).text)[:-1]]
    content = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks)
    reasoning = "".join(chunk["choices"][0]["delta"].get("reasoning_content", "") for chunk in chunks)
    assert content == "You asked: Hi there" and "Hi there" in reasoning
    assert [c["choices"][0].get("stop_reason") for c in chunks if "stop_reason" in c["choices"][0]] == [200002]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["completion_tokens"] == len(chunks) - 5  # minus role, empty reasoning, stop, 2 finals


def _dedupe(shapes: list[Any]) -> list[Any]:
    """Collapse runs of identical shapes (so 12 reasoning pieces and 3 count the same)."""
    collapsed: list[Any] = []
    for shape in shapes:
        if not collapsed or collapsed[-1] != shape:
            collapsed.append(shape)
    return collapsed


@pytest.mark.parametrize("route", ["responses", "chat_completions"])
def test_sync_streaming_over_the_socket(sync_client: httpx.Client, emulator: Emulator, kit: Any, route: str) -> None:
    emulator.configure(stream_mode="sse")
    if route == "responses":
        path, body = "/responses", kit.body("Hi", stream=True)
    else:
        path, body = (
            "/chat/completions",
            {"model": kit.MODEL, "messages": [{"role": "user", "content": "Hi"}], "stream": True},
        )
    with sync_client.stream("POST", path, json=body) as reply:
        lines = [line for line in reply.iter_lines() if line.startswith("data: ")]
    assert len(lines) > 5
    assert json.loads(lines[0][6:])  # a complete event arrives first
