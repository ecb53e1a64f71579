"""`env.AI` for tests of Worker code: the emulator's `/ai/run` route as a Workers AI binding, served in-process.

    emulator = Emulator()
    env = types.SimpleNamespace(AI=emulator.binding())
    llm = ChatWorkersAI(binding=env.AI)             # as inside a Python Worker, without one

`run(model, inputs)` is a call of `/ai/run/{model}` with `inputs` as its body, and `run(model, inputs,
{"queueRequest": True})` a batch submission, as Cloudflare documents the binding (docs/wire.md). It answers what a
binding returns, the envelope's `result`; a refusal raises `BindingError` carrying Cloudflare's code in its message,
as a binding's JavaScript exception reaches Python (`"AiError: 5006: Bad input: ..."`). Scripts, faults, recorded
requests and batch jobs are the emulator's own. Every call and its options are kept in `calls`; options other than
`queueRequest` (an AI Gateway) change nothing here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from cfai.emulator.server import Emulator

__all__ = ["BindingError", "EmulatorBinding", "binding_error"]

# The requests never leave the process (ASGI); the address only gives them a well-formed URL.
_IN_PROCESS = "http://127.0.0.1"


class BindingError(Exception):
    """What a binding raises for a refused call: a message, no status and no code attribute."""


def binding_error(code: object, message: str) -> BindingError:
    """The error a binding raises for a refusal the REST route answers with `code` and `message`."""
    return BindingError(f"AiError: {code}: {message.removeprefix('AiError: ')}")


class EmulatorBinding:
    """The emulator behind a Workers AI binding's `run`."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.calls)} calls)"

    async def run(self, model: str, inputs: Mapping[str, Any], options: Mapping[str, Any] | None = None) -> Any:
        options = dict(options or {})
        self.calls.append((model, dict(inputs), options))
        path = f"/client/v4/accounts/{self.emulator.account_id}/ai/run/{model}"
        query = "?queueRequest=true" if options.get("queueRequest") else ""
        transport = httpx.ASGITransport(app=self.emulator.app)
        async with httpx.AsyncClient(transport=transport) as client:
            reply = await client.post(
                _IN_PROCESS + path + query,
                json=dict(inputs),
                headers={"Authorization": f"Bearer {self.emulator.api_token}"},
            )
        envelope = reply.json()
        if envelope.get("success"):
            return envelope["result"]
        error = (envelope.get("errors") or [{}])[0]
        raise binding_error(error.get("code"), str(error.get("message", "")))
