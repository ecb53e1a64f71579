"""The one scripted server of the test suite: an `httpx.MockTransport` handler that answers each request with the
next step of its script and records every request.

A step is an `httpx.Response`, an exception to raise (a transport failure), a function of the request, a Responses
object (a dict, answered as JSON), or the name of a file in tests/fixtures (answered as JSON). A request beyond the
script fails the test, unless `repeat_last` makes the last step answer every further request. Each adapter's
conftest builds its model on `server.clients()`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from support.dialects import responses_sse

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response] | dict[str, Any] | str


def fixture_json(name: str) -> Any:
    """A file of tests/fixtures, decoded; `.json` may be left out of the name."""
    path = FIXTURES / name
    return json.loads((path if path.suffix else path.with_suffix(".json")).read_bytes())


class ScriptedServer:
    def __init__(self, *steps: Step, repeat_last: bool = False) -> None:
        self.steps = list(steps)
        self.repeat_last = repeat_last
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.steps:
            raise AssertionError(f"unexpected request #{len(self.requests)} to {request.url}: nothing scripted")
        step = self.steps[0] if self.repeat_last and len(self.steps) == 1 else self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, str):
            step = fixture_json(step)
        if isinstance(step, dict):
            return httpx.Response(200, json=step)
        return step(request) if callable(step) else step

    def reply(self, body: dict[str, Any] | str, *, status: int = 200) -> None:
        """Queues a Responses object (or a fixture's name) as a JSON reply."""
        data = fixture_json(body) if isinstance(body, str) else body
        self.steps.append(httpx.Response(status, json=data))

    def reply_with(self, response: httpx.Response) -> None:
        self.steps.append(response)

    def sse(self, body: dict[str, Any] | str, *, piece: int = 7) -> None:
        """Queues the same reply streamed as Responses SSE in OpenAI's grammar, its text cut into small deltas."""
        data = fixture_json(body) if isinstance(body, str) else body
        headers = {"content-type": "text/event-stream"}
        self.steps.append(httpx.Response(200, content=responses_sse(data, piece=piece), headers=headers))

    @property
    def bodies(self) -> list[Any]:
        return [json.loads(request.content) for request in self.requests]

    @property
    def last_body(self) -> Any:
        return self.bodies[-1]

    def clients(self) -> dict[str, Any]:
        """`http_client` and `http_async_client` that both reach this server."""
        transport = httpx.MockTransport(self)
        return {
            "http_client": httpx.Client(transport=transport),
            "http_async_client": httpx.AsyncClient(transport=transport),
        }
