"""Where a client sends requests and with which headers, resolved once from arguments and the environment.

Arguments win over environment variables; the variable names and their aliases are those Cloudflare's own tools use.
The generic `BASE_URL` is deliberately not read: any application's `BASE_URL` would redirect our traffic.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypedDict, cast
from urllib.parse import quote, urlsplit

from pydantic import SecretStr

from cfai.version import __version__

if TYPE_CHECKING:
    import httpx

StreamMode = Literal["auto", "buffered", "responses", "chat_completions"]
STREAM_MODES: tuple[StreamMode, ...] = ("auto", "buffered", "responses", "chat_completions")

ACCOUNT_ID_ENV = ("CLOUDFLARE_ACCOUNT_ID", "CF_ACCOUNT_ID")
API_TOKEN_ENV = ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_AUTH_TOKEN", "CF_AI_API_TOKEN")
BASE_URL_ENV = "CLOUDFLARE_AI_BASE_URL"
GATEWAY_ENV = "CLOUDFLARE_AI_GATEWAY"

CLOUDFLARE_API_HOST = "api.cloudflare.com"
DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4/accounts/{account_id}/ai/v1"
DEFAULT_READ_TIMEOUT, DEFAULT_CONNECT_TIMEOUT = 60.0, 5.0

_ACCOUNT_ID = re.compile(r"[0-9a-f]{32}")
# AI Gateway options become `cf-aig-<name>` headers; names follow Cloudflare's docs, with `_` for `-`.
_GATEWAY_OPTIONS = frozenset(
    {
        "cache_ttl",
        "skip_cache",
        "cache_key",
        "collect_log",
        "request_timeout",
        "max_attempts",
        "retry_delay",
        "backoff",
        "metadata",
        "event_id",
    }
)


class ClientSettings(TypedDict, total=False):
    """The connection settings shared by both clients and both adapters (docs/design.md, settings)."""

    account_id: str | None
    api_token: str | SecretStr | None
    base_url: str | None
    gateway_id: str | None
    gateway_options: Mapping[str, object] | None
    timeout: float | httpx.Timeout | None
    max_retries: int
    session_id: str | None
    default_headers: Mapping[str, str] | None
    stream_mode: StreamMode
    env: Mapping[str, str] | None


# What an adapter holds as same-named attributes (`env` is a test seam, not a setting).
CLIENT_SETTING_NAMES = tuple(name for name in ClientSettings.__annotations__ if name != "env")


def client_settings_from(source: object) -> ClientSettings:
    """The connection settings of an object that holds them as attributes named as in ClientSettings (the adapters)."""
    return cast(ClientSettings, {name: getattr(source, name) for name in CLIENT_SETTING_NAMES})


class ConfigurationError(ValueError):
    """A client setting is missing or invalid; raised before any request is sent."""


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """A client's settings, resolved and checked: the /v1 root, the headers of every request, timeout, retries."""

    base_url: str
    # Carries the bearer token, so it stays out of the generated repr.
    headers: Mapping[str, str] = field(repr=False)
    timeout: httpx.Timeout
    max_retries: int
    stream_mode: StreamMode
    token: SecretStr

    @property
    def is_cloudflare(self) -> bool:
        return urlsplit(self.base_url).hostname == CLOUDFLARE_API_HOST

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path}"

    def run_url(self, model: str) -> str:
        """Cloudflare's `/ai/run/{model}` route (the batch queue, native embeddings), beside the `/ai/v1` root."""
        if not self.base_url.endswith("/v1"):
            raise ConfigurationError(
                "This call needs Workers AI's /ai/run route, found beside base_url's /v1 root; base_url "
                f"{self.base_url!r} does not end in /v1."
            )
        return f"{self.base_url[: -len('/v1')]}/run/{quote(model.strip(), safe='/@')}"


