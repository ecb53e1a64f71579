"""The emulator's ASGI app: Cloudflare's routes, gatekeeping (route, method, token, account), scripts and replies.

Order of checks, as on Cloudflare's API: an unknown path is 404/7003, a method other than POST 405/7001, a wrong
or missing token 401/10000, another account 404/7003. Only then is a queued script taken, and the body validated
(400/5006, unknown model 400/5007) and answered by the rule-based model. Every reply carries a `cf-ray` header.
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

from cfai.emulator import chat_api, envelope, model, responses_api, streams, validation
from cfai.emulator.envelope import CloudflareError
from cfai.emulator.faults import Fault, Reply, Route, Script, apply_to_turn
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
    if isinstance(script, Reply):
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
        outcome = _run(state, request.path_params["model"], request.query_params, parsed, session, fault)
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
    return _Outcome([envelope.json_bytes(response)], streaming=False)


def _run(
    state: EmulatorState,
    name: str,
    query: Mapping[str, str],
    body: dict[str, Any],
    session: str | None,
    fault: Fault | None,
) -> _Outcome:
    """`/ai/run/{model}`: one Response in the v4 envelope (`stream` is ignored: WIRE.md quirk 1), or the batch queue."""
    settings = state.settings
    validation.check_model(name, settings.models)
    if "request_id" in body:
        result = state.poll_batch(str(body["request_id"]))
        if result is None:
            raise envelope.bad_input(f"Error: unknown request_id {body['request_id']!r}")
        return _Outcome([envelope.json_bytes(envelope.success(result))], streaming=False)
    if "requests" in body and "input" not in body:
        return _Outcome([envelope.json_bytes(envelope.success(_queue_batch(state, name, body)))], streaming=False)
    prompt = responses_api.prompt_from_request(body, name, settings.context_window)
    response = responses_api.response_object(_turn(state, prompt, session, fault), body, name, prompt.context_window)
    return _Outcome([envelope.json_bytes(envelope.success(response))], streaming=False)


def _queue_batch(state: EmulatorState, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Answers every request now (all are validated first, as a batch is accepted or refused whole)."""
    requests = body["requests"]
    if not isinstance(requests, list) or not requests:
        raise envelope.bad_input("Error: type at '/requests' not met: must be a non-empty array")
    context_window = state.settings.context_window
    prompts = [
        responses_api.prompt_from_request(_require_object(request, f"/requests/{index}"), name, context_window)
        for index, request in enumerate(requests)
    ]
    responses, usage = [], {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    for index, (request, prompt) in enumerate(zip(requests, prompts, strict=True)):
        turn = model.respond(prompt)
        result = responses_api.response_object(turn, request, name, context_window)
        reference = request.get("external_reference")
        responses.append({"id": index, "result": result, "success": True, "external_reference": reference})
        usage["prompt_tokens"] += turn.input_tokens
        usage["completion_tokens"] += turn.output_tokens
        usage["total_tokens"] += turn.input_tokens + turn.output_tokens
    request_id = state.add_batch(name, responses, usage)
    return {"status": "queued", "request_id": request_id, "model": name}


def _require_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise envelope.bad_input(f"Error: type at '{where}' not met: must be object")
    return value


def _chat_completions(state: EmulatorState, body: dict[str, Any], session: str | None, fault: Fault | None) -> _Outcome:
    settings = state.settings
    name = validation.check_model(body.get("model"), settings.models)
    prompt = chat_api.prompt_from_request(body, name, settings.context_window)
    turn = _turn(state, prompt, session, fault)
    if body.get("stream") is True:
        return _Outcome(streams.chat_chunks(turn, name), streaming=True)
    return _Outcome([envelope.json_bytes(chat_api.chat_completion(turn, name))], streaming=False)


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
    return Response(whole, headers=headers, media_type=outcome.media_type)


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
