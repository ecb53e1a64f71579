"""A stand-in for a Worker's `env.AI`: a plain class with `async def run(model, inputs)`, as the real binding has.

`FakeBinding` answers with the emulator's rule-based gpt-oss (tool calls from the tool schemas, "Based on <tool>:
..." after a tool result, "You asked: ..." otherwise), and an embedding model with the emulator's native embeddings
(the same vectors as its HTTP routes), in-process, and records every call. `fail_with` makes the next calls raise, as
a JavaScript exception from a real binding would reach Python: an exception with only a message.
(`Emulator.binding()` is the emulator's own `/ai/run` route as a binding, the batch queue included.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cfai.catalog import EMBEDDING_MODELS
from cfai.emulator.binding import BindingError, binding_error
from cfai.emulator.embeddings_api import native_request, native_result
from cfai.emulator.envelope import CloudflareError
from cfai.emulator.model import respond
from cfai.emulator.responses_api import prompt_from_request, response_object

CONTEXT_WINDOW = 128_000


# What Pyodide raises for a rejected JavaScript promise: a message, no status, no code attribute.
JsException = BindingError


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
            raise binding_error(refused.code, refused.message) from None

    @property
    def last_inputs(self) -> dict[str, Any]:
        return self.calls[-1][1]
