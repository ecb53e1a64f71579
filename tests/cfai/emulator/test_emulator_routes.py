"""The routes over HTTP, each test run over a socket and in-process: gatekeeping, validation, reply shapes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from cfai.emulator import Emulator


def run_url(client: httpx.AsyncClient, emulator: Emulator, model: str = "@cf/openai/gpt-oss-120b") -> str:
    """An absolute URL of the run route (httpx would append a leading-slash path to the client's v1 base)."""
    root = str(client.base_url).split("/client/")[0]
    return f"{root}/client/v4/accounts/{emulator.account_id}/ai/run/{model}"


def test_responses_reply_has_the_vllm_field_set_and_a_cf_ray(sync_client: httpx.Client, kit: Any) -> None:
    reply = sync_client.post("/responses", json=kit.body("What are open-source models good for?"))
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["cf-ray"].endswith("-EMU")
    body = reply.json()
    assert list(body) == list(kit.fixture_json("responses-text.json"))  # same fields, same order
    assert body["id"].startswith("resp_") and body["object"] == "response" and body["status"] == "completed"
    reasoning, message = body["output"]
    assert reasoning["type"] == "reasoning" and reasoning["id"].startswith("rs_") and reasoning["summary"] == []
    assert reasoning["content"][0]["type"] == "reasoning_text"
    assert message == {
        "id": message["id"],
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [
            {
                "type": "output_text",
                "text": "You asked: What are open-source models good for?",
                "annotations": [],
                "logprobs": None,
            }
        ],
    }
    usage = body["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    assert 0 < usage["output_tokens_details"]["reasoning_tokens"] < usage["output_tokens"]
    assert body["max_output_tokens"] == 128_000 - usage["input_tokens"]


async def test_request_parameters_are_echoed(client: httpx.AsyncClient, kit: Any) -> None:
    body = kit.body(
        "Hi",
        instructions="Be terse.",
        reasoning={"effort": "low"},
        temperature=0.2,
        max_output_tokens=300,
        store=False,
        previous_response_id="resp_unknown",
        metadata={"k": "v"},
    )
    reply = (await client.post("/responses", json=body)).json()
    assert reply["instructions"] == "Be terse."
    assert reply["reasoning"]["effort"] == "low"
    assert (reply["temperature"], reply["max_output_tokens"], reply["metadata"]) == (0.2, 300, {"k": "v"})
    assert reply["previous_response_id"] == "resp_unknown"  # ignored, like Cloudflare, but echoed


async def test_tool_call_reply(client: httpx.AsyncClient, kit: Any) -> None:
    body = kit.body("What's the weather in Paris?", tools=[kit.WEATHER_TOOL])
    reply = (await client.post("/responses", json=body)).json()
    (call,) = kit.items(reply, "function_call")
    assert call["name"] == "get_weather" and call["arguments"] == '{"city":"Paris"}'
    assert call["id"].startswith("fc_") and call["call_id"] == "call_" + call["id"][3:]
    assert kit.items(reply, "message") == []
    assert reply["tools"][0]["name"] == "get_weather"


async def test_parallel_calls_get_their_own_arguments_on_both_surfaces(client: httpx.AsyncClient, kit: Any) -> None:
    question = "What's the weather in Paris and the time in Tokyo?"
    time_tool = kit.WEATHER_TOOL | {"name": "get_time", "description": "Local time in a city."}
    reply = (await client.post("/responses", json=kit.body(question, tools=[kit.WEATHER_TOOL, time_tool]))).json()
    calls = [(call["name"], call["arguments"]) for call in kit.items(reply, "function_call")]
    assert calls == [("get_weather", '{"city":"Paris"}'), ("get_time", '{"city":"Tokyo"}')]
    chat_tools = [
        {"type": "function", "function": {k: v for k, v in t.items() if k != "type"}}
        for t in (kit.WEATHER_TOOL, time_tool)
    ]
    body = {"model": kit.MODEL, "messages": [{"role": "user", "content": question}], "tools": chat_tools}
    chat = (await client.post("/chat/completions", json=body)).json()
    assert [
        (c["function"]["name"], c["function"]["arguments"]) for c in chat["choices"][0]["message"]["tool_calls"]
    ] == calls


async def test_tool_round_trip_answers_from_the_output(client: httpx.AsyncClient, kit: Any) -> None:
    first = (await client.post("/responses", json=kit.body("Weather in Paris?", tools=[kit.WEATHER_TOOL]))).json()
    history: list[dict[str, Any]] = [{"role": "user", "content": "Weather in Paris?"}]
    reasoning = kit.items(first, "reasoning")[0]
    history.append({"type": "reasoning", "summary": [], "content": reasoning["content"]})
    call = kit.items(first, "function_call")[0]
    history.append({k: call[k] for k in ("type", "call_id", "name", "arguments")})
    history.append({"type": "function_call_output", "call_id": call["call_id"], "output": "Sunny, 21 °C"})
    second = (await client.post("/responses", json=kit.body(history, tools=[kit.WEATHER_TOOL]))).json()
    assert kit.answer(second) == "Based on get_weather: Sunny, 21 °C"


async def test_structured_output_validates(client: httpx.AsyncClient, kit: Any) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city", "days"],
        "additionalProperties": False,
    }
    text = {"format": {"type": "json_schema", "name": "trip", "schema": schema, "strict": True}}
    reply = (await client.post("/responses", json=kit.body("Plan 3 days in Kyoto", text=text))).json()
    assert json.loads(kit.answer(reply)) == {"city": "Kyoto", "days": 3}
    assert reply["text"] == text


@pytest.mark.parametrize(
    ("headers", "path", "method", "status", "code"),
    [
        ({}, "/responses", "POST", 401, 10000),
        ({"Authorization": "Bearer wrong"}, "/responses", "POST", 401, 10000),
        (None, "/responses", "GET", 405, 7001),
        (None, "/nowhere", "POST", 404, 7003),
    ],
)
async def test_gatekeeping(
    client: httpx.AsyncClient, kit: Any, headers: dict[str, str] | None, path: str, method: str, status: int, code: int
) -> None:
    request = client.build_request(method, path, json=kit.body() if method == "POST" else None)
    if headers is not None:
        del request.headers["Authorization"]
        request.headers.update(headers)
    reply = await client.send(request)
    assert reply.status_code == status
    assert reply.json() == {
        "result": None,
        "success": False,
        "errors": [{"code": code, "message": reply.json()["errors"][0]["message"]}],
        "messages": [],
    }
    assert reply.headers["cf-ray"]


async def test_unknown_account_is_7003(client: httpx.AsyncClient, emulator: Emulator, kit: Any) -> None:
    url = str(client.base_url).replace(emulator.account_id, "0000") + "responses"
    reply = await client.post(url, json=kit.body())
    assert reply.status_code == 404
    assert reply.json()["errors"][0] == {
        "code": 7003,
        "message": "Could not route to /client/v4/accounts/0000/ai/v1/responses, "
        "perhaps your object identifier is invalid?",
    }


def _bad(reply: httpx.Response, code: int = 5006) -> str:
    assert reply.status_code == 400, reply.text
    error = reply.json()["errors"][0]
    assert error["code"] == code
    return str(error["message"])


CHAT_TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"model": "@cf/openai/gpt-oss-120b"}, "required properties at '/' are 'input'"),
        ({"input": "hi"}, "'model'"),
        ({"model": "@cf/openai/gpt-oss-120b", "input": [{"type": "web_search_call"}]}, "unknown input item type"),
        ({"model": "@cf/openai/gpt-oss-120b", "input": [{"role": "robot", "content": "x"}]}, "/input/0/role"),
        (
            {"model": "@cf/openai/gpt-oss-120b", "input": [{"role": "user", "content": [{"type": "input_file"}]}]},
            "part type",
        ),
        (
            {
                "model": "@cf/openai/gpt-oss-120b",
                "input": [{"type": "function_call_output", "call_id": "c9", "output": "x"}],
            },
            "no function call with call_id 'c9'",
        ),
        ({"model": "@cf/openai/gpt-oss-120b", "input": "x", "reasoning": {"effort": "minimal"}}, "/reasoning/effort"),
        ({"model": "@cf/openai/gpt-oss-120b", "input": "x", "tools": [CHAT_TOOL]}, "Chat Completions shape"),
        ({"model": "@cf/openai/gpt-oss-120b", "input": "x", "tools": [{"type": "web_search"}]}, "only function tools"),
        (
            {"model": "@cf/openai/gpt-oss-120b", "input": "x", "tool_choice": {"type": "function", "name": "nope"}},
            "'nope'",
        ),
        ({"model": "@cf/openai/gpt-oss-120b", "input": "x", "max_output_tokens": 0}, "/max_output_tokens"),
        ({"model": "@cf/openai/gpt-oss-120b", "input": "x", "text": {"format": {"type": "yaml"}}}, "/text/format"),
    ],
)
async def test_bad_input_is_400_5006(client: httpx.AsyncClient, body: dict[str, Any], expected: str) -> None:
    message = _bad(await client.post("/responses", json=body))
    assert message.startswith("AiError: Bad input: ")
    assert expected in message


