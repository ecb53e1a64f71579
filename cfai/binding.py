"""A Cloudflare Workers AI binding (`env.AI` inside a Python Worker) in place of HTTP.

Inside a Worker, Workers AI is reached through the binding's `await env.AI.run(model, inputs)`, with no account id,
token or URL. `BindingClient` is the asynchronous core client for it: the same Responses body as over HTTP (without
`model`, which `run` takes apart), the same reply parsing and the same exit (`ReplyFinisher`), so a reply reads the
same whichever way it came. The binding serves gpt-oss without streaming, so `stream()` replays the whole reply as
stream events (the "buffered" stream mode). Embeddings go through `run` too, with the model's native input
(`cfai.embeddings.run_inputs`), and so does the batch queue (`cfai.batch.AsyncBatchQueue` over this client submits
with `run`'s `queueRequest` option).

Python Workers run on Pyodide: there the body is handed over as a JavaScript object (`pyodide.ffi.to_js` with
`Object.fromEntries`, as Cloudflare's Python Workers documentation shows) and the result comes back through
`.to_py()`. Elsewhere (tests, a fake binding) plain dicts pass both ways and pyodide is never imported.

A binding raises JavaScript exceptions that carry only a message such as `"AiError: 3040: Capacity temporarily
exceeded"`. Cloudflare's numeric code in that message decides the error class, as the code of an HTTP reply's v4
envelope does (docs/wire.md, Errors); a message with no known code becomes an `InternalServerError`. Retries follow
the transport's policy (`cfai.retry`): capacity errors and server failures are tried again, up to `max_retries`.

Workers run everything on an event loop, so there is no synchronous binding client: the sync entry points of the
adapters raise `AsyncOnlyError` instead.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Protocol

from cfai.config import ConfigurationError, StreamMode, gateway_option
from cfai.embeddings import EMBEDDINGS_PATH, run_inputs
from cfai.errors import APIStatusError, WorkersAIError, error_from_status
from cfai.retry import RetryPolicy, retry_delay
from cfai.wire.accumulator import replay
from cfai.wire.finish import ReplyFinisher
from cfai.wire.reply import reply_from_json
from cfai.wire.types import Reply, StreamEvent

__all__ = [
    "AsyncOnlyError",
    "Binding",
    "BindingClient",
    "error_from_binding",
    "gateway_run_option",
    "running_in_pyodide",
]


class Binding(Protocol):
    """What a Workers AI binding offers: `run(model, inputs)` returning an awaitable result; `run(model, inputs,
    options)` with options such as `{"queueRequest": true}` (the batch queue)."""

    def run(self, model: str, inputs: Any, /, *options: Any) -> Any: ...


class AsyncOnlyError(RuntimeError):
    """A synchronous call on a model that holds a Workers binding: Workers only run asynchronous code."""


_CHAT_ASYNC_METHODS = "`await llm.ainvoke(...)`, `astream`, `abatch`; LlamaIndex: `achat`, `astream_chat`, `acomplete`"


def async_only_error(what: str = "This model", methods: str | None = None) -> AsyncOnlyError:
    """The error of a synchronous call on `what`; `methods` names the async methods to call instead (a chat
    model's by default)."""
    return AsyncOnlyError(
        f"{what} calls Workers AI through a Workers binding, and Workers run asynchronous code only: use the async "
        f"methods ({methods or _CHAT_ASYNC_METHODS})."
    )


# Cloudflare's error codes (docs/wire.md, Errors) and the HTTP status each comes with on the REST API.
_STATUS_BY_CODE: Mapping[int, int] = {
    10000: 401,
    7003: 404,
    7001: 405,
    5007: 400,
    3042: 400,
    5006: 400,
    3006: 413,
    3007: 408,
    3008: 408,
    3040: 429,
    3036: 429,
    8006: 400,
}
_CODE = re.compile(r"(?<!\d)(\d{4,5})(?!\d)")
_HTTP_PREFIX = re.compile(r"^Workers AI returned HTTP \d+")


def _code_in(message: str) -> int | None:
    return next((int(found) for found in _CODE.findall(message) if int(found) in _STATUS_BY_CODE), None)


def error_from_binding(error: BaseException) -> APIStatusError:
    """The `cfai.errors` error for what a binding raised, typed by the Cloudflare code its message carries."""
    message = str(error).strip() or type(error).__name__
    code = _code_in(message)
    status = _STATUS_BY_CODE.get(code, 500) if code is not None else 500
    envelope = {"success": False, "errors": [{"code": code, "message": message}]}
    typed = error_from_status(status, json.dumps(envelope).encode(), {})
    # The same class, code and advice as an HTTP reply with this code; worded for a binding, which has no HTTP status.
    reworded = _HTTP_PREFIX.sub("The Workers AI binding failed", typed.message, count=1)
    return type(typed)(reworded, status_code=status, code=code, body=typed.body)


# The AI Gateway options (`gateway_options`, the cf-aig-* headers over HTTP) as the binding's `gateway` run option
# spells them (Cloudflare's AI Gateway page for Workers bindings): the field, the object it sits in ("retries" or
# the gateway itself), and the kind of value. Durations keep the headers' units (cache_ttl in s, the others in ms).
_GATEWAY_FIELDS: Mapping[str, tuple[str, str | None, type]] = {
    "cache_ttl": ("cacheTtl", None, int),
    "skip_cache": ("skipCache", None, bool),
    "cache_key": ("cacheKey", None, str),
    "collect_log": ("collectLog", None, bool),
    "request_timeout": ("requestTimeoutMs", None, int),
    "metadata": ("metadata", None, dict),
    "event_id": ("eventId", None, str),
    "max_attempts": ("maxAttempts", "retries", int),
    "retry_delay": ("retryDelayMs", "retries", int),
    "backoff": ("backoff", "retries", str),
}


def gateway_run_option(gateway_id: str | None, options: Mapping[str, object] | None) -> dict[str, Any] | None:
    """The `gateway` option of `binding.run` that routes a call through AI Gateway `gateway_id` with `options`, the
    settings HTTP sends as cf-aig-* headers; None without a gateway. A value of the wrong kind is a
    ConfigurationError, as are options without a gateway id (the binding has nowhere to apply them)."""
    if not gateway_id:
        if options:
            raise ConfigurationError("gateway_options need a gateway_id: through a Workers binding they apply to it.")
        return None
    gateway: dict[str, Any] = {"id": gateway_id}
    for name, value in (options or {}).items():
        field, within, kind = _GATEWAY_FIELDS[gateway_option(name)]
        target = gateway.setdefault(within, {}) if within else gateway
        target[field] = _gateway_value(name, value, kind)
    return gateway


def _gateway_value(name: str, value: object, kind: type) -> Any:
    """`value` as the binding takes it; the text forms the HTTP headers accept ("true", "60", a JSON object) too."""
    if isinstance(value, str) and kind is not str:
        value = _from_text(value, kind)
    if kind is dict and isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):  # a bool is no count or duration
        return value
    raise ConfigurationError(f"gateway_options[{name!r}] must be {_KINDS[kind]}; got {value!r}.")


