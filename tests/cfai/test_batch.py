"""The batch queue client: submission, polling with backoff and a timeout, both finished shapes, per-item errors.

Every test runs the sync and the async queue against the same scripted server (`httpx.MockTransport`); sleeps are
recorded, never taken, and the clock is a counter the sleeps advance.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from cfai import AsyncWorkersAIClient, WorkersAIClient
from cfai.batch import (
    MAX_PAYLOAD_BYTES,
    AsyncBatchQueue,
    BatchItemError,
    BatchPendingError,
    BatchQueue,
    Polling,
    batch_outputs,
    raise_first_failure,
)
from cfai.batch_progress import ProgressLine
from cfai.binding import BindingClient
from cfai.emulator import Emulator
from cfai.errors import NotFoundError, ResponseFailedError, ResponseFormatError, WorkersAIError
from cfai.wire import Reply, build_request

ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
MODEL = "@cf/openai/gpt-oss-120b"
RUN_PATH = f"/client/v4/accounts/{ACCOUNT_ID}/ai/run/{MODEL}"
REQUEST_ID = "5b0c8a0e-2f5e-4a52-9d56-6f1f2a3b4c5d"


def response(text: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"resp_{text}",
        "object": "response",
        "model": MODEL,
        "status": "completed",
        "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}],
        "usage": {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
        **fields,
    }


def envelope(result: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"result": result, "success": True, "errors": [], "messages": []})


class QueueServer:
    """Answers one submission with REQUEST_ID, then `pending` pending polls, then `finished` on every poll."""

    def __init__(self, finished: Any, pending: list[str] | None = None, pending_status: int = 200) -> None:
        self.finished = finished
        self.pending = list(pending or [])
        self.pending_status = pending_status
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = json.loads(request.content)
        assert request.url.path == RUN_PATH
        if request.url.params.get("queueRequest") == "true":
            return envelope({"status": "queued", "request_id": REQUEST_ID, "model": MODEL})
        assert body == {"request_id": REQUEST_ID}
        if self.pending:
            status = self.pending.pop(0)
            return envelope({"status": status, "request_id": REQUEST_ID}, self.pending_status)
        return envelope(self.finished)

    @property
    def submitted(self) -> list[Any]:
        return [json.loads(r.content) for r in self.requests if r.url.params.get("queueRequest") == "true"]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay


def run_queue(kind: str, server: Callable[[httpx.Request], httpx.Response], clock: Clock, **options: Any) -> Any:
    """`queue.run(...)` or `await queue.run(...)` with `options`; `bodies` default to three prompts."""
    default = [build_request(model=MODEL, input=f"q{i}") for i in range(3)]
    bodies = options.pop("bodies") if "bodies" in options else default
    queue_options = {key: options.pop(key) for key in ("polling", "progress") if key in options}
    transport = httpx.MockTransport(server)
    settings: dict[str, Any] = {"account_id": ACCOUNT_ID, "api_token": "cf-test-token", "max_retries": 0}
    if kind == "sync":
        client = WorkersAIClient(http_client=httpx.Client(transport=transport), **settings)
        return BatchQueue(client, sleep=clock.sleep, clock=clock, **queue_options).run(bodies, **options)

    async def sleep(delay: float) -> None:
        clock.sleep(delay)

    async def go() -> Any:
        client = AsyncWorkersAIClient(http_client=httpx.AsyncClient(transport=transport), **settings)
        queue = AsyncBatchQueue(client, sleep=sleep, clock=clock, **queue_options)
        return await queue.run(bodies, **options)

    return asyncio.run(go())


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def texts(outcomes: list[Any]) -> list[Any]:
    return [outcome.text if isinstance(outcome, Reply) else type(outcome).__name__ for outcome in outcomes]


def test_submits_the_bodies_without_model_then_polls_with_backoff(kind: str) -> None:
    server = QueueServer({"results": [response("a"), response("b"), response("c")]}, ["queued", "running", "running"])
    clock = Clock()
    outcomes = run_queue(kind, server, clock, polling=Polling(interval=2, backoff=1.5, max_interval=4))
    assert texts(outcomes) == ["a", "b", "c"]
    assert server.submitted == [{"requests": [{"input": "q0"}, {"input": "q1"}, {"input": "q2"}]}]
    assert clock.sleeps == [2.0, 3.0, 4.0]  # backoff, capped at max_interval
    assert all(outcome.cost_usd for outcome in outcomes)  # finished like direct replies: priced


def test_a_pending_poll_with_another_success_status_is_still_pending(kind: str) -> None:
    server = QueueServer({"results": [response("a"), response("b"), response("c")]}, ["running"], pending_status=202)
    assert texts(run_queue(kind, server, Clock())) == ["a", "b", "c"]


def test_failed_items_keep_their_slot_in_the_gpt_oss_shape(kind: str) -> None:
    failed = {"id": "resp_x", "status": "failed", "output": [], "error": {"message": "AiError: boom", "code": "3001"}}
    server = QueueServer({"results": [response("a"), failed, response("c")]})
    outcomes = run_queue(kind, server, Clock())
    assert texts(outcomes) == ["a", "ResponseFailedError", "c"]
    assert outcomes[1].code == "3001" and "Item 1" in str(outcomes[1]) and "AiError: boom" in str(outcomes[1])


def test_the_generic_shape_is_placed_by_id(kind: str) -> None:
    entries = [
        {"id": 2, "result": response("c"), "success": True},
        {"id": 0, "result": response("a"), "success": True},
        {"id": 1, "result": None, "success": False, "error": {"message": "no capacity"}},
    ]
    outcomes = run_queue(kind, QueueServer({"responses": entries, "usage": {}}), Clock())
    assert texts(outcomes) == ["a", "ResponseFailedError", "c"]
    assert "no capacity" in str(outcomes[1])


def test_an_item_the_generic_shape_leaves_out_is_an_error_in_its_slot(kind: str) -> None:
    entries = [{"id": 0, "result": response("a"), "success": True}, {"id": 2, "result": response("c")}]
    outcomes = run_queue(kind, QueueServer({"responses": entries}), Clock())
    assert texts(outcomes) == ["a", "ResponseFormatError", "c"]


def test_replies_leave_through_the_same_exit_as_direct_calls(kind: str) -> None:
    server = QueueServer({"results": [response("one. two"), response("three"), response("two")]})
    assert texts(run_queue(kind, server, Clock(), stop=["two"])) == ["one. ", "three", ""]


def test_a_result_count_that_does_not_match_the_inputs_is_refused(kind: str) -> None:
    with pytest.raises(ResponseFormatError, match="2 results for 3 requests"):
        run_queue(kind, QueueServer({"results": [response("a"), response("b")]}), Clock())


def test_a_failed_job_raises(kind: str) -> None:
    server = QueueServer({}, ["failed"])
    with pytest.raises(ResponseFailedError, match=f"{REQUEST_ID} as 'failed'"):
        run_queue(kind, server, Clock())


def test_the_timeout_ends_the_wait_with_the_request_id_to_resume_from(kind: str) -> None:
    server = QueueServer({"results": []}, ["running"] * 100)
    clock = Clock()
    with pytest.raises(BatchPendingError) as raised:
        run_queue(kind, server, clock, polling=Polling(interval=10, backoff=2, max_interval=60, timeout=100))
    assert raised.value.request_id == REQUEST_ID and REQUEST_ID in str(raised.value)
    assert clock.sleeps == [10, 20, 40] and clock.now <= 100


def test_resuming_from_a_request_id_only_polls(kind: str) -> None:
    server = QueueServer({"results": [response("a"), response("b"), response("c")]}, ["running"])
    outcomes = run_queue(kind, server, Clock(), request_id=REQUEST_ID)
    assert texts(outcomes) == ["a", "b", "c"]
    assert server.submitted == [] and len(server.requests) == 2


def test_an_unknown_request_id_is_the_servers_error(kind: str) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        errors = [{"code": 7003, "message": "no queued batch"}]
        return httpx.Response(404, json={"result": None, "success": False, "errors": errors, "messages": []})

    with pytest.raises(NotFoundError):
        run_queue(kind, server, Clock(), request_id="gone")


def test_a_batch_over_10_mb_is_refused_before_anything_is_sent(kind: str) -> None:
    server = QueueServer({})
    bodies = [build_request(model=MODEL, input="x" * 1_000_000) for _ in range(11)]
    with pytest.raises(ValueError, match=r"11\.0 MB.*under 10 MB.*about 8 of these requests"):
        run_queue(kind, server, Clock(), bodies=bodies)
    assert server.requests == [] and MAX_PAYLOAD_BYTES == 10_000_000


def test_one_batch_goes_to_one_model(kind: str) -> None:
    bodies = [build_request(model=MODEL, input="a"), build_request(model="@cf/openai/gpt-oss-20b", input="b")]
    with pytest.raises(ValueError, match="one model"):
        run_queue(kind, QueueServer({}), Clock(), bodies=bodies)


def test_no_inputs_send_nothing(kind: str) -> None:
    server = QueueServer({})
    assert run_queue(kind, server, Clock(), bodies=[]) == []
    assert server.requests == []


def test_batch_outputs_keep_failures_in_their_slots_and_the_first_one_raises_naming_its_index() -> None:
    failure = ResponseFailedError("boom")
    outcomes: list[Reply | WorkersAIError] = [Reply(id="a", model=MODEL, status="completed", text="a"), failure]
    outputs = batch_outputs(outcomes, lambda index, reply: (index, reply.text))
    assert outputs == [(0, "a"), failure]
    for checked in (outcomes, outputs):  # raw outcomes, or once mapped
        with pytest.raises(BatchItemError, match="Item 1 of the queued batch failed: boom") as raised:
            raise_first_failure(checked)
        assert raised.value.index == 1 and raised.value.error is failure and raised.value.__cause__ is failure
    raise_first_failure([(0, "a")])  # nothing failed: nothing raised


async def test_through_a_workers_binding_the_queue_is_run_with_its_queue_option(
    workers_ai_emulator: Emulator,
) -> None:
    workers_ai_emulator.fail_batch_items([1], "AiError: Capacity temporarily exceeded")
    binding = workers_ai_emulator.binding()
    queue = AsyncBatchQueue(BindingClient(binding), polling=Polling(interval=0), progress=False)
    bodies = [build_request(model=MODEL, input=text) for text in ("One", "Two", "Three")]

    outcomes = await queue.run(bodies)

    assert [texts(outcomes)[index] for index in (0, 2)] == ["You asked: One", "You asked: Three"]
    assert isinstance(outcomes[1], ResponseFailedError) and "Capacity" in str(outcomes[1])
    (submitted, *polls) = binding.calls
    assert submitted == (
        MODEL,
        {"requests": [{"input": text} for text in ("One", "Two", "Three")]},
        {"queueRequest": True},
    )
    request_id = polls[0][1]["request_id"]
    assert polls == [(MODEL, {"request_id": request_id}, {})] * 3  # queued, running, then the results


async def test_through_a_binding_a_batch_is_handed_back_and_resumed_by_request_id(
    workers_ai_emulator: Emulator,
) -> None:
    client = BindingClient(workers_ai_emulator.binding())
    bodies = [build_request(model=MODEL, input="Later")]
    with pytest.raises(BatchPendingError) as pending:
        await AsyncBatchQueue(client, polling=Polling(timeout=0), progress=False).run(bodies)

    resumed = AsyncBatchQueue(client, polling=Polling(interval=0), progress=False)
    (reply,) = await resumed.run(bodies, request_id=pending.value.request_id)
    assert isinstance(reply, Reply) and reply.text == "You asked: Later"
    with pytest.raises(NotFoundError, match="binding"):
        await resumed.run(bodies, request_id="no-such-batch")


class Terminal(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_the_progress_line_shows_only_on_a_terminal_unless_asked() -> None:
    clock = Clock()
    shown = Terminal(tty=True)
    line = ProgressLine(REQUEST_ID, None, clock, shown)
    line.pending("queued")
    clock.now = 12
    line.done([Reply(id="a", model=MODEL, status="completed"), ResponseFailedError("x")])
    assert shown.getvalue().split("\r")[1:] == [
        "Workers AI batch 5b0c8a0e: queued... (0 s)\x1b[K",
        "Workers AI batch 5b0c8a0e: 2 results, 1 failed (12 s)\x1b[K\n",
    ]
    for tty, enabled in ((False, None), (True, False)):
        hidden = Terminal(tty)
        ProgressLine(REQUEST_ID, enabled, clock, hidden).pending("queued")
        assert hidden.getvalue() == ""
    forced = Terminal(tty=False)
    line = ProgressLine(REQUEST_ID, True, clock, forced)
    line.pending("running")
    line.close()
    assert forced.getvalue().endswith("\n")
