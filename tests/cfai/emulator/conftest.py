"""Seams for the emulator's own tests: one real server per module, and clients over a socket or in-process.

`client` is parametrised: every test using it runs once against uvicorn on 127.0.0.1 and once through
`httpx.ASGITransport`, so the two ways of serving the emulator cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cfai.emulator import Emulator

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
MODEL = "@cf/openai/gpt-oss-120b"
WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Get current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture(scope="module")
def served() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def emulator(served: Emulator) -> Emulator:
    served.reset()
    return served


def _auth(emulator: Emulator) -> dict[str, str]:
    return {"Authorization": f"Bearer {emulator.api_token}"}


@pytest.fixture(params=["socket", "in_process"])
async def client(request: pytest.FixtureRequest, emulator: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    """An async client whose base URL is the emulator's v1 root, authenticated."""
    if request.param == "socket":
        async with httpx.AsyncClient(base_url=emulator.v1_url, headers=_auth(emulator)) as http:
            yield http
    else:
        transport = httpx.ASGITransport(app=emulator.app)
        base_url = "http://127.0.0.1" + emulator.v1_path
        async with httpx.AsyncClient(transport=transport, base_url=base_url, headers=_auth(emulator)) as http:
            yield http


@pytest.fixture
def sync_client(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.v1_url, headers=_auth(emulator)) as http:
        yield http


class Kit:
    """Small helpers for emulator tests, handed out by the `kit` fixture (so no test imports a conftest)."""

    MODEL = MODEL
    WEATHER_TOOL = WEATHER_TOOL

    @staticmethod
    def fixture_text(name: str) -> str:
        return (FIXTURES / name).read_text(encoding="utf-8")

    @staticmethod
    def fixture_json(name: str) -> Any:
        return json.loads((FIXTURES / name).read_text(encoding="utf-8"))

    @staticmethod
    def sse_data(text: str) -> list[str]:
        """The `data:` payloads of an SSE body, in order."""
        return [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]

    @staticmethod
    def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
        """(event name, parsed data) pairs of a Responses SSE body."""
        events = []
        for block in text.strip().split("\n\n"):
            fields = dict(line.split(": ", 1) for line in block.splitlines())
            events.append((fields["event"], json.loads(fields["data"])))
        return events

    @staticmethod
    def body(input: Any = "Hello there", /, **fields: Any) -> dict[str, Any]:
        """A Responses request body for the default model."""
        return {"model": MODEL, "input": input, **fields}

    @staticmethod
    def items(reply: dict[str, Any], kind: str) -> list[dict[str, Any]]:
        return [item for item in reply["output"] if item["type"] == kind]

    @staticmethod
    def answer(reply: dict[str, Any]) -> str | None:
        messages = [item for item in reply["output"] if item["type"] == "message"]
        return messages[0]["content"][0]["text"] if messages else None


@pytest.fixture
def kit() -> Kit:
    return Kit()
