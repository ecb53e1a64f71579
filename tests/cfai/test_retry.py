"""The retry policy as a table, then the same rules end to end through the client with recorded (never real) sleeps."""

from __future__ import annotations

import email.utils
import json
import time

import httpx
import pytest

from cfai.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    InternalServerError,
    RateLimitError,
    ResponseFailedError,
    ResponseFormatError,
    WorkersAIError,
    error_from_status,
)
from cfai.retry import RetryPolicy, is_retryable, parse_retry_after, retry_delay

NOW = 1_754_400_000.0


def status(code: int, cf_code: int | None = None, retry_after: str | None = None) -> APIStatusError:
    body = json.dumps({"errors": [{"code": cf_code, "message": "x"}]}).encode() if cf_code else b""
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return error_from_status(code, body, headers)


def http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (status(408), True),
        (status(409), True),
        (status(429), True),
        (status(429, 3040), True),
        (status(429, 3036), False),
        (status(500), True),
        (status(502), True),
        (status(503), True),
        (status(504), True),
        (status(400), False),
        (status(401), False),
        (status(403), False),
        (status(404), False),
        (status(413), False),
        (status(422), False),
        (APIConnectionError("refused"), True),
        (APITimeoutError("slow"), True),
        (ResponseFormatError("cut"), False),
        (ResponseFailedError("failed"), False),
    ],
    ids=lambda value: (
        repr(value)
        if isinstance(value, bool)
        else f"{type(value).__name__}-" + str(getattr(value, "status_code", "")) + str(getattr(value, "code", "") or "")
    ),
)
def test_which_errors_are_retried(error: WorkersAIError, retried: bool):
    assert is_retryable(error) is retried
    delay = retry_delay(RetryPolicy(), 0, error, rand=lambda: 1.0)
    assert (delay == 0.5) if retried else (delay is None)


@pytest.mark.parametrize(
    ("attempt", "rand", "expected"),
    [
        (0, 1.0, 0.5),
        (1, 1.0, 1.0),
        (2, 1.0, 2.0),
        (3, 1.0, 4.0),
        (4, 1.0, 8.0),
        (5, 1.0, 8.0),  # capped at 8 s
        (9, 1.0, 8.0),
        (0, 0.0, 0.25),  # jitter keeps at least half the backoff
        (0, 0.5, 0.375),
        (3, 0.0, 2.0),
        (6, 0.0, 4.0),
    ],
)
def test_backoff_doubles_from_half_a_second_with_jitter(attempt, rand, expected):
    policy = RetryPolicy(max_retries=10)
    assert retry_delay(policy, attempt, status(503), rand=lambda: rand) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("retry_after", "seconds"),
    [
        ("3", 3.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-5", 0.0),
        ("soon", None),  # unreadable
        ("", None),
        ("inf", None),
        ("nan", None),
        (http_date(NOW + 30), 30.0),
        (http_date(NOW + 3600), 3600.0),
        (http_date(NOW - 100), 0.0),  # a date in the past: go now
    ],
)
def test_retry_after_seconds_and_http_dates(retry_after, seconds):
    assert parse_retry_after(retry_after, now=lambda: NOW) == (pytest.approx(seconds) if seconds is not None else None)


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        ("3", 3.0),
        ("0", 0.0),
        ("60", 60.0),  # at the cap: honoured
        ("61", None),  # above the cap: never sooner than asked, so not retried at all
        ("86400", None),
        ("soon", 0.5),  # unreadable: backoff
        (None, 0.5),
    ],
)
def test_retry_after_is_honoured_up_to_the_cap_and_never_cut_short(retry_after, expected):
    error = status(429, 3040, retry_after=retry_after)
    assert retry_delay(RetryPolicy(), 0, error, rand=lambda: 1.0) == (
        pytest.approx(expected) if expected is not None else None
    )


def test_retry_after_never_revives_a_final_error():
    for error in (status(429, 3036, retry_after="1"), status(400, retry_after="1")):
        assert retry_delay(RetryPolicy(), 0, error, rand=lambda: 1.0) is None


@pytest.mark.parametrize("max_retries", [0, 1, 2, 5])
def test_max_retries_bounds_the_attempts(max_retries):
    policy = RetryPolicy(max_retries=max_retries)
    delays = [retry_delay(policy, attempt, status(503), rand=lambda: 1.0) for attempt in range(7)]
    assert [delay is not None for delay in delays] == [attempt < max_retries for attempt in range(7)]


def test_parse_retry_after_absent():
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 99 Foo 2025 nonsense") is None


