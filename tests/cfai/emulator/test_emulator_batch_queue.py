"""The async batch queue over HTTP: submit, poll until done, both finished shapes, per-item failures, resumption."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cfai.emulator import Emulator

GPT_OSS = "@cf/openai/gpt-oss-120b"
BGE = "@cf/baai/bge-small-en-v1.5"
QUEUE = {"queueRequest": "true"}


def run_url(emulator: Emulator, model: str = GPT_OSS) -> str:
    return f"/client/v4/accounts/{emulator.account_id}/ai/run/{model}"


@pytest.fixture
def http(emulator: Emulator) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {emulator.api_token}"}
    with httpx.Client(base_url=emulator.base_url, headers=headers) as client:
        yield client


def submit(http: httpx.Client, emulator: Emulator, requests: list[Any], model: str = GPT_OSS) -> str:
    reply = http.post(run_url(emulator, model), params=QUEUE, json={"requests": requests})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["success"], body["errors"], body["messages"]) == (True, [], [])
    result = body["result"]
    assert (result["status"], result["model"]) == ("queued", model)
    return str(result["request_id"])


def poll(http: httpx.Client, emulator: Emulator, request_id: str, model: str = GPT_OSS, **params: str) -> Any:
    reply = http.post(run_url(emulator, model), params=params, json={"request_id": request_id})
    assert reply.status_code == 200, reply.text
    return reply.json()["result"]


def answer_of(response: dict[str, Any]) -> str:
    return str(response["output"][-1]["content"][0]["text"])


def bad(reply: httpx.Response, status: int = 400, code: int = 5006) -> str:
    assert reply.status_code == status, reply.text
    (error,) = reply.json()["errors"]
    assert error["code"] == code
    return str(error["message"])


async def test_a_gpt_oss_batch_is_queued_then_running_then_answered_in_order(
    client: httpx.AsyncClient, emulator: Emulator
) -> None:
    root = str(client.base_url).split("/client/")[0]
    url = root + run_url(emulator)
    items = [{"input": "One", "external_reference": "r1"}, {"input": "Two", "reasoning": {"effort": "low"}}]
    queued = (await client.post(url, params=QUEUE, json={"requests": items})).json()["result"]
    statuses = []
    for _ in range(3):
        result = (await client.post(url, json={"request_id": queued["request_id"]})).json()["result"]
        statuses.append(result.get("status"))
    assert statuses == ["queued", "running", None]  # two pending polls by default, then the results
    first, second = result["results"]
    assert (answer_of(first), answer_of(second)) == ("You asked: One", "You asked: Two")
    assert first["external_reference"] == "r1" and "external_reference" not in second
    assert first["object"] == "response" and first["status"] == "completed" and second["reasoning"]["effort"] == "low"
    direct = (await client.post(url, json={"input": "One"})).json()["result"]
    assert first["usage"] == direct["usage"] and first["output"][0]["content"] == direct["output"][0]["content"]


def test_results_stay_for_later_polls_with_or_without_the_queue_flag(http: httpx.Client, emulator: Emulator) -> None:
    emulator.configure(batch_pending_polls=0)
    request_id = submit(http, emulator, [{"input": "Hi"}])
    first = poll(http, emulator, request_id, queueRequest="true")
    again = poll(http, emulator, request_id)  # resuming from a saved request_id
    assert first == again and answer_of(first["results"][0]) == "You asked: Hi"


def test_scripted_items_fail_with_their_message_and_the_rest_succeed(http: httpx.Client, emulator: Emulator) -> None:
    emulator.configure(batch_pending_polls=0)
    emulator.fail_batch_items([3, 7], "AiError: model overloaded", code="3040")
    request_id = submit(http, emulator, [{"input": f"Prompt {index}"} for index in range(10)])
    results = poll(http, emulator, request_id)["results"]
    failed = [index for index, item in enumerate(results) if item["status"] == "failed"]
    assert failed == [3, 7]
    assert results[3]["error"] == {"message": "AiError: model overloaded", "type": "server_error", "code": "3040"}
    assert results[3]["output"] == [] and results[3]["id"] == poll(http, emulator, request_id)["results"][3]["id"]
    assert [answer_of(results[index]) for index in (0, 9)] == ["You asked: Prompt 0", "You asked: Prompt 9"]
    later = poll(http, emulator, submit(http, emulator, [{"input": "x"}] * 8))["results"]
    assert all(item["status"] == "completed" for item in later)  # the script applied to one batch only


def test_an_item_the_model_refuses_fails_alone(http: httpx.Client, emulator: Emulator) -> None:
    emulator.configure(batch_pending_polls=0, context_window=40)
    request_id = submit(http, emulator, [{"input": "Hi"}, {"input": "word " * 60}])
    ok, overflow = poll(http, emulator, request_id)["results"]
    assert ok["status"] == "completed"
    assert overflow["status"] == "failed" and overflow["error"]["code"] == "5006"
    assert "maximum context length is 40 tokens" in overflow["error"]["message"]


def test_embedding_batches_answer_the_generic_shape_out_of_order(http: httpx.Client, emulator: Emulator) -> None:
    emulator.configure(batch_pending_polls=0)
    emulator.fail_batch_items([2])
    items = [{"text": f"document number {index}", "external_reference": f"doc-{index}"} for index in range(6)]
    done = poll(http, emulator, submit(http, emulator, items, model=BGE), model=BGE)
    entries = done["responses"]
    assert [entry["id"] for entry in entries] != list(range(6))  # clients must place entries by id
    by_id = {entry["id"]: entry for entry in entries}
    assert sorted(by_id) == list(range(6))
    assert [by_id[index]["external_reference"] for index in range(6)] == [f"doc-{index}" for index in range(6)]
    assert [by_id[index]["success"] for index in range(6)] == [True, True, False, True, True, True]
    assert by_id[2]["result"] is None and by_id[2]["error"]["message"] == "AiError: Internal server error"
    direct = http.post(run_url(emulator, BGE), json={"text": "document number 4"}).json()["result"]
    assert by_id[4]["result"] == direct and direct["shape"] == [1, 384]
    assert done["usage"]["prompt_tokens"] == 5 * 3 and done["usage"]["completion_tokens"] == 0


def test_tests_choose_the_finished_shape_per_model(http: httpx.Client, emulator: Emulator) -> None:
    emulator.configure(batch_pending_polls=0, batch_shapes={GPT_OSS: "responses"})
    done = poll(http, emulator, submit(http, emulator, [{"input": "A"}, {"input": "B"}, {"input": "C"}]))
    by_id = {entry["id"]: entry["result"] for entry in done["responses"]}
    assert [answer_of(by_id[index]) for index in range(3)] == ["You asked: A", "You asked: B", "You asked: C"]
    usage = done["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens"] == sum(result["usage"]["input_tokens"] for result in by_id.values())


def test_completion_waits_for_the_configured_seconds_on_the_state_clock(http: httpx.Client, emulator: Emulator) -> None:
    now = [1000.0]
    emulator.state.clock = lambda: now[0]
    emulator.configure(batch_pending_polls=0, batch_pending_seconds=30.0, batch_expiry_seconds=600.0)
    request_id = submit(http, emulator, [{"input": "Hi"}])
    now[0] += 29
    assert poll(http, emulator, request_id)["status"] == "queued"
    now[0] += 2
    assert "results" in poll(http, emulator, request_id)
    now[0] += 600
    message = bad(http.post(run_url(emulator), json={"request_id": request_id}), status=404, code=7003)
    assert request_id in message and "expired" in message


def test_pending_polls_can_answer_another_http_status(http: httpx.Client, emulator: Emulator) -> None:
    emulator.configure(batch_pending_polls=1, batch_pending_status=202)
    request_id = submit(http, emulator, [{"input": "Hi"}])
    pending = http.post(run_url(emulator), json={"request_id": request_id})
    assert pending.status_code == 202 and pending.json()["result"]["status"] == "queued"
    assert http.post(run_url(emulator), json={"request_id": request_id}).status_code == 200


@pytest.mark.parametrize(
    ("body", "params", "expected"),
    [
        ({}, QUEUE, "required properties at '/' are 'requests'"),
        ({"requests": []}, QUEUE, "'/requests' not met: must be a non-empty array"),
        ({"requests": {"input": "x"}}, QUEUE, "'/requests' not met: must be a non-empty array"),
        ({"requests": [{"input": "x"}, "x"]}, QUEUE, "'/requests/1' not met: must be object"),
        (
            {"requests": [{"input": "x"}, {"input": "y"}, {"prompt": "z"}]},
            QUEUE,
            "Error at '/requests/2': oneOf at '/'",
        ),
        (
            {"requests": [{"input": "x", "reasoning": {"effort": "max"}}]},
            QUEUE,
            "Error at '/requests/0': enum at '/reasoning/effort'",
        ),
        ({"requests": [{"input": "x"}]}, {}, "add ?queueRequest=true"),
        ({"request_id": 5}, {}, "'/request_id' not met: must be string"),
    ],
)
def test_bad_submissions_are_400_5006_naming_the_item(
    http: httpx.Client, emulator: Emulator, body: dict[str, Any], params: dict[str, str], expected: str
) -> None:
    message = bad(http.post(run_url(emulator), params=params, json=body))
    assert message.startswith("AiError: Bad input: ") and expected in message


def test_embedding_items_are_checked_too(http: httpx.Client, emulator: Emulator) -> None:
    body = {"requests": [{"text": "fine"}, {"text": ""}]}
    message = bad(http.post(run_url(emulator, BGE), params=QUEUE, json=body))
    assert (
        message == "AiError: Bad input: Error at '/requests/1': minLength at '/text' not met: a text must not be empty"
    )


def test_a_payload_of_10_mb_or_more_is_413_3006(http: httpx.Client, emulator: Emulator) -> None:
    payload = json.dumps({"requests": [{"input": "x" * 1_000_000}] * 10}).encode()
    reply = http.post(run_url(emulator), params=QUEUE, content=payload)
    assert "under 10 MB" in bad(reply, status=413, code=3006)


def test_unknown_ids_tokens_and_models(http: httpx.Client, emulator: Emulator) -> None:
    assert "'nope'" in bad(http.post(run_url(emulator), json={"request_id": "nope"}), status=404, code=7003)
    request_id = submit(http, emulator, [{"input": "Hi"}])
    other_model = http.post(run_url(emulator, "@cf/openai/gpt-oss-20b"), json={"request_id": request_id})
    bad(other_model, status=404, code=7003)
    bad(http.post(run_url(emulator, "@cf/nope/x"), params=QUEUE, json={"requests": [{"input": "x"}]}), code=5007)
    anonymous = httpx.post(emulator.base_url + run_url(emulator), json={"request_id": request_id})
    bad(anonymous, status=401, code=10000)
