"""Settings resolution, URLs and headers, checked on the request the server actually receives."""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import SecretStr

from cfai import ConfigurationError, __version__
from cfai.config import resolve_config, resolve_timeout

OTHER_ACCOUNT = "fedcba9876543210fedcba9876543210"


def cloudflare_url(account: str) -> str:
    return f"https://api.cloudflare.com/client/v4/accounts/{account}/ai/v1/responses"


def ok(fixtures):
    return httpx.Response(200, json=fixtures.json("responses-text.json"))


def test_default_request_url_headers_and_body(call, script, fixtures, body, account_id, token):
    server = script(ok(fixtures))
    call(server).create(body)

    [request] = server.requests
    assert request.method == "POST"
    assert str(request.url) == cloudflare_url(account_id)
    assert request.headers["authorization"] == f"Bearer {token}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == f"cfai/{__version__}"
    assert "cf-aig-gateway-id" not in request.headers
    assert "x-session-affinity" not in request.headers
    assert json.loads(request.content) == body


def test_body_keeps_unicode_unescaped(call, script, fixtures):
    server = script(ok(fixtures))
    call(server).create({"model": "m", "input": "Grüße, 東京"})
    assert "Grüße, 東京".encode() in server.requests[0].content


@pytest.mark.parametrize(
    ("env", "account", "token"),
    [
        ({"CLOUDFLARE_ACCOUNT_ID": OTHER_ACCOUNT, "CLOUDFLARE_API_TOKEN": "tok-api"}, OTHER_ACCOUNT, "tok-api"),
        ({"CF_ACCOUNT_ID": OTHER_ACCOUNT, "CLOUDFLARE_AUTH_TOKEN": "tok-auth"}, OTHER_ACCOUNT, "tok-auth"),
        ({"CF_ACCOUNT_ID": OTHER_ACCOUNT, "CF_AI_API_TOKEN": "tok-cf-ai"}, OTHER_ACCOUNT, "tok-cf-ai"),
        (
            {
                "CLOUDFLARE_ACCOUNT_ID": OTHER_ACCOUNT,
                "CF_ACCOUNT_ID": "1" * 32,
                "CLOUDFLARE_API_TOKEN": "first",
                "CLOUDFLARE_AUTH_TOKEN": "second",
                "CF_AI_API_TOKEN": "third",
            },
            OTHER_ACCOUNT,
            "first",
        ),
        (
            {"CF_ACCOUNT_ID": OTHER_ACCOUNT, "CLOUDFLARE_AUTH_TOKEN": "second", "CF_AI_API_TOKEN": "third"},
            OTHER_ACCOUNT,
            "second",
        ),
        # An empty variable counts as unset, so it does not hide its alias.
        (
            {
                "CLOUDFLARE_ACCOUNT_ID": "",
                "CF_ACCOUNT_ID": OTHER_ACCOUNT,
                "CLOUDFLARE_API_TOKEN": "",
                "CF_AI_API_TOKEN": "third",
            },
            OTHER_ACCOUNT,
            "third",
        ),
        # A token pasted from a file keeps no trailing newline.
        ({"CLOUDFLARE_ACCOUNT_ID": OTHER_ACCOUNT, "CLOUDFLARE_API_TOKEN": " tok-api\n"}, OTHER_ACCOUNT, "tok-api"),
    ],
)
def test_environment_and_aliases(call, script, fixtures, body, monkeypatch, env, account, token):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    server = script(ok(fixtures))
    call(server, account_id=None, api_token=None).create(body)

    [request] = server.requests
    assert str(request.url) == cloudflare_url(account)
    assert request.headers["authorization"] == f"Bearer {token}"


def test_arguments_win_over_environment(call, script, fixtures, body, monkeypatch, account_id):
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", OTHER_ACCOUNT)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "from-env")
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY", "env-gateway")
    server = script(ok(fixtures))
    call(server, account_id=account_id, api_token=SecretStr("from-arg"), gateway_id="arg-gateway").create(body)

    [request] = server.requests
    assert str(request.url) == cloudflare_url(account_id)
    assert request.headers["authorization"] == "Bearer from-arg"
    assert request.headers["cf-aig-gateway-id"] == "arg-gateway"