def _from_text(text: str, kind: type) -> object:
    if kind is bool:
        return {"true": True, "false": False}.get(text.strip().lower(), text)
    if kind is int:
        return int(text) if text.strip().isdigit() else text
    try:
        return json.loads(text)
    except ValueError:
        return text


_KINDS: Mapping[type, str] = {
    int: "a whole number",
    bool: "true or false",
    str: "a string",
    dict: "a JSON object (a dict)",
}


def running_in_pyodide() -> bool:
    """True inside a Python Worker (Pyodide compiles CPython to WebAssembly for the emscripten platform)."""
    return sys.platform == "emscripten"


def _to_js(inputs: dict[str, Any]) -> Any:
    if not running_in_pyodide():
        return inputs
    import js  # type: ignore[import-not-found]  # Pyodide's bridge to the JavaScript globals
    from pyodide.ffi import to_js  # type: ignore[import-not-found]

    # Without the converter, dicts would become JavaScript Maps, which the binding does not read as objects.
    return to_js(inputs, dict_converter=js.Object.fromEntries)


def _to_py(result: Any) -> Any:
    to_py = getattr(result, "to_py", None)
    return to_py() if callable(to_py) else result


class BindingClient:
    """The asynchronous core client over a Workers AI binding, with `AsyncWorkersAIClient`'s `create` and `stream`.

    client = BindingClient(self.env.AI)
    reply = await client.create({"model": "@cf/openai/gpt-oss-120b", "input": "Hello"})
    """

    def __init__(
        self,
        binding: Binding,
        *,
        max_retries: int = 2,
        gateway: Mapping[str, Any] | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        if not callable(getattr(binding, "run", None)):
            raise TypeError(f"binding must be a Workers AI binding (env.AI) with a run() method; got {binding!r}.")
        self.binding = binding
        self.policy = RetryPolicy(max_retries=max_retries)
        # Every call goes through this AI Gateway (`gateway_run_option`), as every HTTP request carries its headers.
        self.gateway = dict(gateway) if gateway else None
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"{type(self).__name__}(binding={type(self.binding).__name__})"

    async def run(self, body: Mapping[str, Any], *, options: Mapping[str, Any] | None = None) -> Any:
        """`binding.run(model, body without model)`, or with `options` as its third argument, with retries;
        returns the decoded result."""
        model = str(body.get("model") or "")
        if not model:
            raise ValueError("A request through a Workers binding needs a model name in its body.")
        inputs = {key: value for key, value in body.items() if key != "model"}
        if self.gateway is not None:
            options = {**(options or {}), "gateway": self.gateway}
        extra = (_to_js(dict(options)),) if options else ()
        attempt = 0
        while True:
            try:
                return _to_py(await self.binding.run(model, _to_js(inputs), *extra))
            except WorkersAIError:
                raise
            except Exception as raised:
                error = error_from_binding(raised)
                delay = retry_delay(self.policy, attempt, error)
                if delay is None:
                    raise error from raised
            await self._sleep(delay)
            attempt += 1

    async def create(self, body: Mapping[str, Any], *, stop: Sequence[str] | None = None) -> Reply:
        return ReplyFinisher(body, stop).finish(reply_from_json(await self.run(body)))

    async def stream(
        self, body: Mapping[str, Any], *, stop: Sequence[str] | None = None, mode: StreamMode | None = None
    ) -> AsyncIterator[StreamEvent]:
        """The reply replayed as stream events; `mode` is accepted for symmetry and ignored (only buffered exists)."""
        reply = reply_from_json(await self.run(body))
        finisher = ReplyFinisher(body, stop)
        for event in replay(reply):
            for finished in finisher.feed(event):
                yield finished

    async def post(self, path: str, body: Mapping[str, Any]) -> Any:
        """The binding's answer to a body meant for one of the REST routes it can stand in for: embeddings (the
        batch queue has its own binding form in `cfai.batch`)."""
        if path == EMBEDDINGS_PATH:
            return await self.run(run_inputs(body))
        raise NotImplementedError(
            f"{path!r} is an HTTP route of Workers AI's REST API with no Workers binding form here; through a "
            "binding, Responses calls, embeddings and the batch queue are served."
        )

    def release(self) -> None:
        """Nothing to let go of: the binding belongs to the Worker."""

    async def aclose(self) -> None:
        """Nothing to close: the binding belongs to the Worker."""
