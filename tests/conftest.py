"""Seams every test shares: no Cloudflare setting from the machine running the tests leaks into them."""

from __future__ import annotations

import weakref
from collections.abc import Iterator

import pytest

from cfai import pools
from cfai.config import ACCOUNT_ID_ENV, API_TOKEN_ENV, BASE_URL_ENV, GATEWAY_ENV

# BASE_URL is listed although cfai never reads it: the tests that prove so set it themselves.
CLOUDFLARE_ENV = (*ACCOUNT_ID_ENV, *API_TOKEN_ENV, BASE_URL_ENV, GATEWAY_ENV, "BASE_URL")


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
