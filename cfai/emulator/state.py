"""Everything an emulator remembers: settings, recorded requests, the script queue, prompt caches, batch jobs.

One `EmulatorState` is shared by the ASGI app (which may run on the server's thread) and the test that drives it,
so every access goes through a lock. `reset()` returns it to how it was built.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from cfai.emulator.faults import Route, Script

StreamMode = Literal["ignore", "sse", "reject"]
DEFAULT_ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
DEFAULT_MODELS = frozenset({"@cf/openai/gpt-oss-120b", "@cf/openai/gpt-oss-20b"})
_SESSION_LIMIT = 1024  # prompt-cache sessions kept (oldest dropped), so a long-running emulator stays small
_PROMPTS_PER_SESSION = 32


@dataclass(frozen=True)
class EmulatorSettings:
    """How the emulator behaves. `stream_mode` is what `stream: true` on /responses does: "ignore" (answer JSON,
    Cloudflare today), "sse" (OpenAI's Responses event stream) or "reject" (400/5006)."""

    api_token: str = "test-token"
    account_id: str = DEFAULT_ACCOUNT_ID
    models: frozenset[str] = DEFAULT_MODELS
    stream_mode: StreamMode = "ignore"
    context_window: int = 128_000
    batch_pending_polls: int = 1  # polls of a queued batch answered "running" before the results


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


@dataclass
class _Batch:
    model: str
    responses: list[dict[str, Any]]
    usage: dict[str, int]
    polls_pending: int


class EmulatorState:
    def __init__(self, settings: EmulatorSettings | None = None) -> None:
        self._initial = settings or EmulatorSettings()
        self.settings = self._initial
        # Set by the server: closes the TCP connection of an ASGI client address; False when there is none.
        self.disconnect: Callable[[Any], bool] | None = None
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._queue: list[_Queued] = []
        self._sessions: OrderedDict[str, list[list[str]]] = OrderedDict()
        self._batches: dict[str, _Batch] = {}

    def configure(self, **changes: Any) -> None:
        """Change settings (e.g. `stream_mode="sse"`) until the next `reset()`."""
        with self._lock:
            self.settings = replace(self.settings, **changes)

    def reset(self) -> None:
        with self._lock:
            self.settings = self._initial
            self._requests.clear()
            self._queue.clear()
            self._sessions.clear()
            self._batches.clear()

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

    def add_batch(self, model: str, responses: list[dict[str, Any]], usage: dict[str, int]) -> str:
        request_id = str(uuid.uuid4())
        with self._lock:
            self._batches[request_id] = _Batch(model, responses, usage, self.settings.batch_pending_polls)
        return request_id

    def poll_batch(self, request_id: str) -> dict[str, Any] | None:
        """The batch's status (while "running") or its results; None for an unknown id."""
        with self._lock:
            batch = self._batches.get(request_id)
            if batch is None:
                return None
            if batch.polls_pending > 0:
                batch.polls_pending -= 1
                return {"status": "running", "request_id": request_id, "model": batch.model}
            return {"responses": batch.responses, "usage": batch.usage}


def _common_prefix(left: list[str], right: list[str]) -> int:
    count = 0
    for a, b in zip(left, right, strict=False):
        if a != b:
            break
        count += 1
    return count
