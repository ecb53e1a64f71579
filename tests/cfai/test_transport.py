"""Client lifecycle and the plain request path: lazy creation, who closes what, event loops, the /ai/run envelope."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import threading
import warnings
from typing import Any

import httpx
import pytest

from cfai import AsyncWorkersAIClient, WorkersAIClient
from cfai.wire.reply import reply_from_json


class OwnedClients:
    """Makes the httpx clients cfai creates for itself talk to a MockTransport; records each and the loops it served."""

    def __init__(self, reply: dict[str, Any]) -> None:
        self.reply = reply
        self.created: list[httpx.Client | httpx.AsyncClient] = []
        self.loops: list[set[int]] = []
        self.options: list[dict[str, Any]] = []

    def handler_for(self, number: int):
        def handler(request: httpx.Request) -> httpx.Response:
            with contextlib.suppress(RuntimeError):  # a sync client runs outside any loop
                self.loops[number].add(id(asyncio.get_running_loop()))
            return httpx.Response(200, json=self.reply)

        return handler

    def factory(self, real: type):
        def make(**options: Any):
            self.options.append(options)
            self.loops.append(set())
            client = real(transport=httpx.MockTransport(self.handler_for(len(self.created))), **options)
            self.created.append(client)
            return client

        return make


@pytest.fixture
def owned(monkeypatch, fixtures, fresh_pools) -> OwnedClients:
    """The shared pools start empty for the test and are built on the recording factory."""
    clients = OwnedClients(fixtures.json("responses-text.json"))
    monkeypatch.setattr(httpx, "Client", clients.factory(httpx.Client))
    monkeypatch.setattr(httpx, "AsyncClient", clients.factory(httpx.AsyncClient))
    return clients


@pytest.fixture
def settings(account_id, token) -> dict[str, Any]:
    return {"account_id": account_id, "api_token": token}


def test_sync_client_is_created_lazily_once_and_closed(owned, settings, body):
    client = WorkersAIClient(**settings, timeout=9.0)
    assert owned.created == []

    client.create(body)
    client.create(body)
    [http] = owned.created
    [options] = owned.options
    assert options["limits"].max_keepalive_connections == options["limits"].max_connections == 100

    assert not http.is_closed

    client.close()
    assert http.is_closed
    client.close()  # closing twice is harmless

    client.create(body)  # a closed client starts a fresh connection pool when used again
    assert len(owned.created) == 2
    client.close()


def test_sync_context_manager_closes_its_own_client(owned, settings, body):
    with WorkersAIClient(**settings) as client:
        client.create(body)
        list(client.stream(body, mode="buffered"))
    [http] = owned.created
    assert http.is_closed


def test_clients_share_one_pool_and_the_last_one_out_closes_it(owned, settings, body):
    first, second = WorkersAIClient(**settings), WorkersAIClient(**settings, timeout=3.0, session_id="s")
    first.create(body)
    second.create(body)
    [http] = owned.created
    first.close()
    assert not http.is_closed  # the second client still uses it
    second.create(body)
    second.close()
    assert http.is_closed


def test_sixteen_threads_calling_one_client_at_once_open_one_pool(owned, settings, body):
    client = WorkersAIClient(**settings)
    start = threading.Barrier(16)

    def first_call() -> None:
        start.wait()
        client.create(body)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        threads = [threading.Thread(target=first_call) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        client.close()
    assert len(owned.created) == 1 and owned.created[0].is_closed
    assert [warning for warning in caught if issubclass(warning.category, ResourceWarning)] == []


def test_user_supplied_sync_client_is_never_closed(script, fixtures, settings, body):
    server = script(*(httpx.Response(200, json=fixtures.json("responses-text.json")) for _ in range(3)))
    http = httpx.Client(transport=httpx.MockTransport(server))
    with WorkersAIClient(http_client=http, **settings) as client:
        assert client.http_client is http
        client.create(body)
        client.close()
        client.create(body)
    assert not http.is_closed
    http.post("https://example.test/still-usable")
    assert len(server.requests) == 3


def test_user_supplied_async_client_is_never_closed(script, fixtures, settings, body):
    server = script(*(httpx.Response(200, json=fixtures.json("responses-text.json")) for _ in range(3)))
    http = httpx.AsyncClient(transport=httpx.MockTransport(server))

    async def main() -> None:
        async with AsyncWorkersAIClient(http_client=http, **settings) as client:
            assert client.http_client is http
            await client.create(body)
            await client.aclose()
            await client.create(body)
        assert not http.is_closed
        await http.post("https://example.test/still-usable")

    asyncio.run(main())
    assert len(server.requests) == 3


def test_run_envelope_is_unwrapped(call, script, fixtures, body):
    server = script(httpx.Response(200, json=fixtures.json("run-envelope-text.json")))
    reply = call(server).create(body)

    assert reply == reply_from_json(fixtures.json("responses-text.json"))
    assert reply.text == "Open-source models offer transparency, customizability and no lock-in."
    assert reply.raw is not None and reply.raw["object"] == "response"


def test_create_returns_the_parsed_reply(call, script, fixtures, body):
    server = script(httpx.Response(200, json=fixtures.json("responses-tool-call.json")))
    reply = call(server).create(body)
    assert reply.id == "resp_3d0cf17104d94e3490a7f1a11acafc6d"
    assert reply.reasoning == "User wants the weather in Paris. Call get_weather."
    assert [(c.call_id, c.name, json.loads(c.arguments)) for c in reply.tool_calls] == [
        ("call_c2fa810793ba4b79abd260a109f99413", "get_weather", {"city": "Paris"})
    ]
    assert reply.finish_reason == "tool_calls"


def test_request_bodies_are_never_mutated(call, script, sse_bytes_response, fixtures):
    body = {"model": "m", "input": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function", "name": "f"}]}
    original = copy.deepcopy(body)
    server = script(
        httpx.Response(200, json=fixtures.json("responses-text.json")),
        httpx.Response(200, json=fixtures.json("responses-text.json")),
        sse_bytes_response(fixtures.bytes("openai-responses-stream-tool-call.sse")),
    )
    client = call(server)
    client.create(body, stop=["x"])
    client.stream(body, mode="buffered")
    client.stream(body, mode="responses")
    assert body == original
    assert "stream" not in server.bodies[0] and server.bodies[2]["stream"] is True


@pytest.fixture
def sse_bytes_response(chunked):
    return lambda data: chunked([data])


def test_repr_names_the_endpoint(call, script, account_id):
    client = call(script()).client
    assert repr(client) == (
        f"{type(client).__name__}(base_url='https://api.cloudflare.com/client/v4/accounts/{account_id}/ai/v1')"
    )


def test_a_callers_client_keeps_its_own_headers_cookies_and_params(fixtures, settings, body, token):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=fixtures.json("responses-text.json"))

    http = httpx.Client(transport=httpx.MockTransport(handler), headers={"x-proxy-key": "k1", "user-agent": "mine"})
    client = WorkersAIClient(**settings, http_client=http, default_headers={"x-extra": "e"})
    client.create(body)
    http.headers["x-proxy-key"] = "k2"  # changed between calls: the next request must carry the new value
    client.create(body)
    http.cookies.set("session", "s1")
    http.params = httpx.QueryParams({"trace": "on"})
    client.create(body)

    first, second, third = seen
    for request in seen:
        assert request.headers["authorization"] == f"Bearer {token}"
        assert request.headers["x-extra"] == "e"
        assert request.headers["user-agent"].startswith("cfai/")  # ours wins over the client's default
        assert request.headers["content-type"] == "application/json"
        assert json.loads(request.content) == body
    assert (first.headers["x-proxy-key"], second.headers["x-proxy-key"]) == ("k1", "k2")
    assert third.headers["cookie"] == "session=s1" and third.url.params["trace"] == "on"
    assert first.extensions["timeout"] == {"connect": 5.0, "read": 60.0, "write": 60.0, "pool": 60.0}


@pytest.mark.parametrize(
    "client_headers",
    [
        pytest.param({}, id="httpx-defaults"),
        pytest.param({"Host": "proxy.local", "x-proxy-key": "k"}, id="own-host"),
        pytest.param({"Content-Length": "5"}, id="own-content-length"),
        pytest.param({"Transfer-Encoding": "chunked"}, id="own-transfer-encoding"),
    ],
)
@pytest.mark.parametrize("path", ["responses", "chat/completions", "https://gateway.example:8443/v1/run"])
def test_requests_are_built_as_httpx_builds_them(settings, body, client_headers, path):
    """`build` skips httpx's header derivation on each call; what it sends must not differ from what httpx makes."""
    with httpx.Client(headers=client_headers) as http:
        client = WorkersAIClient(**settings, http_client=http, default_headers={"x-extra": "e"})
        content = client.encode(body)
        merged = httpx.Headers(http.headers)
        merged.update(client.headers)

        for _ in range(2):  # the first builds the cached headers, the second uses them
            ours = client.build(http, path, content)
            reference = httpx.Request(
                "POST",
                client.url(path),
                content=content,
                headers=merged,
                extensions={"timeout": client.config.timeout.as_dict()},
            )
            assert ours.headers.raw == reference.headers.raw
            assert (ours.method, ours.url, ours.content, ours.extensions) == (
                reference.method,
                reference.url,
                reference.content,
                reference.extensions,
            )
            assert type(ours.stream) is type(reference.stream)
