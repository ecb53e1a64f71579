"""The asynchronous clients' shared pools (aiohttp sessions, one per event loop), over loopback to the emulator."""

from __future__ import annotations

import asyncio
import gc
import warnings
from typing import Any

import aiohttp
import pytest

from cfai import AsyncWorkersAIClient, aiohttp_io
from cfai.emulator import Emulator

BODY = {"model": "@cf/openai/gpt-oss-120b", "input": "Hi"}


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch, fresh_pools: None) -> list[aiohttp.ClientSession]:
    """Every session the pools open during the test, in order."""
    opened: list[aiohttp.ClientSession] = []
    original = aiohttp_io.new_session

    def recording(pool_size: int) -> aiohttp.ClientSession:
        opened.append(original(pool_size))
        return opened[-1]

    monkeypatch.setattr(aiohttp_io, "new_session", recording)
    return opened


def settings(emulator: Emulator) -> dict[str, Any]:
    return {"base_url": emulator.v1_url, "api_token": emulator.api_token, "max_retries": 0}


def test_a_pool_opens_on_first_use_and_closes_with_its_last_user(emulator, sessions):
    async def main() -> None:
        first, second = AsyncWorkersAIClient(**settings(emulator)), AsyncWorkersAIClient(**settings(emulator))
        assert sessions == []
        await first.create(BODY)
        await second.create(BODY)
        assert len(sessions) == 1
        await first.aclose()
        assert not sessions[0].closed  # the second client still uses it
        await second.aclose()
        assert sessions[0].closed

        async with AsyncWorkersAIClient(**settings(emulator)) as managed:
            [event async for event in managed.stream(BODY, mode="buffered")]
        assert len(sessions) == 2 and sessions[1].closed

    asyncio.run(main())


def test_successive_event_loops_each_get_and_close_their_own_pool(emulator, sessions):
    client = AsyncWorkersAIClient(**settings(emulator))

    async def twice() -> list[str]:
        return [(await client.create(BODY)).text, (await client.create(BODY)).text]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert asyncio.run(twice()) == asyncio.run(twice()) == ["You asked: Hi"] * 2
        asyncio.run(client.aclose())  # from a loop that never used it: nothing to do, no error
        gc.collect()
    assert len(sessions) == 2 and all(session.closed for session in sessions)
    assert [str(warning.message) for warning in caught] == []


def test_a_stream_cut_midway_raises_and_the_pool_stays_usable(emulator, sessions):
    from cfai.emulator import Fault
    from cfai.errors import APIConnectionError

    emulator.configure(stream_mode="sse")
    emulator.enqueue(Fault.disconnect_midway(after_events=3))

    async def main() -> str:
        client = AsyncWorkersAIClient(**settings(emulator), stream_mode="responses")
        with pytest.raises(APIConnectionError):
            [event async for event in client.stream(BODY)]
        return (await client.create(BODY)).text

    assert asyncio.run(main()) == "You asked: Hi"


@pytest.mark.parametrize(
    ("fault", "mode", "error"),
    [
        ("slow", None, "APITimeoutError"),  # no answer within the read timeout
        ("disconnect", None, "APIConnectionError"),  # the connection closed without a reply
        ("truncated_json", None, "ResponseFormatError"),  # a whole HTTP reply whose JSON is cut
        ("disconnect_midway", None, "APIConnectionError"),  # the body cut short
        ("disconnect_midway", "responses", "APIConnectionError"),  # a stream cut after its first events
    ],
)
def test_every_failure_of_the_pooled_path_is_a_cfai_error(emulator, sessions, fault, mode, error):
    from cfai import errors
    from cfai.emulator import Fault

    emulator.configure(stream_mode="sse")
    emulator.enqueue(Fault.slow(2) if fault == "slow" else getattr(Fault, fault)())

    async def main() -> None:
        client = AsyncWorkersAIClient(**settings(emulator), timeout=0.5)
        if mode is None:
            await client.create(BODY)
        else:
            [event async for event in client.stream(BODY, mode=mode)]

    with pytest.raises(getattr(errors, error)) as raised:
        asyncio.run(main())
    assert type(raised.value).__name__ == error
    cause = raised.value.__cause__
    assert cause is None or isinstance(cause, (aiohttp.ClientError, asyncio.TimeoutError))


def test_nothing_listening_is_a_connection_error_not_a_timeout(sessions):
    from cfai.errors import APIConnectionError, APITimeoutError

    async def main() -> None:
        # Port 9 (discard) on loopback: nothing listens there.
        await AsyncWorkersAIClient(base_url="http://127.0.0.1:9/v1", api_token="t", max_retries=0).create(BODY)

    with pytest.raises(APIConnectionError) as raised:
        asyncio.run(main())
    assert not isinstance(raised.value, APITimeoutError)
    assert isinstance(raised.value.__cause__, aiohttp.ClientConnectorError)
