"""The async batch queue (`/ai/run/{model}?queueRequest=true`): submission, delayed completion, the finished shapes.

Submitting `{"requests": [...]}` checks every item as a direct call would be checked (a bad item refuses the whole
batch, 400/5006 naming `/requests/<index>`), answers them all with the same code as a direct call, and replies
`{"status": "queued", "request_id", "model"}`. Polling with `{"request_id"}` answers `{"status": "queued"}` and then
`"running"` until the job's pending polls have passed and its pending seconds have gone by on the state's clock;
from then on every poll gets the results, so a client can resume from a saved request_id.

The finished shapes, both Cloudflare's (docs/wire.md, "The async batch queue"):

- "results" (gpt-oss): `{"results": [<Response>, ...]}` in request order; a failed item is a Response with
  `"status": "failed"` and `"error": {"message", "type", "code": "<string>"}`.
- "responses" (the generic one, served for other models): `{"responses": [{"id": <index>, "result", "success",
  "external_reference"}], "usage"}`, deliberately out of order (clients must place entries by `id`).

Every item keeps the `external_reference` it was sent with. Guesses, as Cloudflare documents neither: an unknown or
expired request_id is a 404 with code 7003 (Cloudflare's usual "not found" code), and pending polls are HTTP 200.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cfai.emulator.envelope import COULD_NOT_ROUTE, REQUEST_TOO_LARGE, CloudflareError, bad_input

ResultShape = Literal["results", "responses"]
MAX_PAYLOAD_BYTES = 10_000_000  # "Ensure that the total payload is under 10 MB" (Cloudflare's batch API page)
_BAD_INPUT_PREFIX = "AiError: Bad input: "


@dataclass(frozen=True)
class ItemFailure:
    """How an item fails: the gpt-oss shape's `error` fields (`code` is a string there)."""

    message: str = "AiError: Internal server error"
    type: str = "server_error"
    code: str = "3001"

    def as_json(self) -> dict[str, str]:
        return {"message": self.message, "type": self.type, "code": self.code}


@dataclass(frozen=True)
class Answer:
    """One item's output, as a direct call would return it, and the tokens it used."""

    result: Any
    prompt_tokens: int
    completion_tokens: int = 0


# Checks one item (raising 400/5006 for a bad one) and returns what answers it later (raising for a failed item).
ItemChecker = Callable[[Mapping[str, Any]], Callable[[], Answer]]


@dataclass(frozen=True)
class ItemOutcome:
    answer: Answer | None
    failure: ItemFailure | None
    external_reference: Any


@dataclass
class Job:
    model: str
    shape: ResultShape
    outcomes: list[ItemOutcome]
    submitted_at: float
    pending_polls: int
    pending_seconds: float
    polls: int = 0


def run_batch(requests: Any, check: ItemChecker, failures: Mapping[int, ItemFailure]) -> list[ItemOutcome]:
    """Every item checked first (a batch is accepted or refused whole), then answered; `failures` are scripted."""
    if not isinstance(requests, list) or not requests:
        raise bad_input("Error: type at '/requests' not met: must be a non-empty array")
    answerers = [_checked(check, item, f"/requests/{index}") for index, item in enumerate(requests)]
    return [
        _outcome(answerer, failures.get(index), item.get("external_reference"))
        for index, (item, answerer) in enumerate(zip(requests, answerers, strict=True))
    ]


def _checked(check: ItemChecker, item: Any, where: str) -> Callable[[], Answer]:
    if not isinstance(item, Mapping):
        raise bad_input(f"Error: type at '{where}' not met: must be object")
    try:
        return check(item)
    except CloudflareError as error:
        detail = error.message.removeprefix(_BAD_INPUT_PREFIX).removeprefix("Error: ")
        raise CloudflareError(error.status, error.code, f"{_BAD_INPUT_PREFIX}Error at '{where}': {detail}") from None


def _outcome(answerer: Callable[[], Answer], scripted: ItemFailure | None, reference: Any) -> ItemOutcome:
    if scripted is not None:
        return ItemOutcome(None, scripted, reference)
    try:
        return ItemOutcome(answerer(), None, reference)
    except CloudflareError as error:  # what a direct call would refuse after checking (a context overflow, ...)
        return ItemOutcome(None, ItemFailure(error.message, "invalid_request_error", str(error.code)), reference)


def check_payload_size(size: int) -> None:
    if size >= MAX_PAYLOAD_BYTES:
        raise CloudflareError(
            413, REQUEST_TOO_LARGE, f"AiError: Request too large: a batch must be under 10 MB, got {size:,} bytes"
        )


def unknown_request(request_id: Any) -> CloudflareError:
    return CloudflareError(
        404, COULD_NOT_ROUTE, f"AiError: no queued batch with request_id {request_id!r} (unknown, or expired)"
    )


def new_request_id() -> str:
    return str(uuid.uuid4())


def poll_result(job: Job, request_id: str, now: float) -> tuple[bool, dict[str, Any]]:
    """(finished?, the `result` to send) for one more poll of `job` (the caller counts the poll)."""
    waited = now - job.submitted_at
    if job.polls <= job.pending_polls or waited < job.pending_seconds:
        status = "queued" if job.polls <= 1 else "running"
        return False, {"status": status, "request_id": request_id, "model": job.model}
    return True, finished(job, request_id)


def finished(job: Job, request_id: str) -> dict[str, Any]:
    if job.shape == "results":
        return {
            "results": [_response_entry(index, outcome, job, request_id) for index, outcome in enumerate(job.outcomes)]
        }
    entries = [_generic_entry(index, outcome) for index, outcome in enumerate(job.outcomes)]
    return {"responses": [entries[index] for index in out_of_order(len(entries), request_id)], "usage": _usage(job)}


def out_of_order(count: int, seed: str) -> list[int]:
    """A deterministic order of `count` indices that is never the request order (for two or more)."""
    order = sorted(range(count), key=lambda index: hashlib.blake2b(f"{seed}:{index}".encode()).digest())
    return order[::-1] if order == sorted(order) else order


def _response_entry(index: int, outcome: ItemOutcome, job: Job, request_id: str) -> dict[str, Any]:
    reference = {} if outcome.external_reference is None else {"external_reference": outcome.external_reference}
    if outcome.answer is not None:
        return {**outcome.answer.result, **reference}
    failure = outcome.failure or ItemFailure()
    return {
        "id": "resp_"
        + hashlib.blake2b(f"{request_id}:{index}".encode(), digest_size=16).hexdigest(),  # same every poll
        "object": "response",
        "model": job.model,
        "status": "failed",
        "output": [],
        "usage": None,
        "error": failure.as_json(),
        **reference,
    }


def _generic_entry(index: int, outcome: ItemOutcome) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": index,
        "result": outcome.answer.result if outcome.answer is not None else None,
        "success": outcome.answer is not None,
        "external_reference": outcome.external_reference,
    }
    if outcome.failure is not None:
        entry["error"] = outcome.failure.as_json()
    return entry


def _usage(job: Job) -> dict[str, int]:
    answers: Sequence[Answer] = [outcome.answer for outcome in job.outcomes if outcome.answer is not None]
    prompt = sum(answer.prompt_tokens for answer in answers)
    completion = sum(answer.completion_tokens for answer in answers)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
