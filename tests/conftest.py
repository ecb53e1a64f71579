"""Seams every test shares: no Cloudflare setting from the machine running the tests leaks into them."""

from __future__ import annotations

import pytest

from cfai.config import ACCOUNT_ID_ENV, API_TOKEN_ENV, BASE_URL_ENV, GATEWAY_ENV

# BASE_URL is listed although cfai never reads it: the tests that prove so set it themselves.
CLOUDFLARE_ENV = (*ACCOUNT_ID_ENV, *API_TOKEN_ENV, BASE_URL_ENV, GATEWAY_ENV, "BASE_URL")


@pytest.fixture(autouse=True)
def _clean_cloudflare_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CLOUDFLARE_ENV:
        monkeypatch.delenv(name, raising=False)
