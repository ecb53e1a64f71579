"""Scripted replies and faults, over a socket and in-process, and how the queue picks them."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from cfai.emulator import CannedReply, Emulator, Fault


async def test_rate_limited_with_and_without_retry_after(
    client: httpx.AsyncClient, emulator: Emulator, kit: Any
) -> None:
    emulator.enqueue(Fault.rate_limited(retry_after=2))
    emulator.enqueue(Fault.rate_limited())
    first, second, third = [await client.post("/responses", json=kit.body()) for _ in range(3)]
    assert (first.status_code, first.headers["retry-after"]) == (429, "2")
    assert first.json() == kit.fixture_json("error-429-3040.json")
    assert second.status_code == 429 and "retry-after" not in second.headers
    assert third.status_code == 200
    assert emulator.pending_scripts == 0


async def test_daily_limit_server_error_and_custom_error(
    client: httpx.AsyncClient, emulator: Emulator, kit: Any
) -> None:
    emulator.enqueue(Fault.daily_limit_exceeded())
    emulator.enqueue(Fault.server_error(503))
    emulator.enqueue(Fault.error(400, 5006, "AiError: Bad input: maximum context length exceeded"))
    daily, unavailable, custom = [await client.post("/responses", json=kit.body()) for _ in range(3)]
    assert (daily.status_code, daily.json()) == (429, kit.fixture_json("error-429-3036.json"))
    assert unavailable.status_code == 503
    assert unavailable.json()["success"] is False and unavailable.json()["errors"][0]["code"] == 3001
    assert custom.json()["errors"] == [{"code": 5006, "message": "AiError: Bad input: maximum context length exceeded"}]
    assert all(reply.headers["cf-ray"] for reply in (daily, unavailable, custom))


async def test_bad_gateway_html(client: httpx.AsyncClient, emulator: Emulator, kit: Any) -> None:
    emulator.enqueue(Fault.bad_gateway_html())
    reply = await client.post("/responses", json=kit.body())
    assert reply.status_code == 502
    assert reply.headers["content-type"].startswith("text/html")
    assert "Error code 502" in reply.text and reply.headers["cf-ray"] in reply.text
    with pytest.raises(json.JSONDecodeError):
        reply.json()


async def test_truncated_json(client: httpx.AsyncClient, emulator: Emulator, kit: Any) -> None:
    emulator.enqueue(Fault.truncated_json())
    reply = await client.post("/responses", json=kit.body())
    assert reply.status_code == 200 and reply.text.startswith('{"id":"resp_')
    with pytest.raises(json.JSONDecodeError):
        reply.json()


async def test_leaked_tool_call_on_responses_and_chat(client: httpx.AsyncClient, emulator: Emulator, kit: Any) -> None:
    emulator.enqueue(Fault.leaked_tool_call(), times=2)
    forced = {"type": "function", "name": "get_weather"}
    body = kit.body("Weather in Paris", tools=[kit.WEATHER_TOOL], tool_choice=forced)
    reply = (await client.post("/responses", json=body)).json()
    assert kit.items(reply, "function_call") == []
    assert json.loads(kit.answer(reply)) == {"name": "get_weather", "arguments": {"city": "Paris"}}
    request = kit.fixture_json("cf-chat-completions-gpt-oss-20b-tool-call.request.json") | {"stream": False}
    message = (await client.post("/chat/completions", json=request)).json()["choices"][0]["message"]
    assert message["tool_calls"] == []
    assert json.loads(message["content"]) == {"name": "get_weather", "arguments": {"city": "Paris"}}


async def test_leaked_tool_call_with_explicit_call(client: httpx.AsyncClient, emulator: Emulator, kit: Any) -> None:
    emulator.enqueue(Fault.leaked_tool_call("lookup", {"q": "Zürich"}))
    reply = (await client.post("/responses", json=kit.body("Hi"))).json()
    assert kit.answer(reply) == '{"name": "lookup", "arguments": {"q": "Zürich"}}'


async def test_reasoning_only_on_responses_and_run(client: httpx.AsyncClient, emulator: Emulator, kit: Any) -> None:
    emulator.enqueue(Fault.reasoning_only(), times=2)
    reply = (await client.post("/responses", json=kit.body("Write an essay"))).json()
    assert reply["status"] == "incomplete" and reply["incomplete_details"] == {"reason": "max_output_tokens"}
    assert [item["type"] for item in reply["output"]] == ["reasoning"]
    assert reply["usage"]["output_tokens"] == reply["usage"]["output_tokens_details"]["reasoning_tokens"]
    root = str(client.base_url).split("/client/")[0]
    run = f"{root}/client/v4/accounts/{emulator.account_id}/ai/run/@cf/openai/gpt-oss-120b"
    result = (await client.post(run, json={"input": "Write an essay"})).json()["result"]
    assert [item["type"] for item in result["output"]] == ["reasoning"]


async def test_scripted_reply_is_sent_as_is(client: httpx.AsyncClient, emulator: Emulator, kit: Any) -> None:
    canned = kit.fixture_json("responses-tool-call.json")
    emulator.enqueue(CannedReply(json=canned, headers={"x-extra": "1"}))
    emulator.enqueue(CannedReply(body="event: x\ndata: {}\n\n", content_type="text/event-stream", status=201))
    first = await client.post("/responses", json=kit.body("anything"))
    assert first.json() == canned and first.headers["x-extra"] == "1" and first.headers["cf-ray"]
    second = await client.post("/responses", json={"not": "even valid"})
    assert (second.status_code, second.text) == (201, "event: x\ndata: {}\n\n")
    assert second.headers["content-type"].startswith("text/event-stream")


async def test_queue_matches_routes_in_order_and_after_authentication(
    client: httpx.AsyncClient, emulator: Emulator, kit: Any
) -> None:
    emulator.enqueue(CannedReply(json={"n": 1}, status=202), route="chat_completions")
    emulator.enqueue(CannedReply(json={"n": 2}), times=2)
    emulator.enqueue(CannedReply(json={"n": 3}))
    assert emulator.pending_scripts == 4
    unauthorised = await client.post("/responses", json=kit.body(), headers={"Authorization": "Bearer no"})
    assert unauthorised.status_code == 401  # gatekeeping comes first and consumes nothing
    replies = [(await client.post("/responses", json=kit.body())).json() for _ in range(3)]
    assert replies == [{"n": 2}, {"n": 2}, {"n": 3}]
    chat = await client.post("/chat/completions", json={})
    assert (chat.status_code, chat.json()) == (202, {"n": 1})
    assert emulator.pending_scripts == 0
    emulator.enqueue(Fault.rate_limited())
    emulator.reset()
    assert emulator.pending_scripts == 0 and emulator.requests == []
    with pytest.raises(ValueError):
        emulator.enqueue(Fault.rate_limited(), times=0)


async def test_disconnect_without_a_response(client: httpx.AsyncClient, emulator: Emulator, kit: Any) -> None:
    emulator.enqueue(Fault.disconnect())
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post("/responses", json=kit.body())
    assert (await client.post("/responses", json=kit.body())).status_code == 200  # the next request is served
    assert len(emulator.requests) == 2


async def test_slow_reply_and_client_timeout(emulator: Emulator, kit: Any) -> None:
    headers = {"Authorization": f"Bearer {emulator.api_token}"}
    async with httpx.AsyncClient(base_url=emulator.v1_url, headers=headers) as client:
        emulator.enqueue(Fault.slow(0.3))
        started = time.perf_counter()
        assert (await client.post("/responses", json=kit.body())).status_code == 200
        assert time.perf_counter() - started >= 0.3
        emulator.enqueue(Fault.slow(30))
        with pytest.raises(httpx.ReadTimeout):
            await client.post("/responses", json=kit.body(), timeout=0.2)
        started = time.perf_counter()
        assert (await client.post("/responses", json=kit.body())).status_code == 200
        assert time.perf_counter() - started < 1  # the abandoned slow reply does not hold the server


def test_delay_applies_to_any_fault(sync_client: httpx.Client, emulator: Emulator, kit: Any) -> None:
    emulator.enqueue(Fault.rate_limited(delay=0.2))
    started = time.perf_counter()
    assert sync_client.post("/responses", json=kit.body()).status_code == 429
    assert time.perf_counter() - started >= 0.2


def _sse_request(route: str, kit: Any) -> tuple[str, dict[str, Any]]:
    if route == "responses":
        return "/responses", kit.body("Tell me a story", stream=True)
    return "/chat/completions", {"model": kit.MODEL, "messages": [{"role": "user", "content": "Story"}], "stream": True}


@pytest.mark.parametrize("route", ["responses", "chat_completions"])
def test_stream_cut_midway_over_a_socket(sync_client: httpx.Client, emulator: Emulator, kit: Any, route: str) -> None:
    emulator.configure(stream_mode="sse")
    emulator.enqueue(Fault.disconnect_midway(after_events=4))
    path, body = _sse_request(route, kit)
    received: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError), sync_client.stream("POST", path, json=body) as reply:
        assert reply.status_code == 200
        received.extend(line for line in reply.iter_lines() if line.startswith("data: "))
    assert len(received) == 4  # the events before the cut arrived; no terminal event, no [DONE]


@pytest.mark.parametrize("route", ["responses", "chat_completions"])
async def test_stream_cut_midway_in_process_ends_the_body_early(emulator: Emulator, kit: Any, route: str) -> None:
    emulator.configure(stream_mode="sse")
    emulator.enqueue(Fault.disconnect_midway(after_events=4))
    path, body = _sse_request(route, kit)
    transport = httpx.ASGITransport(app=emulator.app)
    headers = {"Authorization": f"Bearer {emulator.api_token}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1" + emulator.v1_path) as client:
        reply = await client.post(path.lstrip("/"), json=body, headers=headers)
    data = kit.sse_data(reply.text)
    assert len(data) == 4 and "[DONE]" not in data and "response.completed" not in reply.text


def test_json_body_cut_midway_over_a_socket(sync_client: httpx.Client, emulator: Emulator, kit: Any) -> None:
    emulator.enqueue(Fault.disconnect_midway())
    with pytest.raises(httpx.RemoteProtocolError):
        sync_client.post("/responses", json=kit.body())
    assert sync_client.post("/responses", json=kit.body()).status_code == 200
