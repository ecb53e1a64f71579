"""Seams every test shares: no Cloudflare setting from the machine running the tests leaks into them, and one socket
policy for the whole suite.

Sockets: no test opens a TCP socket unless it is marked `loopback` or uses the emulator's fixtures, and then only to
this machine's loopback addresses (Unix socket pairs stay allowed everywhere: asyncio's event loops need them).
Nothing may ever reach Cloudflare or any other host.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
import urllib3  # noqa: F401  # see below
from pytest_socket import disable_socket, enable_socket, socket_allow_hosts

from cfai import pools
from cfai.config import ACCOUNT_ID_ENV, API_TOKEN_ENV, BASE_URL_ENV, GATEWAY_ENV

# urllib3 (through requests, which langchain-core imports on first use) opens an IPv6 socket when it is imported, to
# see whether the machine has IPv6: imported here, before any test, that probe never counts against whichever test
# happens to import it first.

# BASE_URL is listed although cfai never reads it: the tests that prove so set it themselves.
CLOUDFLARE_ENV = (*ACCOUNT_ID_ENV, *API_TOKEN_ENV, BASE_URL_ENV, GATEWAY_ENV, "BASE_URL")
LOOPBACK = ["127.0.0.1", "localhost", "::1"]
EMULATOR_FIXTURES = frozenset({"workers_ai_emulator", "workers_ai_env"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "loopback: the test may open sockets to loopback addresses (the emulator, a Jupyter kernel, Ray)"
    )
    config.addinivalue_line(
        "markers", "long: a file whose tests take seconds (Jupyter kernels, Ray, fresh interpreters); it starts first"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The emulator's own tests serve it on loopback throughout, and the benchmarks' their canned server.
    for item in items:
        parts = item.path.parts
        if ("emulator" in parts and "cfai" in parts) or "benchmarks" in parts:
            item.add_marker(pytest.mark.loopback)
    # pytest-xdist hands out whole files in this order (`--dist loadfile --no-loadscope-reorder`): the long ones
    # first, one to each worker, so that no worker is left with them after the other has finished.
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


def pytest_collection_finish(session: pytest.Session) -> None:
    # What collection loaded (both frameworks, every test module and its parameters) lives until the end: out of the
    # collector's sight, full collections walk only what the tests allocate. That is a sixth of the suite's CPU time.
    gc.freeze()


@pytest.fixture(autouse=True)
def _socket_policy(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("loopback") or EMULATOR_FIXTURES & set(request.fixturenames):
        socket_allow_hosts(LOOPBACK, allow_unix_socket=True)
    else:
        disable_socket(allow_unix_socket=True)
    try:
        yield
    finally:
        enable_socket()


@pytest.fixture(autouse=True)
def _clean_cloudflare_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CLOUDFLARE_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fresh_pools(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The shared connection pools start empty for the test, so what it opens and closes is its own; a
    synchronous pool it left open is closed afterwards, so its sockets never warn in a later test."""
    monkeypatch.setattr(pools, "_sync", None)
    monkeypatch.setattr(pools, "_async", weakref.WeakKeyDictionary())
    yield
    if pools._sync is not None:
        pools._sync.client.close()
