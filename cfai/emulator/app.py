"""The emulator's ASGI app: Cloudflare's routes, gatekeeping (route, method, token, account), scripts and replies.

Order of checks, as on Cloudflare's API: an unknown path is 404/7003, a method other than POST 405/7001, a wrong
or missing token 401/10000, another account 404/7003. Only then is a queued script taken, and the body validated
(400/5006, unknown model 400/5007) and answered by the rule-based model or the embedding model. Every reply carries
a `cf-ray` header.

`/ai/run/{model}` serves four things: a direct call (a Responses body for a chat model, a native embeddings body
for an embedding model), a batch submission (`?queueRequest=true` with `requests`) and a poll (`request_id`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route as StarletteRoute
from starlette.types import Receive, Scope, Send

from cfai.catalog import EmbeddingModelInfo
from cfai.emulator import chat_api, embeddings_api, envelope, model, queue, responses_api, streams, validation
from cfai.emulator.envelope import CloudflareError
from cfai.emulator.faults import CannedReply, Fault, Route, Script, apply_to_turn
from cfai.emulator.state import EmulatorState, RecordedRequest

ACCOUNT_PREFIX = "/client/v4/accounts/{account_id}"
_JSON = "application/json"
_SSE = "text/event-stream"
# Every route takes every method, so that a GET gets Cloudflare's 405/7001 envelope rather than Starlette's page.
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@dataclass(frozen=True)
class _Outcome:
    """A successful reply before delivery: one JSON chunk, or SSE events."""

    chunks: list[bytes]
    streaming: bool
    status: int = 200

    @property
    def media_type(self) -> str:
        return _SSE if self.streaming else _JSON


def create_app(state: EmulatorState | None = None) -> Starlette:
    """The emulator as an ASGI app; its `EmulatorState` is `app.state.emulator`."""
    state = state or EmulatorState()
    paths: list[tuple[str, Route | None]] = [
        (f"{ACCOUNT_PREFIX}/ai/v1/responses", "responses"),
        (f"{ACCOUNT_PREFIX}/ai/run/{{model:path}}", "run"),
        (f"{ACCOUNT_PREFIX}/ai/v1/chat/completions", "chat_completions"),
        (f"{ACCOUNT_PREFIX}/ai/v1/embeddings", "embeddings"),
        ("/{path:path}", None),
    ]
    routes = [StarletteRoute(path, _endpoint(state, route), methods=_ALL_METHODS) for path, route in paths]
    app = Starlette(routes=routes)
    app.state.emulator = state
    return app


def _endpoint(state: EmulatorState, route: Route | None) -> Callable[[Request], Awaitable[Any]]:
    async def endpoint(request: Request) -> Any:
        body = await request.body()
        try:
            parsed: Any = json.loads(body) if body else None
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            parsed = None  # validation answers 400 for it
        state.record(
            RecordedRequest(
                method=request.method,
                path=request.url.path,
                query=dict(request.query_params),
                headers=dict(request.headers.items()),
                json=parsed,
                body=body,
                route=route,
            )
        )
        ray = envelope.new_ray_id()
        try:
            _gatekeep(state, route, request)
            assert route is not None  # _gatekeep refuses unknown paths
            script = state.take_script(route)
            if script is not None and script.delay > 0:
                await _pause(script.delay, request.receive)
            return await _respond(state, route, request, body, parsed, script, ray)
        except CloudflareError as error:
            return _error(error, ray)

    return endpoint


def _gatekeep(state: EmulatorState, route: Route | None, request: Request) -> None:
    settings = state.settings
    unroutable = CloudflareError(
        404,
        envelope.COULD_NOT_ROUTE,
        f"Could not route to {request.url.path}, perhaps your object identifier is invalid?",
    )
    if route is None:
        raise unroutable
    if request.method != "POST":
        raise CloudflareError(405, envelope.METHOD_NOT_ALLOWED, "Method not allowed for this endpoint")
    if request.headers.get("authorization") != f"Bearer {settings.api_token}":
        raise CloudflareError(401, envelope.AUTHENTICATION_ERROR, "Authentication error")
    if request.path_params.get("account_id") != settings.account_id:
        raise unroutable


async def _respond(
    state: EmulatorState, route: Route, request: Request, body: bytes, parsed: Any, script: Script | None, ray: str
) -> Any:
    fault = script if isinstance(script, Fault) else None
    if isinstance(script, CannedReply):
        content, media_type = script.content()
        return Response(content, script.status, headers={**script.headers, "cf-ray": ray}, media_type=media_type)
    if fault is not None and fault.kind == "error":
        extra = {"retry-after": fault.retry_after} if fault.retry_after else {}
        return _error(CloudflareError(fault.status, fault.code, fault.message), ray, extra)
    if fault is not None and fault.kind == "bad_gateway_html":
        page = envelope.BAD_GATEWAY_HTML.replace("{ray}", ray)
        return Response(page, 502, headers={"cf-ray": ray}, media_type="text/html")
    if fault is not None and fault.kind == "disconnect":
        return _Disconnect(state, [], {})
    if parsed is None or not isinstance(parsed, dict):
        validation.parse_json_object(body)  # raises the matching 400
    session = request.headers.get("x-session-affinity")
    if route == "responses":
        outcome = _responses(state, parsed, session, fault)
    elif route == "run":
        call = _RunCall(request.path_params["model"], request.query_params, parsed, len(body), session, fault)
        outcome = _run(state, call)
    elif route == "embeddings":
        outcome = _embeddings(state, parsed)
    else:
        outcome = _chat_completions(state, parsed, session, fault)
    return _deliver(state, outcome, fault, ray)


def _turn(state: EmulatorState, prompt: model.Prompt, session: str | None, fault: Fault | None) -> model.Turn:
    turn = apply_to_turn(fault, model.respond(prompt))
    if session:
        turn = replace(turn, cached_tokens=state.cached_tokens(session, model.input_units(prompt)))
    return turn


def _responses(state: EmulatorState, body: dict[str, Any], session: str | None, fault: Fault | None) -> _Outcome:
    settings = state.settings
    name = validation.check_model(body.get("model"), settings.models)
    streaming = body.get("stream") is True
    if streaming and settings.stream_mode == "reject":
        raise envelope.bad_input("Error: streaming is not supported for this model; send stream: false")
    prompt = responses_api.prompt_from_request(body, name, settings.context_window)
    response = responses_api.response_object(_turn(state, prompt, session, fault), body, name, prompt.context_window)
    if streaming and settings.stream_mode == "sse":
        return _Outcome(streams.responses_events(response), streaming=True)
    return _json(response)


@dataclass(frozen=True)
class _RunCall:
    model: str
    query: Mapping[str, str]
    body: dict[str, Any]
    size: int
    session: str | None
    fault: Fault | None


def _run(state: EmulatorState, call: _RunCall) -> _Outcome:
    """`/ai/run/{model}`: a poll, a batch submission, or one call in the v4 envelope (`stream` is ignored for gpt-oss:
    docs/wire.md quirk 1)."""
    settings = state.settings
    embedding = call.model not in settings.models and call.model in settings.embedding_models
    if not embedding:
        validation.check_model(call.model, settings.models)
    if "request_id" in call.body:
        return _poll(state, call.model, call.body["request_id"])
    if call.query.get("queueRequest") == "true" or "requests" in call.body:
        return _json(envelope.success(_submit(state, call)))
    if embedding:
        info = embeddings_api.model_info(call.model, settings.embedding_models)
        return _json(envelope.success(embeddings_api.native_result(embeddings_api.native_request(call.body, info))))
    prompt = responses_api.prompt_from_request(call.body, call.model, settings.context_window)
    turn = _turn(state, prompt, call.session, call.fault)
    return _json(envelope.success(responses_api.response_object(turn, call.body, call.model, prompt.context_window)))


def _poll(state: EmulatorState, name: str, request_id: Any) -> _Outcome:
    if not isinstance(request_id, str):
        raise envelope.bad_input("Error: type at '/request_id' not met: must be string")
    polled = state.poll_job(request_id, name)
    if polled is None:
        raise queue.unknown_request(request_id)
    done, result = polled
    return _json(envelope.success(result), status=200 if done else state.settings.batch_pending_status)


def _submit(state: EmulatorState, call: _RunCall) -> dict[str, Any]:
    if call.query.get("queueRequest") != "true":
        raise envelope.bad_input("Error: 'requests' is for the batch queue: add ?queueRequest=true to the URL")
    if "requests" not in call.body:
        raise envelope.bad_input("Error: required properties at '/' are 'requests' (or 'request_id' to poll)")
    queue.check_payload_size(call.size)
    settings = state.settings
    if call.model in settings.models:
        check = _chat_item(call.model, settings.context_window)
    else:
        check = _embedding_item(embeddings_api.model_info(call.model, settings.embedding_models))
    outcomes = queue.run_batch(call.body["requests"], check, state.take_item_failures())
    return {"status": "queued", "request_id": state.new_job(call.model, outcomes), "model": call.model}


def _chat_item(name: str, context_window: int) -> queue.ItemChecker:
    """A batch item for a chat model: checked and answered exactly as a direct `/ai/run` call."""

    def check(item: Mapping[str, Any]) -> Callable[[], queue.Answer]:
        prompt = responses_api.prompt_from_request(item, name, context_window)

        def answer() -> queue.Answer:
            turn = model.respond(prompt)
            response = responses_api.response_object(turn, item, name, context_window)
            return queue.Answer(response, turn.input_tokens, turn.output_tokens)

        return answer

    return check


def _embedding_item(info: EmbeddingModelInfo) -> queue.ItemChecker:
    def check(item: Mapping[str, Any]) -> Callable[[], queue.Answer]:
        request = embeddings_api.native_request(item, info)
        return lambda: queue.Answer(embeddings_api.native_result(request), request.input_tokens)

    return check


def _embeddings(state: EmulatorState, body: dict[str, Any]) -> _Outcome:
    """`/ai/v1/embeddings`, OpenAI-compatible."""
    request, encoding = embeddings_api.openai_request(body, state.settings.embedding_models)
    return _json(embeddings_api.openai_reply(request, encoding))


def _json(value: Any, status: int = 200) -> _Outcome:
    return _Outcome([envelope.json_bytes(value)], streaming=False, status=status)


def _chat_completions(state: EmulatorState, body: dict[str, Any], session: str | None, fault: Fault | None) -> _Outcome:
    settings = state.settings
    name = validation.check_model(body.get("model"), settings.models)
    prompt = chat_api.prompt_from_request(body, name, settings.context_window)
    turn = _turn(state, prompt, session, fault)
    if body.get("stream") is True:
        return _Outcome(streams.chat_chunks(turn, name), streaming=True)
    return _json(chat_api.chat_completion(turn, name))


def _deliver(state: EmulatorState, outcome: _Outcome, fault: Fault | None, ray: str) -> Any:
    headers = {"cf-ray": ray}
    whole = b"".join(outcome.chunks)
    if fault is not None and fault.kind == "truncated_json":
        return Response(whole[: len(whole) // 2], 200, headers=headers, media_type=outcome.media_type)
    if fault is not None and fault.kind == "disconnect_midway":
        headers["content-type"] = outcome.media_type
        if outcome.streaming:
            return _Disconnect(state, outcome.chunks[: fault.after_events], headers)
        # the promised length tells the client (over a socket) that the body stopped short
        headers["content-length"] = str(len(whole))
        return _Disconnect(state, [whole[: len(whole) // 2]], headers)
    if outcome.streaming:
        return StreamingResponse(iter(outcome.chunks), headers=headers, media_type=outcome.media_type)
    return Response(whole, outcome.status, headers=headers, media_type=outcome.media_type)


def _error(error: CloudflareError, ray: str, extra_headers: Mapping[str, str] | None = None) -> Response:
    body = envelope.json_bytes(envelope.failure(error.code, error.message))
    return Response(body, error.status, headers={"cf-ray": ray, **(extra_headers or {})}, media_type=_JSON)


async def _pause(seconds: float, receive: Receive) -> None:
    """Wait `seconds`, or less if the client hangs up (a client timeout must not keep the server busy)."""
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(_until_disconnected(receive), timeout=seconds)


async def _until_disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class _Disconnect:
    """An ASGI reply that sends a 200 with `chunks` (if any) and then drops the TCP connection without finishing.

    In-process (no socket, e.g. `httpx.ASGITransport`): with nothing sent it raises `httpx.RemoteProtocolError`,
    the error httpx raises when a server hangs up without replying; after some chunks the body just ends early.
    """

    def __init__(self, state: EmulatorState, chunks: list[bytes], headers: Mapping[str, str]) -> None:
        self._state, self._chunks = state, chunks
        self._headers = [(key.encode(), value.encode()) for key, value in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._chunks:
            await send({"type": "http.response.start", "status": 200, "headers": self._headers})
            for chunk in self._chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        if self._state.disconnect is not None and self._state.disconnect(scope.get("client")):
            await _pause(1.0, receive)  # let the server notice the closed connection before the app returns
            return
        if not self._chunks:
            import httpx  # only in-process: the client is httpx, and this is its error for a silent hang-up

            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        await send({"type": "http.response.body", "body": b"", "more_body": False})
