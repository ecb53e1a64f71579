"""Stand-ins for a Worker's `env.AI`: plain classes with `async def run(model, inputs)`, as the real binding has.

`FakeBinding` answers with the emulator's rule-based gpt-oss (tool calls from the tool schemas, "Based on <tool>:
..." after a tool result, "You asked: ..." otherwise), and an embedding model with the emulator's native embeddings
(the same vectors as its HTTP routes), in-process, and records every call. `fail_with` makes the next calls raise, as
a JavaScript exception from a real binding would reach Python: an exception with only a message. `EmulatorBinding` is
the emulator's `/ai/run` route itself, the batch queue included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from cfai.catalog import EMBEDDING_MODELS
from cfai.emulator.embeddings_api import native_request, native_result
from cfai.emulator.envelope import CloudflareError
from cfai.emulator.model import respond
from cfai.emulator.responses_api import prompt_from_request, response_object
from cfai.emulator.server import Emulator

CONTEXT_WINDOW = 128_000


class JsException(Exception):
    """What Pyodide raises for a rejected JavaScript promise: a message, no status, no code attribute."""


@dataclass
class FakeBinding:
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    options: list[dict[str, Any]] = field(default_factory=list)  # each call's third argument, {} without one
    failures: list[str] = field(default_factory=list)

    def fail_with(self, *messages: str) -> None:
        """The next calls raise these messages, one each, before answering again."""
        self.failures.extend(messages)

    async def run(self, model: str, inputs: Mapping[str, Any], options: Mapping[str, Any] | None = None) -> Any:
        self.calls.append((model, dict(inputs)))
        self.options.append(dict(options or {}))
        if self.failures:
            raise JsException(self.failures.pop(0))
        try:
            if model in EMBEDDING_MODELS:
                return native_result(native_request(inputs, EMBEDDING_MODELS[model]))
            turn = respond(prompt_from_request(inputs, model, CONTEXT_WINDOW))
            return response_object(turn, inputs, model, CONTEXT_WINDOW)
        except CloudflareError as refused:  # a binding's refusal is a message with the code in it
            raise JsException(f"AiError: {refused.code}: {refused.message.removeprefix('AiError: ')}") from None

    @property
    def last_inputs(self) -> dict[str, Any]:
        return self.calls[-1][1]


@dataclass
class EmulatorBinding:
    """`env.AI` as the emulator's `/ai/run/{model}` route without HTTP's framing: `run(model, inputs)` is a POST of
    `inputs`, `run(model, inputs, {"queueRequest": True})` the same with `?queueRequest=true` (how Cloudflare's batch
    API is reached from a Worker); the answer is the envelope's `result`, a refusal a `JsException` carrying the
    code. Served in-process through the emulator's ASGI app, whose state (scripts, batch jobs) it shares."""

    emulator: Emulator
    calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)

    async def run(self, model: str, inputs: Mapping[str, Any], options: Mapping[str, Any] | None = None) -> Any:
        self.calls.append((model, dict(inputs), dict(options or {})))
        queued = "?queueRequest=true" if (options or {}).get("queueRequest") else ""
        transport = httpx.ASGITransport(app=self.emulator.app)
        async with httpx.AsyncClient(transport=transport) as client:
            reply = await client.post(
                self.emulator.run_url(model) + queued,
                json=dict(inputs),
                headers={"Authorization": f"Bearer {self.emulator.api_token}"},
            )
        envelope = reply.json()
        if envelope.get("success"):
            return envelope["result"]
        error = envelope["errors"][0]
        raise JsException(f"AiError: {error['code']}: {error['message'].removeprefix('AiError: ')}")
