"""`Emulator` as a server: lifecycle, addresses, connection counting, settings and in-process use."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import httpx
import pytest

from cfai.emulator import DEFAULT_ACCOUNT_ID, Emulator, Fault


def test_starts_and_stops_fast_on_a_free_loopback_port() -> None:
    started = time.perf_counter()
    with Emulator() as emulator:
        elapsed_start = time.perf_counter() - started
        assert emulator.base_url == f"http://127.0.0.1:{emulator.port}"
        assert emulator.v1_url == f"{emulator.base_url}/client/v4/accounts/{DEFAULT_ACCOUNT_ID}/ai/v1"
        assert (
            emulator.run_url()
            == f"{emulator.base_url}/client/v4/accounts/{DEFAULT_ACCOUNT_ID}/ai/run/@cf/openai/gpt-oss-120b"
        )
        assert httpx.post(emulator.base_url + "/x").status_code == 404
        stopping = time.perf_counter()
    assert elapsed_start < 0.5 and time.perf_counter() - stopping < 0.5
    with pytest.raises(RuntimeError):
        emulator.base_url  # noqa: B018 (the property raises once stopped)


def test_one_client_reuses_one_connection(kit: Any) -> None:
    with Emulator() as emulator:
        headers = {"Authorization": f"Bearer {emulator.api_token}"}
        with httpx.Client(base_url=emulator.v1_url, headers=headers) as client:
            for _ in range(100):
                assert client.post("/responses", json=kit.body("Hi")).status_code == 200
        assert emulator.connections_opened == 1
        with httpx.Client(base_url=emulator.v1_url, headers=headers) as other:
            other.post("/responses", json=kit.body("Hi"))
        assert emulator.connections_opened == 2
        emulator.reset()
        assert emulator.connections_opened == 0 and emulator.requests == []


async def test_async_context_manager_and_custom_credentials(kit: Any) -> None:
    async with Emulator(api_token="secret-1", account_id="f" * 32) as emulator:
        assert (emulator.api_token, emulator.account_id) == ("secret-1", "f" * 32)
        async with httpx.AsyncClient(base_url=emulator.v1_url) as client:
            ok = await client.post("/responses", json=kit.body(), headers={"Authorization": "Bearer secret-1"})
            refused = await client.post("/responses", json=kit.body(), headers={"Authorization": "Bearer test-token"})
        assert (ok.status_code, refused.status_code) == (200, 401)


def test_explicit_port_and_restart() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    emulator = Emulator(port=port)
    with emulator:
        assert emulator.port == port
        with pytest.raises(RuntimeError):
            emulator.start()
    with emulator:  # an emulator can be started again after it stopped
        assert httpx.post(emulator.base_url + "/x").status_code == 404


def test_refuses_non_loopback_hosts_unless_allowed() -> None:
    with pytest.raises(ValueError, match="loopback"):
        Emulator(host="0.0.0.0")
    Emulator(host="0.0.0.0", allow_remote=True)  # allowed, not started
    Emulator(host="::1")
    Emulator(host="localhost")


async def test_the_app_serves_in_process_without_a_server(kit: Any) -> None:
    emulator = Emulator()
    with pytest.raises(RuntimeError, match="not running"):
        emulator.v1_url  # noqa: B018
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1" + emulator.v1_path) as client:
        reply = await client.post(
            "responses", json=kit.body("Hi"), headers={"Authorization": f"Bearer {emulator.api_token}"}
        )
    assert reply.json()["output"][-1]["content"][0]["text"] == "You asked: Hi"
    assert [request.route for request in emulator.requests] == ["responses"]
    assert emulator.app.state.emulator is emulator.state


def test_stop_does_not_wait_for_a_slow_reply(kit: Any) -> None:
    emulator = Emulator().start()
    emulator.enqueue(Fault.slow(30))
    errors: list[BaseException] = []

    def call() -> None:
        try:
            httpx.post(
                emulator.v1_url + "/responses",
                json=kit.body(),
                headers={"Authorization": f"Bearer {emulator.api_token}"},
                timeout=10,
            )
        except httpx.HTTPError as error:
            errors.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    while not emulator.requests:
        time.sleep(0.01)
    started = time.perf_counter()
    emulator.stop()
    caller.join(timeout=5)
    assert time.perf_counter() - started < 2
    assert not caller.is_alive() and len(errors) == 1  # the in-flight request fails instead of hanging


def test_reset_restores_constructor_settings() -> None:
    with Emulator(stream_mode="reject") as emulator:
        emulator.configure(stream_mode="sse", models=["@cf/x/y"])
        changed = emulator.state.settings
        assert (changed.stream_mode, changed.models) == ("sse", frozenset({"@cf/x/y"}))
        emulator.reset()
        assert emulator.state.settings.stream_mode == "reject"
        assert "@cf/openai/gpt-oss-20b" in emulator.state.settings.models


def test_a_taken_port_is_an_os_error_and_the_emulator_can_retry() -> None:
    with Emulator() as first:
        port = first.port
        second = Emulator(port=port)
        with pytest.raises(OSError):
            second.start()
    with second:  # the port is free again
        assert second.port == port
