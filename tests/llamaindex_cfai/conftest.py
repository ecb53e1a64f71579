"""Test seams for the LlamaIndex adapter: canned replies over httpx.MockTransport, the emulator, one entry-point runner.

Fakes live at the transport layer only. Unit tests cannot open sockets; tests marked `emulator` may reach loopback,
where the emulator serves. Helpers are fixtures (not imports) so the suite works under any pytest import mode.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import support.server
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]  # re-exported without __all__
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from support.server import fixture_json

from llamaindex_cfai import WorkersAI

ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
TOKEN = "cf-test-token-LlamaIdx-7Qp2"
CHAT_ENTRY_POINTS = ("chat", "achat", "stream_chat", "astream_chat")
COMPLETION_ENTRY_POINTS = ("complete", "acomplete", "stream_complete", "astream_complete")
ENTRY_POINTS = CHAT_ENTRY_POINTS + COMPLETION_ENTRY_POINTS


class Server(support.server.ScriptedServer):
    """The suite's scripted server (`support.server`), with a WorkersAI that reaches it."""

    def llm(self, **settings: Any) -> WorkersAI:
        """A WorkersAI whose sync and async clients both talk to this server."""
        settings.setdefault("account_id", ACCOUNT_ID)
        settings.setdefault("api_token", TOKEN)
        if settings.get("base_url") is None:
            # The server answers Responses JSON; on Cloudflare's URL `auto` would stream Chat Completions instead.
            settings.setdefault("stream_mode", "buffered")
        return WorkersAI(**self.clients(), **settings)


class _Recorder(BaseEventHandler):
    seen: list[BaseEvent] = []

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.seen.append(event)


@pytest.fixture
def instrumentation_events() -> Iterator[list[BaseEvent]]:
    """Every LlamaIndex instrumentation event dispatched while the test runs, in order."""
    recorder = _Recorder(seen=[])
    root = get_dispatcher()
    root.add_event_handler(recorder)
    try:
        yield recorder.seen
    finally:
        root.event_handlers.remove(recorder)


@pytest.fixture
def fixture() -> Callable[[str], Any]:
    """`fixture(name)`: a file of tests/fixtures, decoded from JSON."""
    return fixture_json


@pytest.fixture
def server() -> Callable[..., Server]:
    """`server(*replies, repeat_last=False)`: a canned server (see Server)."""
    return lambda *replies, repeat_last=False: Server(*replies, repeat_last=repeat_last)


def run_entry_point(target: Any, name: str, argument: Any, **kwargs: Any) -> list[Any]:
    """Calls `target.<name>(argument, **kwargs)`, sync or async; returns [response] or the stream's chunks."""
    method = getattr(target, name)
    streamed = "stream" in name
    if not name.startswith("a"):
        result = method(argument, **kwargs)
        return list(result) if streamed else [result]

    async def run() -> list[Any]:
        result = await method(argument, **kwargs)
        return [chunk async for chunk in result] if streamed else [result]

    return asyncio.run(run())


@pytest.fixture
def run_entry() -> Callable[..., list[Any]]:
    """`run_entry(llm, entry_point_name, messages_or_prompt, **kwargs)`."""
    return run_entry_point


@pytest.fixture
def token() -> str:
    return TOKEN


def build_reply(
    text: str | None = None,
    *,
    reasoning: str = "Let me think.",
    calls: tuple[tuple[str, str], ...] = (),
    status: str = "completed",
    incomplete_reason: str | None = None,
) -> dict[str, Any]:
    """A Responses reply in the shape gpt-oss sends (vLLM's field set): reasoning, then a message and/or calls."""
    output: list[dict[str, Any]] = [
        {"id": "rs_1", "type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": reasoning}]}
    ]
    if text is not None:
        output.append(
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        )
    for index, (name, arguments) in enumerate(calls):
        output.append(
            {
                "type": "function_call",
                "id": f"fc_{index}",
                "call_id": f"call_{index}",
                "name": name,
                "arguments": arguments,
            }
        )
    return {
        "id": "resp_test",
        "object": "response",
        "created_at": 1754400000,
        "model": "@cf/openai/gpt-oss-120b",
        "status": status,
        "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
        "output": output,
        "usage": {
            "input_tokens": 10,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 8,
            "output_tokens_details": {"reasoning_tokens": 3},
            "total_tokens": 18,
        },
    }


@pytest.fixture
def reply() -> Callable[..., dict[str, Any]]:
    """`reply(text=None, reasoning=..., calls=((name, arguments_json), ...), status=..., incomplete_reason=...)`."""
    return build_reply
