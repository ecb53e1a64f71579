"""Test seams for the LangChain adapter: a scripted Workers AI on `httpx.MockTransport`, and the emulator.

Unit tests open no sockets (Unix socketpairs stay allowed: asyncio's loops need them) and see no Cloudflare variables
from the outer environment. Tests that use the `workers_ai_emulator` fixture (cfai's pytest plugin) talk to it over
loopback HTTP instead.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_socket import disable_socket, enable_socket

from langchain_cfai import ChatWorkersAI

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
TOKEN = "cf-test-token-Lc7pQ2"


@pytest.fixture(autouse=True)
def _isolated(request: pytest.FixtureRequest) -> Iterator[None]:
    if any("emulator" in name for name in request.fixturenames):
        yield  # the emulator serves over loopback HTTP
        return
    disable_socket(allow_unix_socket=True)
    try:
        yield
    finally:
        enable_socket()


def _load_reply(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def _sse(kind: str, **data: Any) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"


def _pieces(text: str, size: int) -> list[str]:
    return [text[start : start + size] for start in range(0, len(text), size)] or [""]


def _responses_sse(reply: dict[str, Any], *, piece: int = 7) -> bytes:
    """The Responses SSE stream a streaming server would send for `reply`, its text cut into small deltas."""
    head = {key: reply[key] for key in ("id", "model", "created_at") if key in reply}
    events = [_sse("response.created", response={**head, "status": "in_progress", "output": []})]
    for index, item in enumerate(reply["output"]):
        kind = item["type"]
        if kind == "function_call":
            events.append(_sse("response.output_item.added", output_index=index, item={**item, "arguments": ""}))
            for delta in _pieces(item["arguments"], piece):
                events.append(_sse("response.function_call_arguments.delta", output_index=index, delta=delta))
            continue
        events.append(_sse("response.output_item.added", output_index=index, item={**item, "content": []}))
        delta_type = "response.reasoning_text.delta" if kind == "reasoning" else "response.output_text.delta"
        for part in item["content"]:
            for delta in _pieces(part["text"], piece):
                events.append(_sse(delta_type, output_index=index, delta=delta))
        events.append(_sse("response.output_item.done", output_index=index, item=item))
    final = "response.incomplete" if reply["status"] == "incomplete" else "response.completed"
    events.append(_sse(final, response=reply))
    return "".join(events).encode()


class ScriptedServer:
    """A fake Workers AI: answers each request with the next queued reply and records every request body.

    `reply(body)` queues a JSON reply; `sse(body)` queues the same reply as a Responses event stream.
    """

    def __init__(self) -> None:
        self._queue: deque[httpx.Response] = deque()
        self.requests: list[httpx.Request] = []

    @staticmethod
    def load(name: str) -> dict[str, Any]:
        """A Responses reply from tests/fixtures, e.g. `server.load("responses-tool-call")`."""
        return _load_reply(name)

    def reply(self, body: dict[str, Any] | str, *, status: int = 200) -> None:
        data = _load_reply(body) if isinstance(body, str) else body
        self._queue.append(httpx.Response(status, json=data))

    def reply_with(self, response: httpx.Response) -> None:
        self._queue.append(response)

    def sse(self, body: dict[str, Any] | str) -> None:
        data = _load_reply(body) if isinstance(body, str) else body
        headers = {"content-type": "text/event-stream"}
        self._queue.append(httpx.Response(200, content=_responses_sse(data), headers=headers))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self._queue:
            raise AssertionError(f"Unexpected request to {request.url}: nothing queued")
        return self._queue.popleft()

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.requests]

    @property
    def last_body(self) -> dict[str, Any]:
        return self.bodies[-1]

    def model(self, **fields: Any) -> ChatWorkersAI:
        """A ChatWorkersAI whose sync and async clients both reach this server."""
        transport = httpx.MockTransport(self.handle)
        settings: dict[str, Any] = {"api_key": TOKEN, "account_id": ACCOUNT_ID, "max_retries": 0, **fields}
        if fields.get("base_url") is None:
            # The server answers Responses JSON; on Cloudflare's URL `auto` would stream Chat Completions instead.
            settings.setdefault("stream_mode", "buffered")
        return ChatWorkersAI(
            http_client=httpx.Client(transport=transport),
            http_async_client=httpx.AsyncClient(transport=transport),
            **settings,
        )


@pytest.fixture
def server() -> ScriptedServer:
    return ScriptedServer()


class Runner:
    """Calls a runnable through its sync or its async methods, so one test body covers both."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    async def invoke(self, runnable: Any, value: Any, **kwargs: Any) -> Any:
        if self.mode == "sync":
            return runnable.invoke(value, **kwargs)
        return await runnable.ainvoke(value, **kwargs)

    async def stream(self, runnable: Any, value: Any, **kwargs: Any) -> list[Any]:
        if self.mode == "sync":
            return list(runnable.stream(value, **kwargs))
        return [chunk async for chunk in runnable.astream(value, **kwargs)]

    async def batch(self, runnable: Any, values: list[Any], **kwargs: Any) -> list[Any]:
        if self.mode == "sync":
            return list(runnable.batch(values, **kwargs))
        return list(await runnable.abatch(values, **kwargs))


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Runner:
    """Runs a test once through the sync methods and once through the async ones."""
    return Runner(str(request.param))