def _first_env(names: tuple[str, ...], env: Mapping[str, str]) -> str | None:
    return next((env[name] for name in names if env.get(name, "").strip()), None)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_header_value(setting: str, value: str) -> None:
    """Refuses a value an HTTP header cannot carry (CR/LF would split the request; httpx encodes ASCII only).

    The value itself never appears in the error: it may be the token.
    """
    if not value.isascii() or not value.isprintable():
        position = next(index for index, char in enumerate(value) if not (char.isascii() and char.isprintable()))
        raise ConfigurationError(
            f"{setting} contains a character an HTTP header cannot carry (a control character, line break or "
            f"non-ASCII character, at position {position}); check its value."
        )


def resolve_base_url(base_url: str | None, account_id: str | None, env: Mapping[str, str]) -> str:
    base_url = base_url or env.get(BASE_URL_ENV)
    if not base_url:
        account_id = account_id or _first_env(ACCOUNT_ID_ENV, env)
        if not account_id:
            raise ConfigurationError(
                "No Cloudflare account id: pass account_id= or set CLOUDFLARE_ACCOUNT_ID (or CF_ACCOUNT_ID). "
                "It is the 32-character hex id shown on the Workers AI page of the Cloudflare dashboard."
            )
        if not _ACCOUNT_ID.fullmatch(account_id.strip().lower()):
            raise ConfigurationError(
                "The Cloudflare account id must be 32 hexadecimal characters; got "
                f"{len(account_id)} characters. Check CLOUDFLARE_ACCOUNT_ID or account_id=."
            )
        return DEFAULT_BASE_URL.format(account_id=quote(account_id.strip().lower(), safe=""))
    try:
        parts = urlsplit(base_url)
        host = parts.hostname
    except ValueError:
        raise ConfigurationError("base_url is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigurationError("base_url must be an http(s) URL with a host, such as https://example.com/v1.")
    if parts.username is not None or parts.password is not None:
        # httpx would send these as Basic auth in place of the Bearer token; the URL is also printed in errors.
        raise ConfigurationError("base_url must not contain a user name or password; pass api_token= instead.")
    if parts.query or parts.fragment or base_url.rstrip("/").endswith(("?", "#")):
        raise ConfigurationError("base_url must not contain a query or fragment: paths are appended to it.")
    if parts.scheme == "http" and not _is_loopback(host):
        raise ConfigurationError(
            "base_url uses plain http for a host that is not loopback; the API token would travel unencrypted. "
            "Use https, or http only with 127.0.0.1/localhost (the emulator)."
        )
    return base_url.rstrip("/")


def resolve_token(api_token: str | SecretStr | None, env: Mapping[str, str]) -> SecretStr:
    if isinstance(api_token, SecretStr):
        api_token = api_token.get_secret_value()
    # A blank value counts as unset, so it neither sends "Bearer " nor hides the variables after it.
    token = (api_token or "").strip() or (_first_env(API_TOKEN_ENV, env) or "").strip()
    if not token:
        raise ConfigurationError(
            "No Cloudflare API token: pass api_token= or set CLOUDFLARE_API_TOKEN (or CLOUDFLARE_AUTH_TOKEN, "
            "CF_AI_API_TOKEN) to a token with the Workers AI Read permission."
        )
    check_header_value("The API token (api_token= or CLOUDFLARE_API_TOKEN)", token)
    return SecretStr(token)


def gateway_option(name: str) -> str:
    """An AI Gateway option's name as `gateway_options` keys it (`cache_ttl` for "cache-ttl" or "cf-aig-cache-ttl");
    an unknown name is a ConfigurationError."""
    key = name.replace("-", "_").removeprefix("cf_aig_")
    if key not in _GATEWAY_OPTIONS:
        raise ConfigurationError(
            f"Unknown AI Gateway option {name!r}; known options: {', '.join(sorted(_GATEWAY_OPTIONS))}."
        )
    return key


def gateway_headers(gateway_id: str | None, options: Mapping[str, object] | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if gateway_id:
        headers["cf-aig-gateway-id"] = gateway_id
    for name, value in (options or {}).items():
        key = gateway_option(name)
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, Mapping):
            # Header values must be ASCII; JSON's \u escapes keep any metadata text intact.
            text = json.dumps(value, separators=(",", ":"))
        else:
            text = str(value)
        check_header_value(f"gateway_options[{name!r}]", text)
        headers["cf-aig-" + key.replace("_", "-")] = text
    if gateway_id:
        check_header_value("gateway_id", gateway_id)
    return headers


def resolve_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    # httpx loads here, with the first client, not when an adapter is imported (benchmarks/: import time).
    import httpx

    if timeout is None:
        return httpx.Timeout(DEFAULT_READ_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT)
    if isinstance(timeout, httpx.Timeout):
        return timeout
    return httpx.Timeout(float(timeout), connect=min(5.0, float(timeout)))


def resolve_config(
    *,
    account_id: str | None = None,
    api_token: str | SecretStr | None = None,
    base_url: str | None = None,
    gateway_id: str | None = None,
    gateway_options: Mapping[str, object] | None = None,
    timeout: float | httpx.Timeout | None = None,
    max_retries: int = 2,
    session_id: str | None = None,
    default_headers: Mapping[str, str] | None = None,
    stream_mode: StreamMode = "auto",
    env: Mapping[str, str] | None = None,
) -> ClientConfig:
    env = os.environ if env is None else env
    if stream_mode not in STREAM_MODES:
        raise ConfigurationError(f"stream_mode must be one of {', '.join(STREAM_MODES)}; got {stream_mode!r}.")
    if max_retries < 0:
        raise ConfigurationError("max_retries must be 0 or more.")
    token = resolve_token(api_token, env)
    url = resolve_base_url(base_url, account_id, env)
    headers = {
        "authorization": f"Bearer {token.get_secret_value()}",
        "user-agent": f"cfai/{__version__}",
        **gateway_headers(gateway_id or env.get(GATEWAY_ENV), gateway_options),
    }
    if session_id:
        check_header_value("session_id", session_id)
        headers["x-session-affinity"] = session_id
    for key, value in (default_headers or {}).items():
        check_header_value(f"default_headers[{key!r}]", str(value))
        check_header_value("a default_headers name", str(key))
        headers[key.lower()] = value
    return ClientConfig(
        base_url=url,
        headers=headers,
        timeout=resolve_timeout(timeout),
        max_retries=max_retries,
        stream_mode=stream_mode,
        token=token,
    )


def check_connection_settings(settings: ClientSettings) -> None:
    """What can be checked before any credential is looked up: the URL or account id when given, header values.

    Model classes run it at construction; `resolve_config` runs the full checks at the first request.
    """
    base_url, account_id = settings.get("base_url"), settings.get("account_id")
    if base_url or account_id:
        resolve_base_url(base_url, account_id, env={})
    token = settings.get("api_token")
    if token is not None:
        secret = token.get_secret_value() if isinstance(token, SecretStr) else token
        if secret.strip():
            check_header_value("The API token (api_token=)", secret.strip())
    if settings.get("session_id"):
        check_header_value("session_id", str(settings["session_id"]))
    for key, value in (settings.get("default_headers") or {}).items():
        check_header_value(f"default_headers[{key!r}]", str(value))
    gateway_headers(settings.get("gateway_id"), settings.get("gateway_options"))


def check_http_client(value: object, *, asynchronous: bool) -> object:
    """Validates a caller's httpx client without importing httpx for the many who pass none.

    The adapters type these fields loosely so that importing them does not load httpx (benchmarks/: import time).
    """
    if value is None:
        return None
    import httpx

    expected = httpx.AsyncClient if asynchronous else httpx.Client
    if not isinstance(value, expected):
        raise ValueError(f"expected an {expected.__module__}.{expected.__name__}, got {type(value).__name__}")
    return value


def check_timeout(value: object) -> object:
    """Seconds (a number), an httpx.Timeout, or its `as_dict()` form (from serialized settings); validated like
    `check_http_client`, without importing httpx early."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    import httpx

    if isinstance(value, httpx.Timeout):
        return value
    if isinstance(value, dict):
        return httpx.Timeout(**value)
    raise ValueError(f"timeout must be a number of seconds or an httpx.Timeout, got {type(value).__name__}")
