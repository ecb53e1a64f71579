"""One model used from many threads, event loops and instances, against the emulator over real sockets.

Each test starts with empty shared pools (`fresh_pools`), so what it counts is what it opened.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from cfai import aiohttp_io
from cfai.emulator import Emulator
from langchain_cfai import ChatWorkersAI
from llamaindex_cfai import WorkersAI

ADAPTERS = ("langchain", "llamaindex")


def make(adapter: str, emulator: Emulator) -> Any:
    model_class = ChatWorkersAI if adapter == "langchain" else WorkersAI
    return model_class(base_url=emulator.v1_url, api_token=emulator.api_token, max_retries=0)


def ask(model: Any, text: str) -> str:
    if isinstance(model, ChatWorkersAI):
        return str(model.invoke(text).content)
    return model.chat([ChatMessage(role=MessageRole.USER, content=text)]).message.content or ""


async def aask(model: Any, text: str) -> str:
    if isinstance(model, ChatWorkersAI):
        return str((await model.ainvoke(text)).content)
    return (await model.achat([ChatMessage(role=MessageRole.USER, content=text)])).message.content or ""


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch, fresh_pools: None) -> list[Any]:
    """The pools' HTTP clients built during the test: httpx.Client (sync), aiohttp.ClientSession (async)."""
    clients: list[Any] = []
    original_init = httpx.Client.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        clients.append(self)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(httpx.Client, "__init__", counting)
    original_session = aiohttp_io.new_session
    monkeypatch.setattr(aiohttp_io, "new_session", lambda size: clients.append(original_session(size)) or clients[-1])
    return clients


@pytest.fixture
def resource_warnings() -> Iterator[list[warnings.WarningMessage]]:
    gc.collect()  # what earlier tests left behind warns now, before this test's record starts
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught
        gc.collect()  # an unclosed socket or transport warns when it is collected
    assert [str(warning.message) for warning in caught if issubclass(warning.category, ResourceWarning)] == []


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_sixteen_threads_making_their_first_call_together_build_one_client(
    adapter: str, workers_ai_emulator: Emulator, built: list[str], resource_warnings: list[Any]
) -> None:
    model = make(adapter, workers_ai_emulator)
    start = threading.Barrier(16)
    answers: list[str] = []

    def first_call(number: int) -> None:
        start.wait()
        answers.append(ask(model, f"question {number}"))

    threads = [threading.Thread(target=first_call, args=(number,)) for number in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    model.close()
    assert sorted(answers) == sorted(f"You asked: question {number}" for number in range(16))
    assert [type(client).__name__ for client in built] == ["Client"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_successive_event_loops_then_aclose_in_another(
    adapter: str, workers_ai_emulator: Emulator, built: list[str], resource_warnings: list[Any]
) -> None:
    model = make(adapter, workers_ai_emulator)
    for number in range(3):
        assert asyncio.run(aask(model, f"loop {number}")) == f"You asked: loop {number}"
    asyncio.run(model.aclose())  # used to raise "Event loop is closed"
    # One pool per loop, each closed by its own loop as it shut down.
    assert [type(client).__name__ for client in built] == ["ClientSession"] * 3
    assert all(session.closed for session in built)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_twenty_short_lived_instances_share_their_connections(
    adapter: str, workers_ai_emulator: Emulator, built: list[str]
) -> None:
    for number in range(20):
        assert ask(make(adapter, workers_ai_emulator), f"instance {number}") == f"You asked: instance {number}"
    assert workers_ai_emulator.connections_opened <= 2
    assert [type(client).__name__ for client in built] == ["Client"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_client_the_caller_passes_is_never_shared_or_closed(adapter: str, workers_ai_emulator: Emulator) -> None:
    mine = httpx.Client()
    model_class = ChatWorkersAI if adapter == "langchain" else WorkersAI
    with model_class(
        base_url=workers_ai_emulator.v1_url, api_token=workers_ai_emulator.api_token, http_client=mine
    ) as model:
        ask(model, "Hi")
        assert model.client.http_client is mine
        other = make(adapter, workers_ai_emulator)
        assert other.client.http_client is not mine
    assert not mine.is_closed
    mine.close()
