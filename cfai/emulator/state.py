"""Everything an emulator remembers: settings, recorded requests, the script queue, prompt caches, batch jobs.

One `EmulatorState` is shared by the ASGI app (which may run on the server's thread) and the test that drives it,
so every access goes through a lock. `reset()` returns it to how it was built. `clock` (seconds, monotonic) times
batch jobs; a test may replace it to make time pass without waiting.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from cfai.catalog import EMBEDDING_MODELS
from cfai.emulator.faults import Route, Script
from cfai.emulator.queue import ItemFailure, ItemOutcome, Job, ResultShape, new_request_id, poll_result

ResponsesStreaming = Literal["ignore", "sse", "reject"]
DEFAULT_ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
DEFAULT_MODELS = frozenset({"@cf/openai/gpt-oss-120b", "@cf/openai/gpt-oss-20b"})
_SESSION_LIMIT = 1024  # prompt-cache sessions kept (oldest dropped), so a long-running emulator stays small
_PROMPTS_PER_SESSION = 32
_JOB_LIMIT = 1024  # batch jobs kept (oldest dropped)


@dataclass(frozen=True)
class EmulatorSettings:
    """How the emulator behaves.

    `stream_mode` is what `stream: true` on /responses does: "ignore" (answer JSON, Cloudflare today), "sse"
    (OpenAI's Responses event stream) or "reject" (400/5006). `models` are the chat models served,
    `embedding_models` the embedding models (names from `cfai.catalog.EMBEDDING_MODELS`).

    A queued batch is pending for its first `batch_pending_polls` polls ("queued", then "running") and until
    `batch_pending_seconds` have passed; pending polls answer HTTP `batch_pending_status`. Results can be fetched
    again until `batch_expiry_seconds` (None: until reset). `batch_shapes` picks a model's finished shape,
    "results" (the default for chat models) or "responses" (the default for the others).
    """

    api_token: str = "test-token"
    account_id: str = DEFAULT_ACCOUNT_ID
    models: frozenset[str] = DEFAULT_MODELS
    embedding_models: frozenset[str] = frozenset(EMBEDDING_MODELS)
    stream_mode: ResponsesStreaming = "ignore"
    context_window: int = 128_000
    batch_pending_polls: int = 2
    batch_pending_seconds: float = 0.0
    batch_pending_status: int = 200
    batch_expiry_seconds: float | None = None
    batch_shapes: Mapping[str, ResultShape] = field(default_factory=dict)

    def batch_shape(self, model: str) -> ResultShape:
        return self.batch_shapes.get(model) or ("results" if model in self.models else "responses")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the emulator received it; `json` is None when the body is not JSON."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    json: Any
    body: bytes = field(repr=False)
    route: Route | None


@dataclass
class _Queued:
    script: Script
    route: Route | None
    remaining: int


class EmulatorState:
    def __init__(self, settings: EmulatorSettings | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._initial = settings or EmulatorSettings()
        self._initial_clock = clock
        self.settings = self._initial
        self.clock = clock
        # Set by the server: closes the TCP connection of an ASGI client address; False when there is none.
        self.disconnect: Callable[[Any], bool] | None = None
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._queue: list[_Queued] = []
        self._sessions: OrderedDict[str, list[list[str]]] = OrderedDict()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._item_failures: dict[int, ItemFailure] = {}

    def configure(self, **changes: Any) -> None:
        """Change settings (e.g. `stream_mode="sse"`) until the next `reset()`."""
        with self._lock:
            self.settings = replace(self.settings, **changes)

    def reset(self) -> None:
        with self._lock:
            self.settings = self._initial
            self.clock = self._initial_clock
            self._requests.clear()
            self._queue.clear()
            self._sessions.clear()
            self._jobs.clear()
            self._item_failures.clear()

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def enqueue(self, script: Script, route: Route | None = None, times: int = 1) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._queue.append(_Queued(script, route, times))

    def take_script(self, route: Route) -> Script | None:
        """The first queued script for `route` (or for any route), consumed once."""
        with self._lock:
            for queued in self._queue:
                if queued.route in (None, route):
                    queued.remaining -= 1
                    if queued.remaining == 0:
                        self._queue.remove(queued)
                    return queued.script
        return None

    @property
    def pending_scripts(self) -> int:
        with self._lock:
            return sum(queued.remaining for queued in self._queue)

    def cached_tokens(self, session: str, units: list[tuple[str, int]]) -> int:
        """Tokens of the longest run of leading units shared with an earlier prompt of the same session."""
        keys = [key for key, _ in units]
        with self._lock:
            earlier = self._sessions.pop(session, [])
            shared = max((_common_prefix(keys, previous) for previous in earlier), default=0)
            self._sessions[session] = [*earlier, keys][-_PROMPTS_PER_SESSION:]
            while len(self._sessions) > _SESSION_LIMIT:
                self._sessions.popitem(last=False)
        return sum(tokens for _, tokens in units[:shared])

    def fail_batch_items(self, items: Iterable[int], failure: ItemFailure) -> None:
        """Script the next queued batch: its items at these (0-based) indices fail with `failure`."""
        with self._lock:
            self._item_failures.update(dict.fromkeys(items, failure))

    def take_item_failures(self) -> dict[int, ItemFailure]:
        with self._lock:
            failures, self._item_failures = self._item_failures, {}
        return failures

    def new_job(self, model: str, outcomes: list[ItemOutcome]) -> str:
        """Store a job for the batch just answered; its request_id."""
        request_id = new_request_id()
        settings = self.settings
        job = Job(
            model=model,
            shape=settings.batch_shape(model),
            outcomes=outcomes,
            submitted_at=self.clock(),
            pending_polls=settings.batch_pending_polls,
            pending_seconds=settings.batch_pending_seconds,
        )
        with self._lock:
            self._jobs[request_id] = job
            while len(self._jobs) > _JOB_LIMIT:
                self._jobs.popitem(last=False)
        return request_id

    def poll_job(self, request_id: str, model: str) -> tuple[bool, dict[str, Any]] | None:
        """(finished?, result) for one more poll; None for an unknown or expired job, or one of another model."""
        now = self.clock()
        expiry = self.settings.batch_expiry_seconds
        with self._lock:
            job = self._jobs.get(request_id)
            if job is None or job.model != model:
                return None
            if expiry is not None and now - job.submitted_at > expiry:
                del self._jobs[request_id]
                return None
            job.polls += 1
            return poll_result(job, request_id, now)


def _common_prefix(left: list[str], right: list[str]) -> int:
    count = 0
    for a, b in zip(left, right, strict=False):
        if a != b:
            break
        count += 1
    return count