def test_base_url_from_environment_needs_no_account(call, script, fixtures, body, monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_AI_BASE_URL", "http://127.0.0.1:8787/v1/")
    server = script(ok(fixtures))
    call(server, account_id=None).create(body)
    assert str(server.requests[0].url) == "http://127.0.0.1:8787/v1/responses"


def test_base_url_argument_wins_over_environment(call, script, fixtures, body, monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_AI_BASE_URL", "https://env.example/v1")
    server = script(ok(fixtures))
    call(server, base_url="https://proxy.example/openai/v1").create(body)
    assert str(server.requests[0].url) == "https://proxy.example/openai/v1/responses"


def test_generic_base_url_is_never_read(call, script, fixtures, body, monkeypatch, account_id):
    monkeypatch.setenv("BASE_URL", "https://some-other-app.example/api")
    server = script(ok(fixtures))
    call(server).create(body)
    assert str(server.requests[0].url) == cloudflare_url(account_id)


def test_generic_base_url_does_not_replace_a_missing_account(call, monkeypatch):
    monkeypatch.setenv("BASE_URL", "https://some-other-app.example/api")
    with pytest.raises(ConfigurationError, match="CLOUDFLARE_ACCOUNT_ID"):
        call(lambda request: httpx.Response(500), account_id=None)


def test_gateway_from_environment(call, script, fixtures, body, monkeypatch, account_id):
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY", "my-gateway")
    server = script(ok(fixtures))
    call(server).create(body)

    [request] = server.requests
    assert request.headers["cf-aig-gateway-id"] == "my-gateway"
    # AI Gateway uses the same host and path; only the header routes it.
    assert str(request.url) == cloudflare_url(account_id)


def test_gateway_options_become_cf_aig_headers(call, script, fixtures, body):
    server = script(ok(fixtures))
    options = {
        "cache_ttl": 3600,
        "skip-cache": True,
        "cf-aig-collect-log": False,
        "cf_aig_request_timeout": 15000,
        "metadata": {"team": "search", "user": "Zoë"},
    }
    call(server, gateway_id="gw", gateway_options=options).create(body)

    headers = server.requests[0].headers
    assert headers["cf-aig-gateway-id"] == "gw"
    assert headers["cf-aig-cache-ttl"] == "3600"
    assert headers["cf-aig-skip-cache"] == "true"
    assert headers["cf-aig-collect-log"] == "false"
    assert headers["cf-aig-request-timeout"] == "15000"
    assert json.loads(headers["cf-aig-metadata"]) == {"team": "search", "user": "Zoë"}


def test_unknown_gateway_option_is_refused_before_any_request(call):
    with pytest.raises(ConfigurationError, match=r"'cache_tll'.*cache_ttl"):
        call(lambda request: httpx.Response(500), gateway_options={"cache_tll": 60})


def test_session_and_default_headers(call, script, fixtures, body):
    server = script(ok(fixtures))
    call(server, session_id="conversation-42", default_headers={"X-Team": "search", "User-Agent": "app/1.0"}).create(
        body
    )

    headers = server.requests[0].headers
    assert headers["x-session-affinity"] == "conversation-42"
    assert headers["x-team"] == "search"
    assert headers["user-agent"] == "app/1.0"
    assert headers["authorization"].startswith("Bearer ")


def test_account_id_is_normalised(call, script, fixtures, body, account_id):
    server = script(ok(fixtures))
    call(server, account_id=f"  {account_id.upper()}\n").create(body)
    assert str(server.requests[0].url) == cloudflare_url(account_id)


@pytest.mark.parametrize(
    "bad",
    [
        "0123456789abcdef",  # too short
        "0123456789abcdef0123456789abcdefff",  # too long
        "0123456789abcdef0123456789abcdeg",  # not hex
        "../../../user/tokens/verify#aaaa",  # 32 characters that would change the path
        "0123456789abcdef/123456789abcdef",
        "0123456789abcdef?123456789abcdef",
        "0123456789abcdef%2F23456789abcde",
    ],
)
def test_invalid_account_id_is_refused_before_any_request(call, bad):
    server_calls: list[httpx.Request] = []
    with pytest.raises(ConfigurationError) as caught:
        call(server_calls.append, account_id=bad)
    message = str(caught.value)
    assert "32 hexadecimal characters" in message
    assert "CLOUDFLARE_ACCOUNT_ID" in message
    assert bad not in message
    assert server_calls == []


def test_missing_account_id_names_the_variables(call):
    with pytest.raises(ConfigurationError) as caught:
        call(lambda request: httpx.Response(500), account_id=None)
    assert "account_id=" in str(caught.value)
    assert "CLOUDFLARE_ACCOUNT_ID" in str(caught.value)
    assert "CF_ACCOUNT_ID" in str(caught.value)


@pytest.mark.parametrize("token", [None, ""])
def test_missing_token_names_the_variables(call, token):
    with pytest.raises(ConfigurationError) as caught:
        call(lambda request: httpx.Response(500), api_token=token)
    message = str(caught.value)
    for name in ("api_token=", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_AUTH_TOKEN", "CF_AI_API_TOKEN", "Workers AI Read"):
        assert name in message


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("http://localhost:8787/v1", "http://localhost:8787/v1/responses"),
        ("http://127.0.0.1:8787/v1", "http://127.0.0.1:8787/v1/responses"),
        ("http://127.10.0.1/v1", "http://127.10.0.1/v1/responses"),
        ("http://[::1]:8000/v1/", "http://[::1]:8000/v1/responses"),
        ("https://vllm.internal.example/v1", "https://vllm.internal.example/v1/responses"),
    ],
)
def test_allowed_base_urls(call, script, fixtures, body, base_url, expected):
    server = script(ok(fixtures))
    call(server, base_url=base_url, account_id=None).create(body)
    assert str(server.requests[0].url) == expected


@pytest.mark.parametrize(
    "base_url",
    ["http://vllm.internal.example/v1", "http://10.0.0.7:8000/v1", "http://localhost.attacker.example/v1"],
)
def test_plain_http_refused_except_loopback(call, base_url):
    with pytest.raises(ConfigurationError, match="plain http"):
        call(lambda request: httpx.Response(500), base_url=base_url)


@pytest.mark.parametrize("base_url", ["ftp://example.com/v1", "api.cloudflare.com/client/v4", "https:///v1"])
def test_base_url_must_be_an_http_url(call, base_url):
    with pytest.raises(ConfigurationError, match="http"):
        call(lambda request: httpx.Response(500), base_url=base_url)


def test_timeout_reaches_each_request(call, script, fixtures, body):
    server = script(ok(fixtures), ok(fixtures))
    call(server).create(body)
    call(server, timeout=12.5).create(body)
    default, custom = (request.extensions["timeout"] for request in server.requests)
    assert default == {"connect": 5.0, "read": 60.0, "write": 60.0, "pool": 60.0}
    assert custom == {"connect": 5.0, "read": 12.5, "write": 12.5, "pool": 12.5}


def test_resolve_timeout_forms():
    assert resolve_timeout(None) == httpx.Timeout(60.0, connect=5.0)
    assert resolve_timeout(2) == httpx.Timeout(2.0, connect=2.0)
    explicit = httpx.Timeout(1.0, read=300.0)
    assert resolve_timeout(explicit) is explicit


def test_invalid_stream_mode_and_retries_are_refused():
    env = {"CLOUDFLARE_ACCOUNT_ID": OTHER_ACCOUNT, "CLOUDFLARE_API_TOKEN": "t0ken"}
    with pytest.raises(ConfigurationError, match="stream_mode"):
        resolve_config(stream_mode="sse", env=env)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="max_retries"):
        resolve_config(max_retries=-1, env=env)


def test_configuration_error_is_a_value_error():
    assert issubclass(ConfigurationError, ValueError)


def test_is_cloudflare_follows_the_host():
    env = {"CLOUDFLARE_API_TOKEN": "t0ken"}
    assert resolve_config(account_id=OTHER_ACCOUNT, env=env).is_cloudflare
    assert not resolve_config(base_url="http://127.0.0.1:9/v1", env=env).is_cloudflare


def test_blank_token_counts_as_unset():
    env = {"CLOUDFLARE_API_TOKEN": "   ", "CF_AI_API_TOKEN": "from-alias", "CLOUDFLARE_ACCOUNT_ID": OTHER_ACCOUNT}
    config = resolve_config(api_token="  ", env=env)
    assert config.token.get_secret_value() == "from-alias"
    with pytest.raises(ConfigurationError, match="CLOUDFLARE_API_TOKEN"):
        resolve_config(api_token=" ", env={"CLOUDFLARE_ACCOUNT_ID": OTHER_ACCOUNT})
