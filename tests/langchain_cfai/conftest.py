"""Test seams for the LangChain adapter: a scripted Workers AI on `httpx.MockTransport`, and the emulator.

Unit tests open no sockets (Unix socketpairs stay allowed: asyncio's loops need them) and see no Cloudflare variables
from the outer environment. Tests that use the `workers_ai_emulator` fixture (cfai's pytest plugin) talk to it over
loopback HTTP instead.
"""

from __future__ import annotations

from typing import Any

import pytest
import support.server
from support.server import fixture_json

from langchain_cfai import ChatWorkersAI

ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
TOKEN = "cf-test-token-Lc7pQ2"


class ScriptedServer(support.server.ScriptedServer):
    """The suite's scripted server (`support.server`), with a ChatWorkersAI that reaches it."""

    @staticmethod
    def load(name: str) -> dict[str, Any]:
        """A Responses reply from tests/fixtures, e.g. `server.load("responses-tool-call")`."""
        data: dict[str, Any] = fixture_json(name)
        return data

    def model(self, **fields: Any) -> ChatWorkersAI:
        """A ChatWorkersAI whose sync and async clients both reach this server."""
        settings: dict[str, Any] = {"api_key": TOKEN, "account_id": ACCOUNT_ID, "max_retries": 0, **fields}
        if fields.get("base_url") is None:
            # The server answers Responses JSON; on Cloudflare's URL `auto` would stream Chat Completions instead.
            settings.setdefault("stream_mode", "buffered")
        return ChatWorkersAI(**self.clients(), **settings)


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
