"""Every failed reply becomes the most specific cfai error, with advice, the cf-ray id, and never the token."""

from __future__ import annotations

import json

import httpx
import pytest

from cfai.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ContextWindowExceededError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseFailedError,
    ResponseFormatError,
    WorkersAIError,
    error_from_status,
    redact,
)

RAY = "8f2a6c1d3e4b5a69-CDG"


def error_reply(status: int, content: bytes, content_type: str = "application/json") -> httpx.Response:
    return httpx.Response(status, content=content, headers={"content-type": content_type, "cf-ray": RAY})


@pytest.mark.parametrize(
    ("fixture", "status", "kind", "code", "advice"),
    [
        ("error-400-5006.json", 400, BadRequestError, 5006, "AiError: Bad input"),
        ("error-401-10000.json", 401, AuthenticationError, 10000, "Workers AI Read permission"),
        ("error-404-7003.json", 404, NotFoundError, 7003, "Check CLOUDFLARE_ACCOUNT_ID"),
        ("error-429-3036.json", 429, RateLimitError, 3036, "daily free allocation is used up"),
        ("error-429-3040.json", 429, RateLimitError, 3040, "out of capacity"),
    ],
)
def test_cloudflare_error_fixtures(call, script, fixtures, body, fixture, status, kind, code, advice):
    server = script(error_reply(status, fixtures.bytes(fixture)))
    with pytest.raises(kind) as caught:
        call(server, max_retries=0).create(body)

    error = caught.value
    assert type(error) is kind
    assert error.status_code == status
    assert error.code == code
    assert error.request_id == RAY
    assert error.body == fixtures.json(fixture)
    assert error.message.startswith(f"Workers AI returned HTTP {status} (code {code}): ")
    assert fixtures.json(fixture)["errors"][0]["message"].rstrip(".") in error.message
    assert advice in error.message
    assert f"[cf-ray {RAY}]" in str(error)


@pytest.mark.parametrize(
    ("status", "payload", "kind", "code", "text"),
    [
        (
            400,
            {
                "error": {
                    "message": "This model's maximum context length is 128000 tokens. However, you requested "
                    "131072 tokens.",
                    "type": "invalid_request_error",
                    "code": "context_length_exceeded",
                }
            },
            ContextWindowExceededError,
            None,
            "maximum context length is 128000 tokens",
        ),
        (
            401,
            {"error": {"message": "Invalid bearer token", "code": 401}},
            AuthenticationError,
            401,
            "Invalid bearer token",
        ),
        (403, {"error": "token lacks scope"}, PermissionDeniedError, None, "token lacks scope"),
        (404, {"error": {"message": "No such model", "code": 5007}}, NotFoundError, 5007, "No such model"),
    ],
)
def test_openai_style_errors(call, script, body, status, payload, kind, code, text):
    server = script(error_reply(status, json.dumps(payload).encode()))
    with pytest.raises(kind) as caught:
        call(server, max_retries=0).create(body)
    assert type(caught.value) is kind
    assert caught.value.code == code
    assert text in caught.value.message


def test_cloudflare_context_overflow_is_its_own_error(call, script, body):
    envelope = {
        "success": False,
        "errors": [
            {
                "code": 5021,
                "message": "AiError: The estimated number of input and maximum output tokens "
                "(140000) exceeded this model context window limit (128000).",
            }
        ],
    }
    server = script(error_reply(400, json.dumps(envelope).encode()))
    with pytest.raises(ContextWindowExceededError) as caught:
        call(server).create(body)
    assert isinstance(caught.value, BadRequestError)
    assert caught.value.code == 5021
    assert "Shorten the conversation" in caught.value.message
    assert len(server.requests) == 1  # a 400 is never retried


def test_html_502_from_a_proxy(call, script, body):
    page = b"<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>"
    server = script(error_reply(502, page, content_type="text/html"))
    with pytest.raises(InternalServerError) as caught:
        call(server, max_retries=0).create(body)
    error = caught.value
    assert error.status_code == 502
    assert error.code is None
    assert "HTML page" in error.message
    assert "<html>" not in error.message
    assert error.body == page.decode()


def test_empty_error_body(call, script, body):
    server = script(httpx.Response(503))
    with pytest.raises(InternalServerError, match="empty body") as caught:
        call(server, max_retries=0).create(body)
    assert caught.value.body == ""
    assert caught.value.request_id is None


def test_plain_text_error_body_is_quoted(call, script, body):
    server = script(httpx.Response(413, text="Request Entity Too Large", headers={"x-request-id": "req_42"}))
    with pytest.raises(BadRequestError, match="Request Entity Too Large") as caught:
        call(server).create(body)
    assert caught.value.request_id == "req_42"


