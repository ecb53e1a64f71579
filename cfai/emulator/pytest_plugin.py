"""pytest plugin (entry point `cfai_emulator`): a local Workers AI for your tests, with the `emulator` extra.

    def test_my_chain(workers_ai_emulator):
        llm = ChatWorkersAI(base_url=workers_ai_emulator.v1_url, api_token=workers_ai_emulator.api_token,
                            account_id=workers_ai_emulator.account_id)
        ...

Fixtures:

- `workers_ai_emulator`: a running `cfai.emulator.Emulator`, reset for each test (no requests, scripts or caches
  left from earlier tests, default settings). One server serves the whole session, so it costs one start.
- `workers_ai_env`: the same emulator, with `CLOUDFLARE_AI_BASE_URL`, `CLOUDFLARE_API_TOKEN` and
  `CLOUDFLARE_ACCOUNT_ID` pointing at it for the test, so code that reads the environment reaches it unchanged.

This module imports nothing heavy: Starlette and uvicorn load only when a test uses a fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from cfai.emulator.server import Emulator


@pytest.fixture(scope="session")
def _workers_ai_emulator_server() -> Iterator[Emulator]:
    from cfai.emulator.server import Emulator

    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def workers_ai_emulator(_workers_ai_emulator_server: Emulator) -> Iterator[Emulator]:
    """A running local Workers AI (see `cfai.emulator.Emulator`), fresh for this test."""
    _workers_ai_emulator_server.reset()
    yield _workers_ai_emulator_server
    _workers_ai_emulator_server.reset()


@pytest.fixture
def workers_ai_env(workers_ai_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """`workers_ai_emulator`, with Cloudflare's environment variables pointing at it for this test."""
    monkeypatch.setenv("CLOUDFLARE_AI_BASE_URL", workers_ai_emulator.v1_url)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", workers_ai_emulator.api_token)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", workers_ai_emulator.account_id)
    return workers_ai_emulator