# End to end: a scripted server, an injected sleep.


def ok(fixtures) -> httpx.Response:
    return httpx.Response(200, json=fixtures.json("responses-text.json"))


def failure(code: int, fixtures=None, fixture: str | None = None, **headers: str) -> httpx.Response:
    content = fixtures.bytes(fixture) if fixture else b""
    return httpx.Response(code, content=content, headers={"content-type": "application/json", **headers})


@pytest.mark.parametrize(
    "first",
    [
        lambda fx: failure(408),
        lambda fx: failure(409),
        lambda fx: failure(429, fx, "error-429-3040.json"),
        lambda fx: failure(500),
        lambda fx: failure(502),
        lambda fx: failure(503),
        lambda fx: failure(504),
        lambda fx: httpx.ConnectError("refused"),
        lambda fx: httpx.RemoteProtocolError("peer closed connection"),
        lambda fx: httpx.ReadTimeout("read timed out"),
        lambda fx: httpx.ConnectTimeout("connect timed out"),
    ],
    ids=[
        "408",
        "409",
        "429-3040",
        "500",
        "502",
        "503",
        "504",
        "connect",
        "protocol",
        "read-timeout",
        "connect-timeout",
    ],
)
def test_transient_failures_are_retried(call, script, fixtures, body, first):
    server = script(first(fixtures), ok(fixtures))
    client = call(server)
    reply = client.create(body)

    assert reply.text.startswith("Open-source models offer")
    assert len(server.requests) == 2
    assert server.requests[0].content == server.requests[1].content
    [delay] = client.sleeps
    assert 0.25 <= delay <= 0.5


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (lambda fx: failure(400, fx, "error-400-5006.json"), APIStatusError),
        (lambda fx: failure(401, fx, "error-401-10000.json"), APIStatusError),
        (lambda fx: failure(403), APIStatusError),
        (lambda fx: failure(404, fx, "error-404-7003.json"), APIStatusError),
        (lambda fx: failure(429, fx, "error-429-3036.json"), RateLimitError),
    ],
    ids=["400", "401", "403", "404", "429-3036"],
)
def test_final_failures_are_not_retried(call, script, fixtures, body, response, kind):
    server = script(response(fixtures))
    client = call(server)
    with pytest.raises(kind):
        client.create(body)
    assert len(server.requests) == 1
    assert client.sleeps == []


@pytest.mark.parametrize("max_retries", [0, 1, 3])
def test_max_retries_is_honoured(call, script, body, max_retries):
    server = script(*(failure(503) for _ in range(max_retries + 1)))
    client = call(server, max_retries=max_retries)
    with pytest.raises(InternalServerError):
        client.create(body)

    assert len(server.requests) == max_retries + 1
    assert len(client.sleeps) == max_retries
    for attempt, delay in enumerate(client.sleeps):
        backoff = 0.5 * 2**attempt
        assert backoff / 2 <= delay <= backoff


def test_default_is_two_retries(call, script, body):
    server = script(failure(500), failure(502), failure(503))
    client = call(server)
    with pytest.raises(InternalServerError) as caught:
        client.create(body)
    assert caught.value.status_code == 503  # the last answer is the one raised
    assert len(client.sleeps) == 2


def test_retry_after_seconds_end_to_end(call, script, fixtures, body):
    server = script(failure(429, fixtures, "error-429-3040.json", **{"retry-after": "2"}), ok(fixtures))
    client = call(server)
    client.create(body)
    assert client.sleeps == [2.0]


def test_retry_after_http_date_end_to_end(call, script, fixtures, body):
    when = http_date(time.time() + 30)
    server = script(failure(503, **{"retry-after": when}), ok(fixtures))
    client = call(server)
    client.create(body)
    [delay] = client.sleeps
    assert 28.0 <= delay <= 30.0


def test_retry_after_beyond_the_cap_is_raised_not_retried_sooner(call, script, fixtures, body):
    server = script(failure(429, **{"retry-after": "3600"}))
    client = call(server)
    with pytest.raises(RateLimitError) as raised:
        client.create(body)
    assert raised.value.retry_after == 3600.0
    assert client.sleeps == [] and len(server.requests) == 1


def test_buffered_stream_is_retried_like_create(call, script, fixtures, body):
    server = script(failure(503), ok(fixtures))
    client = call(server)
    events = client.stream(body, mode="buffered")
    assert events[-1].reply.text.startswith("Open-source models offer")
    assert len(server.requests) == 2
    assert len(client.sleeps) == 1
