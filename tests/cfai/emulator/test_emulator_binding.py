"""`Emulator.binding()`: the emulator's `/ai/run` route as a Worker's `env.AI`, in-process, for tests of Worker code."""

from __future__ import annotations

from typing import Any

import pytest

from cfai.binding import BindingClient, error_from_binding
from cfai.emulator import Emulator, Fault
from cfai.emulator.binding import BindingError
from cfai.errors import BadRequestError, RateLimitError
from cfai.wire import build_request

MODEL = "@cf/openai/gpt-oss-120b"


async def test_a_run_is_a_call_of_the_run_route_and_needs_no_server() -> None:
    emulator = Emulator()  # never started
    binding = emulator.binding()

    result = await binding.run(MODEL, {"input": "Hello"})

    assert result["object"] == "response" and result["output"][-1]["content"][0]["text"] == "You asked: Hello"
    (request,) = emulator.requests
    assert request.path == f"/client/v4/accounts/{emulator.account_id}/ai/run/{MODEL}"
    assert request.json == {"input": "Hello"}
    assert binding.calls == [(MODEL, {"input": "Hello"}, {})]


async def test_a_refusal_is_a_message_with_the_code_as_a_binding_raises_it() -> None:
    binding = Emulator().binding()
    with pytest.raises(BindingError) as raised:
        await binding.run("@cf/acme/no-such-model", {"input": "Hello"})
    assert str(raised.value).startswith("AiError: 5007: ")
    error = error_from_binding(raised.value)
    assert isinstance(error, BadRequestError) and error.code == 5007


async def test_the_binding_client_retries_a_scripted_capacity_error() -> None:
    emulator = Emulator()
    emulator.enqueue(Fault.rate_limited())
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    reply = await BindingClient(emulator.binding(), sleep=sleep).create(build_request(model=MODEL, input="Hi"))

    assert reply.text == "You asked: Hi" and len(sleeps) == 1 and len(emulator.requests) == 2
    emulator.enqueue(Fault.rate_limited(), times=3)
    with pytest.raises(RateLimitError, match="binding"):
        await BindingClient(emulator.binding(), sleep=sleep).create(build_request(model=MODEL, input="Hi"))


async def test_the_queue_option_submits_a_batch(workers_ai_emulator: Emulator) -> None:
    binding = workers_ai_emulator.binding()
    queued: Any = await binding.run(MODEL, {"requests": [{"input": "One"}]}, {"queueRequest": True})
    assert queued["status"] == "queued"
    assert workers_ai_emulator.requests[-1].query.get("queueRequest") == "true"
