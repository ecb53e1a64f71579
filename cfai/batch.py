"""Workers AI's async batch queue: submit many Responses requests at once, poll for the results, map them back.

    queue = BatchQueue(client)
    request_id = queue.queue(bodies)                      # one POST .../ai/run/{model}?queueRequest=true
    replies = queue.queued_results(request_id, bodies)    # polls with backoff until done; a Reply or an error each

The wire (docs/wire.md, "The async batch queue"): the submission `{"requests": [<body without model>, ...]}` answers
a `request_id`; polling POSTs `{"request_id"}` to the same route. A result that carries a `status` is still pending
("queued", "running"); a finished one comes in one of two shapes, both accepted: `results` (gpt-oss, in request
order, a failed item carries `error`) or `responses` (generic, entries placed by their `id`, `success: false` for a
failed item). Every item becomes a `Reply` finished exactly like a direct call's (`ReplyFinisher`: forced tool calls
recovered, stop strings, cost), or the `WorkersAIError` that says why it failed, in its own slot.

Resuming: a saved `request_id` is all the server needs, but mapping its results back to framework objects needs
the same request bodies again (their tools and stop strings decide how a reply is finished), so
`queued_results(request_id, bodies)` takes both. Polling is idempotent: finished results can be fetched again.

Cloudflare takes under 10 MB per submission. A larger batch is refused here, before anything is sent, with the
size and a number of items per batch that would fit; splitting is left to the caller, who then holds one
`request_id` per batch to resume from.

`BatchQueue` and `AsyncBatchQueue` are mirror images around the same pure steps; sleeping and the clock are
injectable, so tests take no time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from cfai.batch_progress import ProgressLine
from cfai.binding import BindingClient
from cfai.errors import APITimeoutError, ResponseFailedError, ResponseFormatError, WorkersAIError
from cfai.wire import lenient
from cfai.wire.finish import ReplyFinisher
from cfai.wire.reply import reply_from_json
from cfai.wire.request import encode_body
from cfai.wire.types import Reply

if TYPE_CHECKING:
    from cfai.transport import AsyncWorkersAIClient, WorkersAIClient

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "AsyncBatchQueue",
    "BatchItemError",
    "BatchPendingError",
    "BatchQueue",
    "Polling",
    "batch_outputs",
    "raise_first_failure",
]

MAX_PAYLOAD_BYTES = 10_000_000  # "under 10 MB" per submission (Cloudflare's batch API page)
_FAILED_JOB_STATUSES = frozenset({"failed", "error", "cancelled", "canceled"})

Outcome = Reply | WorkersAIError
T = TypeVar("T")


@dataclass(frozen=True)
class Polling:
    """How to wait for a batch: `interval` seconds first, growing by `backoff` to at most `max_interval`, and no
    longer than `timeout` seconds in all (then `APITimeoutError`, naming the request_id to resume from)."""

    interval: float = 2.0
    backoff: float = 1.5
    max_interval: float = 30.0
    timeout: float = 3600.0

    def delay(self, polls: int) -> float:
        return float(min(self.interval * self.backoff**polls, self.max_interval))


class BatchItemError(WorkersAIError):
    """An item of a queued batch failed; `index` is its position in the inputs, `error` (also the cause) why."""

    def __init__(self, index: int, error: WorkersAIError) -> None:
        super().__init__(f"Item {index} of the queued batch failed: {error}")
        self.index = index
        self.error = error


class BatchPendingError(APITimeoutError):
    """The batch was still pending when the polling timeout ran out; its results stay on Workers AI, and
    `request_id` (with the same inputs) fetches them later."""

    def __init__(self, message: str, *, request_id: str) -> None:
        super().__init__(message)
        self.request_id = request_id


# The pure steps.


def queue_model(bodies: Sequence[Mapping[str, Any]]) -> str:
    """The one model every body names (the queue's route is per model)."""
    models = {str(body.get("model") or "") for body in bodies}
    if len(models) != 1 or "" in models:
        raise ValueError(f"A queued batch goes to one model; the requests name {sorted(models)}.")
    return models.pop()


def queue_payload(bodies: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The submission body, refused when it is over Cloudflare's 10 MB."""
    if not bodies:
        raise ValueError("A queued batch needs at least one request.")
    payload = {"requests": [{key: value for key, value in body.items() if key != "model"} for body in bodies]}
    size = len(encode_body(payload))
    if size >= MAX_PAYLOAD_BYTES:
        fitting = max(1, len(bodies) * MAX_PAYLOAD_BYTES // size - 1)
        raise ValueError(
            f"The batch is {size / 1e6:.1f} MB; Workers AI's queue takes under 10 MB per submission. Queue the "
            f"inputs in smaller batches (about {fitting} of these requests each) and keep each request_id."
        )
    return payload


def _result_of(data: Any) -> Any:
    return data.get("result") if isinstance(data, dict) and "result" in data else data


def request_id_from(data: Any) -> str:
    request_id = lenient.optional_text(lenient.mapping(_result_of(data)).get("request_id"))
    if request_id is None:
        raise ResponseFormatError(f"The batch queue answered without a request_id: {str(data)[:200]}")
    return request_id


def pending_status(data: Any, request_id: str) -> str | None:
    """The status of a batch still pending, None once its results are there; raises for a failed job."""
    result = lenient.mapping(_result_of(data))
    if "results" in result or "responses" in result:
        return None
    status = lenient.text(result.get("status"))
    if not status:
        raise ResponseFormatError(f"The batch queue answered neither a status nor results: {str(data)[:200]}")
    if status in _FAILED_JOB_STATUSES:
        raise ResponseFailedError(f"Workers AI reports the queued batch {request_id} as {status!r}.", body=data)
    return status


def _entry_error(entry: Any, index: int) -> WorkersAIError:
    detail = lenient.mapping(lenient.mapping(entry).get("error"))
    message = lenient.text(detail.get("message")) or "no reason given"
    code = detail.get("code")
    return ResponseFailedError(
        f"Workers AI reported item {index} of the batch as failed: {message}",
        code=code if isinstance(code, (str, int)) and not isinstance(code, bool) else None,
        body=entry,
    )


def _read(entry: Any, index: int) -> Reply | WorkersAIError:
    try:
        return reply_from_json(entry)
    except ResponseFailedError as error:
        return ResponseFailedError(f"Item {index}: {error.message}", code=error.code, body=error.body)
    except WorkersAIError as error:
        return error


def _placed(entries: list[Any], count: int) -> list[Reply | WorkersAIError]:
    """The generic shape's entries, each placed by its `id` (they may come in any order)."""
    slots: list[Reply | WorkersAIError | None] = [None] * count
    for entry in entries:
        index = lenient.whole_number(lenient.mapping(entry).get("id"))
        if index is None or not 0 <= index < count:
            continue
        ok = entry.get("success") is not False and not isinstance(entry.get("error"), dict)
        slots[index] = _read(entry.get("result"), index) if ok else _entry_error(entry, index)
    return [
        slot if slot is not None else ResponseFormatError(f"The batch returned no result for item {index}.")
        for index, slot in enumerate(slots)
    ]


def outcomes_from(data: Any, count: int) -> list[Reply | WorkersAIError]:
    """One Reply or error per request, in request order, from a finished batch of `count` requests."""
    result = lenient.mapping(_result_of(data))
    if "responses" in result:
        return _placed(lenient.items(result["responses"]), count)
    entries = lenient.items(result.get("results"))
    if len(entries) != count:
        raise ResponseFormatError(
            f"The batch returned {len(entries)} results for {count} requests: are these the requests this "
            "request_id was queued with?"
        )
    return [_read(entry, index) for index, entry in enumerate(entries)]


def finished(outcomes: list[Outcome], bodies: Sequence[Mapping[str, Any]], stop: Sequence[str] | None) -> list[Outcome]:
    """Each reply through the one exit, as a direct call with its body would leave it."""
    return [
        outcome if isinstance(outcome, WorkersAIError) else ReplyFinisher(body, stop).finish(outcome)
        for outcome, body in zip(outcomes, bodies, strict=True)
    ]


def batch_outputs(outcomes: Sequence[Outcome], convert: Callable[[int, Reply], T]) -> list[T | WorkersAIError]:
    """Framework objects in input order, each failed item's error in its slot. The adapters end each item's
    callback run with its output before `raise_first_failure` decides whether the call raises."""
    return [
        outcome if isinstance(outcome, WorkersAIError) else convert(index, outcome)
        for index, outcome in enumerate(outcomes)
    ]


def raise_first_failure(outcomes: Sequence[object]) -> None:
    """Raises `BatchItemError` for the first item whose outcome is an error (raw, or already mapped by
    `batch_outputs`), naming its index: what a queued call without `return_exceptions` does."""
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, WorkersAIError):
            raise BatchItemError(index, outcome) from outcome


def _timed_out(request_id: str, status: str, polling: Polling) -> BatchPendingError:
    return BatchPendingError(
        f"The queued batch {request_id} was still {status!r} after waiting up to {polling.timeout:g} s. Its "
        f"results stay on Workers AI: fetch them later with request_id={request_id!r} and the same inputs.",
        request_id=request_id,
    )


class _Wait:
    """One batch being waited for: what each poll's answer means, and how long to wait before the next poll."""

    def __init__(
        self,
        request_id: str,
        bodies: Sequence[Mapping[str, Any]],
        stop: Sequence[str] | None,
        polling: Polling,
        line: ProgressLine,
        clock: Callable[[], float],
    ) -> None:
        self.request_id, self.bodies, self.stop = request_id, bodies, stop
        self.polling, self.line, self.clock = polling, line, clock
        self.started = clock()
        self.polls = 0

    def answer(self, data: Any) -> list[Outcome] | float:
        """The outcomes once the batch is done, else the seconds to wait before polling again."""
        status = pending_status(data, self.request_id)
        if status is None:
            outcomes = finished(outcomes_from(data, len(self.bodies)), self.bodies, self.stop)
            self.line.done(outcomes)
            return outcomes
        self.line.pending(status)
        delay = self.polling.delay(self.polls)
        # A timeout of 0 polls once and returns the request_id at once (in the error): submit now, collect later.
        if self.clock() - self.started + delay >= self.polling.timeout:
            self.line.close()
            raise _timed_out(self.request_id, status, self.polling)
        self.polls += 1
        return delay


# The I/O shells.


class BatchQueue:
    """The batch queue over a synchronous client. `progress`: a status line on stderr (None: only on a terminal)."""

    def __init__(
        self,
        client: WorkersAIClient,
        *,
        polling: Polling | None = None,
        progress: bool | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.polling = polling or Polling()
        self.progress = progress
        self._sleep = sleep
        self._clock = clock

    def queue(self, bodies: Sequence[Mapping[str, Any]]) -> str:
        """Submits the requests as one batch; returns its request_id (save it to resume later)."""
        url = self.client.config.run_url(queue_model(bodies))
        return request_id_from(self.client.post(url + "?queueRequest=true", queue_payload(bodies)))

    def queued_results(
        self, request_id: str, bodies: Sequence[Mapping[str, Any]], *, stop: Sequence[str] | None = None
    ) -> list[Outcome]:
        """Polls until the batch is done; one finished Reply or error per body, in order."""
        url = self.client.config.run_url(queue_model(bodies))
        line = ProgressLine(request_id, self.progress, self._clock)
        wait = _Wait(request_id, bodies, stop, self.polling, line, self._clock)
        while True:
            answer = wait.answer(self.client.post(url, {"request_id": request_id}))
            if isinstance(answer, list):
                return answer
            self._sleep(answer)

    def run(
        self, bodies: Sequence[Mapping[str, Any]], *, stop: Sequence[str] | None = None, request_id: str | None = None
    ) -> list[Outcome]:
        """`queue` then `queued_results`; with a `request_id`, only the second (resuming a saved batch)."""
        if not bodies:
            return []
        return self.queued_results(request_id or self.queue(bodies), bodies, stop=stop)


class _RestQueue:
    """The queue's REST route: submissions POST to `/ai/run/{model}?queueRequest=true`, polls POST `{"request_id"}`
    to `/ai/run/{model}` (answers inside the v4 envelope)."""

    def __init__(self, client: AsyncWorkersAIClient) -> None:
        self.client = client

    async def submit(self, model: str, payload: Mapping[str, Any]) -> Any:
        return await self.client.post(self.client.config.run_url(model) + "?queueRequest=true", payload)

    async def poll(self, model: str, request_id: str) -> Any:
        return await self.client.post(self.client.config.run_url(model), {"request_id": request_id})


class _BindingQueue:
    """The same queue through a Worker's AI binding, as Cloudflare's batch API documents it for Workers:
    `run(model, payload, {queueRequest: true})` submits, `run(model, {request_id})` polls, and the answers are the
    REST route's without the envelope."""

    def __init__(self, client: BindingClient) -> None:
        self.client = client

    async def submit(self, model: str, payload: Mapping[str, Any]) -> Any:
        return await self.client.run({"model": model, **payload}, options={"queueRequest": True})

    async def poll(self, model: str, request_id: str) -> Any:
        return await self.client.run({"model": model, "request_id": request_id})


class AsyncBatchQueue:
    """The mirror of BatchQueue over an asynchronous client: the REST client, or a Worker's binding client."""

    def __init__(
        self,
        client: AsyncWorkersAIClient | BindingClient,
        *,
        polling: Polling | None = None,
        progress: bool | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self._route = _BindingQueue(client) if isinstance(client, BindingClient) else _RestQueue(client)
        self.polling = polling or Polling()
        self.progress = progress
        self._sleep = sleep
        self._clock = clock

    async def queue(self, bodies: Sequence[Mapping[str, Any]]) -> str:
        return request_id_from(await self._route.submit(queue_model(bodies), queue_payload(bodies)))

    async def queued_results(
        self, request_id: str, bodies: Sequence[Mapping[str, Any]], *, stop: Sequence[str] | None = None
    ) -> list[Outcome]:
        model = queue_model(bodies)
        line = ProgressLine(request_id, self.progress, self._clock)
        wait = _Wait(request_id, bodies, stop, self.polling, line, self._clock)
        while True:
            answer = wait.answer(await self._route.poll(model, request_id))
            if isinstance(answer, list):
                return answer
            await self._sleep(answer)

    async def run(
        self, bodies: Sequence[Mapping[str, Any]], *, stop: Sequence[str] | None = None, request_id: str | None = None
    ) -> list[Outcome]:
        if not bodies:
            return []
        return await self.queued_results(request_id or await self.queue(bodies), bodies, stop=stop)