def test_unfamiliar_json_error_body_is_quoted(call, script, body):
    server = script(httpx.Response(500, json={"detail": "upstream model crashed"}))
    with pytest.raises(InternalServerError, match="upstream model crashed") as caught:
        call(server, max_retries=0).create(body)
    assert caught.value.code is None
    assert caught.value.body == {"detail": "upstream model crashed"}


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, BadRequestError),
        (413, BadRequestError),
        (422, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (429, RateLimitError),
        (500, InternalServerError),
        (504, InternalServerError),
        (405, APIStatusError),
        (408, APIStatusError),
        (409, APIStatusError),
    ],
)
def test_status_table(status, kind):
    error = error_from_status(status, b'{"errors": [{"code": 1, "message": "m"}]}', {})
    assert type(error) is kind
    assert error.status_code == status


def test_retry_after_is_kept_for_the_retry_policy():
    error = error_from_status(429, b"", httpx.Headers({"Retry-After": "7"}))
    assert error.retry_after == 7.0


@pytest.mark.parametrize(
    "payload",
    [
        {"id": "resp_1", "status": "failed", "output": [], "error": {"code": "server_error", "message": "boom"}},
        {"id": "resp_1", "status": "completed", "output": [], "error": {"code": "server_error", "message": "boom"}},
    ],
)
def test_200_with_failed_status_or_error_object(call, script, body, payload):
    server = script(httpx.Response(200, json=payload))
    with pytest.raises(ResponseFailedError, match="failed response: boom") as caught:
        call(server).create(body)
    assert caught.value.code == "server_error"
    assert caught.value.body["id"] == "resp_1"
    assert len(server.requests) == 1


def test_200_failed_without_detail_still_says_it_failed(call, script, body):
    server = script(httpx.Response(200, json={"status": "failed", "output": []}))
    with pytest.raises(ResponseFailedError, match="failed to produce a reply"):
        call(server).create(body)


def test_truncated_json_is_a_format_error(call, script, fixtures, body):
    cut = fixtures.bytes("responses-text.json")[:700]
    server = script(httpx.Response(200, content=cut, headers={"content-type": "application/json"}))
    with pytest.raises(ResponseFormatError, match=r"not valid JSON.*cut off"):
        call(server).create(body)


@pytest.mark.parametrize("payload", [{"foo": 1}, [], "text", {"output": "not a list"}])
def test_json_that_is_not_a_response_is_a_format_error(call, script, body, payload):
    server = script(httpx.Response(200, json=payload))
    with pytest.raises(ResponseFormatError, match="Expected a Responses object"):
        call(server).create(body)


def test_format_error_in_buffered_stream(call, script, body):
    cut = b'{"id": "resp_1", "output": ['
    server = script(httpx.Response(200, content=cut, headers={"content-type": "application/json"}))
    events, error = call(server).stream_until_error(body)
    assert events == []
    assert isinstance(error, ResponseFormatError)


def test_connection_error_and_timeout(call, script, body):
    server = script(httpx.ConnectError("[Errno 111] Connection refused"), httpx.ReadTimeout("timed out"))
    client = call(server, max_retries=0)
    with pytest.raises(APIConnectionError, match=r"Could not reach Workers AI: .*Connection refused") as refused:
        client.create(body)
    assert isinstance(refused.value.__cause__, httpx.ConnectError)
    with pytest.raises(APITimeoutError, match="raise timeout="):
        client.create(body)


def test_token_is_never_in_messages_reprs_or_strings(call, script, body, token):
    echoed = {"errors": [{"code": 10000, "message": f"Authentication error for Bearer {token}"}]}
    server = script(
        error_reply(401, json.dumps(echoed).encode()),
        error_reply(502, f"<html>upstream said Authorization: Bearer {token}</html>".encode(), "text/html"),
        httpx.Response(500, text=f"debug: header was {token}"),
        httpx.ConnectError(f"proxy refused credentials {token}"),
    )
    client = call(server, max_retries=0)
    errors: list[WorkersAIError] = []
    for _ in range(4):
        with pytest.raises(WorkersAIError) as caught:
            client.create(body)
        errors.append(caught.value)

    assert [type(error) for error in errors] == [
        AuthenticationError,
        InternalServerError,
        InternalServerError,
        APIConnectionError,
    ]
    assert "[redacted]" in str(errors[0])
    for error in errors:
        for text in (str(error), repr(error), getattr(error, "message", "")):
            assert token not in text
    assert token not in errors[2].body
    assert token not in json.dumps(errors[0].body)
    assert errors[0].body["errors"][0]["code"] == 10000
    for text in (repr(client.client), str(client.client), repr(client.client.config)):
        assert token not in text


def test_redact_leaves_short_or_empty_secrets_alone():
    assert redact("abc abc", ["abc", ""]) == "abc abc"
    assert redact("key=s3cr3t!", ["s3cr3t"]) == "key=[redacted]!"


def test_exception_tree():
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(ContextWindowExceededError, BadRequestError)
    for kind in (
        BadRequestError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        RateLimitError,
        InternalServerError,
    ):
        assert issubclass(kind, APIStatusError)
    for kind in (APIConnectionError, APIStatusError, ResponseFailedError, ResponseFormatError):
        assert issubclass(kind, WorkersAIError)