async def test_malformed_json_and_unknown_model(client: httpx.AsyncClient, kit: Any) -> None:
    assert "malformed JSON" in _bad(await client.post("/responses", content=b'{"model": '))
    message = _bad(await client.post("/responses", json=kit.body(model="@cf/meta/llama")), code=5007)
    assert message == "No such model @cf/meta/llama or task"


async def test_tolerated_fields(client: httpx.AsyncClient, kit: Any) -> None:
    body = kit.body(
        [
            {"role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
            {"type": "reasoning", "id": "rs_never_issued", "summary": [], "content": []},
        ],
        tools=[],
        store=True,
        unknown_field=1,
    )
    reply = await client.post("/responses", json=body)
    assert reply.status_code == 200


async def test_models_are_configurable(client: httpx.AsyncClient, emulator: Emulator, kit: Any) -> None:
    emulator.configure(models={"@cf/custom/model"})
    assert (await client.post("/responses", json=kit.body(model="@cf/custom/model"))).status_code == 200
    _bad(await client.post("/responses", json=kit.body()), code=5007)


async def test_requests_are_recorded(client: httpx.AsyncClient, emulator: Emulator, kit: Any) -> None:
    await client.post("/responses", json=kit.body("Hi"), headers={"x-session-affinity": "s1"})
    await client.get("/responses")
    first, second = emulator.requests
    assert (first.method, first.route, first.json["input"]) == ("POST", "responses", "Hi")
    assert first.path == emulator.v1_path + "/responses"
    assert first.headers["x-session-affinity"] == "s1"
    assert first.headers["authorization"] == f"Bearer {emulator.api_token}"
    assert (second.method, second.json, second.body) == ("GET", None, b"")


async def test_session_affinity_caches_a_repeated_prefix(client: httpx.AsyncClient, kit: Any) -> None:
    history: list[dict[str, Any]] = [{"role": "user", "content": "Tell me about Lyon"}]
    session = {"x-session-affinity": "conversation-1"}
    first = (await client.post("/responses", json=kit.body(history), headers=session)).json()
    history += [{"role": "assistant", "content": kit.answer(first)}, {"role": "user", "content": "And Nice?"}]
    second = (await client.post("/responses", json=kit.body(history), headers=session)).json()
    other = (await client.post("/responses", json=kit.body(history), headers={"x-session-affinity": "x"})).json()
    without = (await client.post("/responses", json=kit.body(history))).json()
    assert first["usage"]["input_tokens_details"]["cached_tokens"] == 0
    cached = second["usage"]["input_tokens_details"]["cached_tokens"]
    assert cached == first["usage"]["input_tokens"]  # the whole first prompt is the prefix
    assert 0 < cached < second["usage"]["input_tokens"]
    assert other["usage"]["input_tokens_details"]["cached_tokens"] == 0
    assert without["usage"]["input_tokens_details"]["cached_tokens"] == 0


async def test_run_route_wraps_the_response_in_the_v4_envelope(
    client: httpx.AsyncClient, emulator: Emulator, kit: Any
) -> None:
    url = run_url(client, emulator, "@cf/openai/gpt-oss-20b")
    reply = (await client.post(url, json={"input": "Hi", "stream": True})).json()  # stream ignored (quirk 1)
    assert list(reply) == list(kit.fixture_json("run-envelope-text.json"))
    assert (reply["success"], reply["errors"], reply["messages"]) == (True, [], [])
    assert reply["result"]["model"] == "@cf/openai/gpt-oss-20b"
    assert kit.answer(reply["result"]) == "You asked: Hi"
    missing = await client.post(url, json={})
    assert _bad(missing) == kit.fixture_json("error-400-5006.json")["errors"][0]["message"]
    _bad(await client.post(run_url(client, emulator, "@cf/nope/x"), json={"input": "Hi"}), code=5007)


async def test_chat_completions_json(client: httpx.AsyncClient, kit: Any) -> None:
    request = kit.fixture_json("cf-chat-completions-gpt-oss-20b-tool-call.request.json") | {"stream": False}
    reply = (await client.post("/chat/completions", json=request)).json()
    assert reply["object"] == "chat.completion" and reply["id"].startswith("id-")
    (choice,) = reply["choices"]
    assert (choice["finish_reason"], choice["stop_reason"]) == ("tool_calls", 200012)
    (call,) = choice["message"]["tool_calls"]
    assert call["id"].startswith("chatcmpl-tool-") and call["type"] == "function"
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}  # as recorded live
    assert choice["message"]["reasoning_content"] and choice["message"]["content"] is None
    usage = reply["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_chat_completions_tool_messages_and_validation(client: httpx.AsyncClient, kit: Any) -> None:
    messages = [
        {"role": "system", "content": "Be helpful."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "t1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
        ]},
        {"role": "tool", "tool_call_id": "t1", "content": "Rainy"},
    ]  # fmt: skip
    body = {"model": kit.MODEL, "messages": messages, "tools": [CHAT_TOOL | {"function": {"name": "get_weather"}}]}
    reply = (await client.post("/chat/completions", json=body)).json()
    assert reply["choices"][0]["message"]["content"] == "Based on get_weather: Rainy"
    assert reply["choices"][0]["finish_reason"] == "stop"
    orphan = {"model": kit.MODEL, "messages": [{"role": "tool", "tool_call_id": "zz", "content": "x"}]}
    assert "'zz'" in _bad(await client.post("/chat/completions", json=orphan))
    flat = {"model": kit.MODEL, "messages": [{"role": "user", "content": "x"}], "tools": [kit.WEATHER_TOOL]}
    assert "/tools/0" in _bad(await client.post("/chat/completions", json=flat))
    effort = {"model": kit.MODEL, "messages": [{"role": "user", "content": "x"}], "reasoning_effort": "max"}
    assert "/reasoning_effort" in _bad(await client.post("/chat/completions", json=effort))


async def test_chat_completions_structured_output_and_length(client: httpx.AsyncClient, kit: Any) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    body = {
        "model": kit.MODEL,
        "messages": [{"role": "user", "content": "Pick 7"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "pick", "schema": schema}},
    }
    reply = (await client.post("/chat/completions", json=body)).json()
    assert json.loads(reply["choices"][0]["message"]["content"]) == {"n": 7}
    short = (await client.post("/chat/completions", json=body | {"max_tokens": 3})).json()
    assert short["choices"][0]["finish_reason"] == "length"
    assert short["usage"]["completion_tokens"] == 3
