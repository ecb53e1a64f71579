"""Where `cfai ask` and `cfai demo` send their requests: Cloudflare when credentials are set, else the emulator.

Credentials means an API token in the environment (`CLOUDFLARE_API_TOKEN` or an alias): with one, the account id
and the rest come from the environment as for any client, and a missing account id is reported as the
configuration error it is rather than hidden behind the emulator. Without one, or with `--emulator`, a local
emulator serves on 127.0.0.1 for the command's duration, and the command's first line says so.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cfai.commands import emulator_extra_missing
from cfai.config import API_TOKEN_ENV

__all__ = ["Target", "has_credentials", "target"]


@dataclass(frozen=True)
class Target:
    """The connection settings for clients and models (empty: read from the environment), and where they lead."""

    settings: Mapping[str, Any] = field(default_factory=dict)
    emulator: bool = False

    @property
    def first_line(self) -> str:
        if not self.emulator:
            return "Using Workers AI with the credentials in the environment (CLOUDFLARE_API_TOKEN and the rest)."
        return (
            "Using the local Workers AI emulator, not Cloudflare: its answers are deterministic stand-ins for "
            "gpt-oss's (set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID to use Workers AI)."
        )


def has_credentials(env: Mapping[str, str]) -> bool:
    return any(env.get(name, "").strip() for name in API_TOKEN_ENV)


@contextmanager
def target(use_emulator: bool, env: Mapping[str, str] | None = None) -> Iterator[Target]:
    """Cloudflare, or an emulator served until the block ends."""
    if not use_emulator and has_credentials(os.environ if env is None else env):
        yield Target()
        return
    try:
        from cfai.emulator.server import Emulator

        emulator = Emulator().start()
    except ImportError as error:
        raise emulator_extra_missing(error) from None
    try:
        yield Target({"base_url": emulator.v1_url, "api_token": emulator.api_token}, emulator=True)
    finally:
        emulator.stop()
