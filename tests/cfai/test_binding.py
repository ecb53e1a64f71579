"""The core client over a Workers AI binding: the body it hands over, the reply it returns, errors and retries."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest
from support.fake_binding import FakeBinding, JsException

from cfai.batch import AsyncBatchQueue, Polling
from cfai.binding import BindingClient, error_from_binding, gateway_run_option
from cfai.config import ConfigurationError
from cfai.embeddings import aembed
from cfai.emulator import Emulator
from cfai.errors import (
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    ResponseFailedError,
    WorkersAIError,
)
from cfai.transport import AsyncWorkersAIClient
from cfai.wire import ReplyDone, TextDelta, build_request

MODEL = "@cf/openai/gpt-oss-120b"
EMBEDDING_MODEL = "@cf/baai/bge-base-en-v1.5"


def client_for(binding: Any, **options: Any) -> tuple[BindingClient, list[float]]:
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    return BindingClient(binding, sleep=sleep, **options), sleeps


async def test_create_hands_the_responses_body_without_model_to_run() -> None:
    binding = FakeBinding()
    client, _ = client_for(binding)
    body = build_request(model=MODEL, input="Hello", instructions="Be brief.", reasoning_effort="low")
    reply = await client.create(body)
    assert reply.text == "You asked: Hello"
    assert reply.reasoning and reply.cost_usd is not None  # finished like an HTTP reply: priced
    ((model, inputs),) = binding.calls
    assert model == MODEL
    assert inputs == {key: value for key, value in body.items() if key != "model"}
    assert "model" not in inputs


async def test_stream_replays_the_whole_reply_through_the_same_exit() -> None:
    client, _ = client_for(FakeBinding())
    body = build_request(model=MODEL, input="Count to three")
    events = [event async for event in client.stream(body, stop=["three"])]
    assert isinstance(events[-1], ReplyDone)
    assert events[-1].reply.text == "You asked: Count to "  # stop strings cut it, as on HTTP
    assert "".join(event.delta for event in events if isinstance(event, TextDelta)) == "You asked: Count to "


async def test_a_result_with_to_py_is_converted_and_an_envelope_unwrapped() -> None:
    class JsProxy:
        def __init__(self, value: Any) -> None:
            self.value = value

        def to_py(self) -> Any:
            return self.value

    class EnvelopeBinding:
        async def run(self, model: str, inputs: Any) -> JsProxy:
            answer = await FakeBinding().run(model, inputs)
            return JsProxy({"result": answer, "success": True, "errors": [], "messages": []})

    client, _ = client_for(EnvelopeBinding())
    assert (await client.create(build_request(model=MODEL, input="Hi"))).text == "You asked: Hi"


async def test_under_pyodide_the_body_becomes_a_javascript_object(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def to_js(value: Any, *, dict_converter: Any) -> Any:
        seen["converter"] = dict_converter
        return ("js", value)

    from_entries = object()
    monkeypatch.setitem(sys.modules, "pyodide", types.ModuleType("pyodide"))
    monkeypatch.setitem(sys.modules, "pyodide.ffi", types.SimpleNamespace(to_js=to_js))
    monkeypatch.setitem(
        sys.modules, "js", types.SimpleNamespace(Object=types.SimpleNamespace(fromEntries=from_entries))
    )
    monkeypatch.setattr(sys, "platform", "emscripten")

    class JsBinding:
        async def run(self, model: str, inputs: Any) -> Any:
            assert inputs[0] == "js"  # what to_js returned, not the dict
            return await FakeBinding().run(model, inputs[1])

    client, _ = client_for(JsBinding())
    reply = await client.create(build_request(model=MODEL, input="Hi"))
    assert reply.text == "You asked: Hi"
    assert seen["converter"] is from_entries


@pytest.mark.parametrize(
    ("message", "kind", "code"),
    [
        ("AiError: 5006: Bad input: Error: required properties at '/' are 'input'", BadRequestError, 5006),
        ("10000: Authentication error", AuthenticationError, 10000),
        ("InferenceUpstreamError: 5007: No such model @cf/x/y", BadRequestError, 5007),
        ("7003: Could not route to /accounts/x/ai/run", NotFoundError, 7003),
        ("AiError: 3036: You have used up your daily free allocation", RateLimitError, 3036),
        ("Network connection lost.", InternalServerError, None),
    ],
)
def test_a_binding_message_is_typed_by_its_cloudflare_code(
    message: str, kind: type[WorkersAIError], code: int | None
) -> None:
    error = error_from_binding(JsException(message))
    assert type(error) is kind
    assert error.code == code
    assert error.message.startswith("The Workers AI binding failed")
    assert message.rstrip(".") in error.message


def test_the_advice_of_the_http_errors_comes_along() -> None:
    error = error_from_binding(JsException("AiError: 3036: daily allocation used"))
    assert "resets at 00:00 UTC" in error.message


async def test_capacity_errors_are_retried_with_backoff_then_answered() -> None:
    binding = FakeBinding()
    binding.fail_with("AiError: 3040: Capacity temporarily exceeded, please try again.")
    client, sleeps = client_for(binding)
    reply = await client.create(build_request(model=MODEL, input="Hi"))
    assert reply.text == "You asked: Hi"
    assert len(binding.calls) == 2 and len(sleeps) == 1 and 0 < sleeps[0] <= 0.5


async def test_errors_that_must_not_be_retried_raise_at_once_with_the_cause_kept() -> None:
    binding = FakeBinding()
    binding.fail_with("AiError: 3036: daily free allocation used")
    client, sleeps = client_for(binding)
    with pytest.raises(RateLimitError) as raised:
        await client.create(build_request(model=MODEL, input="Hi"))
    assert isinstance(raised.value.__cause__, JsException)
    assert (len(binding.calls), sleeps) == (1, [])


async def test_retries_stop_at_max_retries() -> None:
    binding = FakeBinding()
    binding.fail_with(*["3040: Capacity temporarily exceeded"] * 3)
    client, sleeps = client_for(binding, max_retries=1)
    with pytest.raises(RateLimitError):
        await client.create(build_request(model=MODEL, input="Hi"))
    assert (len(binding.calls), len(sleeps)) == (2, 1)


async def test_a_failed_reply_is_a_response_failed_error() -> None:
    class FailingBinding:
        async def run(self, model: str, inputs: Any) -> dict[str, Any]:
            return {"id": "r", "status": "failed", "output": [], "error": {"message": "boom", "code": "3001"}}

    client, _ = client_for(FailingBinding())
    with pytest.raises(ResponseFailedError, match="boom"):
        await client.create(build_request(model=MODEL, input="Hi"))


async def test_embeddings_run_the_model_with_its_texts_and_match_the_rest_route(
    workers_ai_emulator: Emulator,
) -> None:
    binding = FakeBinding()
    client, _ = client_for(binding)
    texts = [f"Passage {number} about warranties." for number in range(250)]
    vectors = await aembed(client, EMBEDDING_MODEL, texts)
    # As many runs as REST requests (bge: 100 texts each), each with the model's native input, no pooling.
    assert [(model, len(inputs["text"])) for model, inputs in binding.calls] == [(EMBEDDING_MODEL, 100)] * 2 + [
        (EMBEDDING_MODEL, 50)
    ]
    assert [text for _, inputs in binding.calls for text in inputs["text"]] == texts
    assert all(set(inputs) == {"text"} for _, inputs in binding.calls)
    async with AsyncWorkersAIClient(
        base_url=workers_ai_emulator.v1_url, api_token=workers_ai_emulator.api_token
    ) as http:
        assert vectors == await aembed(http, EMBEDDING_MODEL, texts)
    assert len(vectors[0]) == 768


async def test_an_embedding_the_binding_refuses_is_a_bad_request() -> None:
    client, _ = client_for(FakeBinding())
    with pytest.raises(BadRequestError, match="512") as raised:
        await aembed(client, EMBEDDING_MODEL, ["word " * 600])
    assert raised.value.code == 5006


async def test_another_rest_route_is_refused_naming_what_a_binding_serves() -> None:
    client, _ = client_for(FakeBinding())
    with pytest.raises(NotImplementedError, match="Responses calls, embeddings and the batch queue"):
        await client.post("chat/completions", {"messages": []})


def test_something_without_run_is_refused() -> None:
    with pytest.raises(TypeError, match="run\\(\\) method"):
        BindingClient(object())  # type: ignore[arg-type]


GATEWAY_OPTIONS = {
    "cache-ttl": "60",  # the spellings and text forms the HTTP headers accept
    "skip_cache": True,
    "cf-aig-metadata": '{"team": "search"}',
    "max_attempts": 3,
    "backoff": "exponential",
}
GATEWAY = {
    "id": "my-gateway",
    "cacheTtl": 60,
    "skipCache": True,
    "metadata": {"team": "search"},
    "retries": {"maxAttempts": 3, "backoff": "exponential"},
}


async def test_every_run_goes_through_the_ai_gateway_it_was_given(workers_ai_emulator: Emulator) -> None:
    assert gateway_run_option("my-gateway", GATEWAY_OPTIONS) == GATEWAY
    assert gateway_run_option(None, None) is None
    binding = FakeBinding()
    client, _ = client_for(binding, gateway=GATEWAY)
    await client.create(build_request(model=MODEL, input="Hi"))
    await aembed(client, EMBEDDING_MODEL, ["Hi"])
    assert binding.options == [{"gateway": GATEWAY}] * 2

    queued = workers_ai_emulator.binding()
    queue = AsyncBatchQueue(BindingClient(queued, gateway=GATEWAY), polling=Polling(interval=0), progress=False)
    await queue.run([build_request(model=MODEL, input="Later")])
    assert queued.calls[0][2] == {"queueRequest": True, "gateway": GATEWAY}
    assert {call[2]["gateway"]["id"] for call in queued.calls} == {"my-gateway"}  # the polls too


@pytest.mark.parametrize(
    ("gateway_id", "options", "message"),
    [
        ("g", {"cache_ttl": "soon"}, "cache_ttl.* a whole number"),
        ("g", {"request_timeout": True}, "a whole number"),
        ("g", {"skip_cache": "yes"}, "true or false"),
        ("g", {"metadata": "[1, 2]"}, "a JSON object"),
        ("g", {"cache_tll": 60}, "Unknown AI Gateway option"),
        (None, {"cache_ttl": 60}, "need a gateway_id"),
    ],
)
def test_gateway_options_the_binding_could_not_take_are_refused(
    gateway_id: str | None, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        gateway_run_option(gateway_id, options)
