"""The connection settings as pydantic fields, declared once for every model class of both adapters.

`ChatWorkersAI`, `WorkersAI` and the embedding classes inherit `ConnectionFields` beside their framework's base
class, so they accept the same arguments (with the same environment defaults and checks), serialize the same way,
and get their clients, `close`/`aclose` and `with`/`async with` from one place. Only pydantic is imported: the core
stays framework-free. Fields holding httpx types are typed `Any` and checked by validators, so importing an adapter
does not load httpx (benchmarks/: import time).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)
from typing_extensions import Self

from cfai.clients import ModelClients
from cfai.config import (
    ACCOUNT_ID_ENV,
    API_TOKEN_ENV,
    BASE_URL_ENV,
    CLIENT_SETTING_NAMES,
    GATEWAY_ENV,
    ClientSettings,
    check_connection_settings,
    check_http_client,
    check_timeout,
)

if TYPE_CHECKING:
    from cfai.binding import BindingClient
    from cfai.transport import AsyncWorkersAIClient, WorkersAIClient

__all__ = ["ConnectionFields"]

# The fields the core clients are built from: assigning one replaces them (`cfai.clients.ModelClients`).
_CLIENT_FIELDS = frozenset({*CLIENT_SETTING_NAMES, "http_client", "http_async_client"})


def _from_env(names: tuple[str, ...]) -> Callable[[], str | None]:
    return lambda: next((os.environ[name] for name in names if os.environ.get(name, "").strip()), None)


def _secret_from_env(names: tuple[str, ...]) -> Callable[[], SecretStr | None]:
    read = _from_env(names)
    return lambda: SecretStr(value) if (value := read()) else None


class ConnectionFields(BaseModel):
    """Where a model sends its requests and how: account, token, URL, gateway, timeouts, retries, HTTP clients."""

    # Only ever a base class, so a validator of its own would never run: it is not built, which saves every adapter's
    # import about 1.5 ms (benchmarks/: import time). The classes built on it build theirs as usual (below).
    model_config = ConfigDict(defer_build=True)
    # What a synchronous call with a binding tells the user to call instead (`cfai.binding.async_only_error`): a
    # chat model's async methods unless a class names its own.
    binding_async_methods: ClassVar[str | None] = None

    api_token: SecretStr | None = Field(
        default_factory=_secret_from_env(API_TOKEN_ENV),
        validation_alias=AliasChoices("api_token", "api_key"),
        exclude=True,
        repr=False,
        description="Cloudflare API token with Workers AI Read (env CLOUDFLARE_API_TOKEN); also accepted as api_key.",
    )
    account_id: str | None = Field(
        default_factory=_from_env(ACCOUNT_ID_ENV), description="32-character account id (env CLOUDFLARE_ACCOUNT_ID)."
    )
    base_url: str | None = Field(
        default_factory=_from_env((BASE_URL_ENV,)),
        description="Any Responses server's /v1 root (env CLOUDFLARE_AI_BASE_URL); default: Cloudflare's.",
    )
    gateway_id: str | None = Field(
        default_factory=_from_env((GATEWAY_ENV,)),
        description="AI Gateway to route through (env CLOUDFLARE_AI_GATEWAY).",
    )
    gateway_options: dict[str, Any] | None = Field(default=None, description="AI Gateway options (cf-aig-* headers).")
    timeout: Any = Field(default=None, description="Seconds, or an httpx.Timeout, per attempt (default 60 s read).")
    max_retries: int = Field(default=2, ge=0, strict=True, description="Retries, never after a streamed byte.")
    session_id: str | None = Field(default=None, description="x-session-affinity header (prompt-prefix caching).")
    default_headers: dict[str, str] | None = Field(
        default=None, exclude=True, repr=False, description="Extra request headers (not serialized: may be secret)."
    )
    http_client: Any = Field(default=None, exclude=True, repr=False, description="Your httpx.Client, never closed.")
    http_async_client: Any = Field(
        default=None, exclude=True, repr=False, description="Your httpx.AsyncClient, never closed."
    )
    # Not a connection setting: never compared by value, serialized, copied or pickled (see __getstate__).
    binding: Any = Field(
        default=None,
        exclude=True,
        repr=False,
        description="A Workers AI binding (env.AI in a Python Worker) in place of HTTP: no account id or token; "
        "async calls only (cfai.binding).",
    )

    _clients: ModelClients = PrivateAttr(default_factory=ModelClients)

    @field_validator("timeout", mode="before")
    @classmethod
    def _check_timeout(cls, value: Any) -> Any:
        return check_timeout(value)  # also takes the dict the serializer below writes

    @field_serializer("timeout")
    def _timeout_to_json(self, value: Any) -> Any:
        as_dict = getattr(value, "as_dict", None)
        return as_dict() if as_dict is not None else value

    @field_validator("http_client", "http_async_client")
    @classmethod
    def _check_http_client(cls, value: Any, info: ValidationInfo) -> Any:
        return check_http_client(value, asynchronous=info.field_name == "http_async_client")

    @model_validator(mode="after")
    def _check_connection(self) -> Self:
        # Offline and cheap: a malformed account id or URL, or a header value that would split a request, fails at
        # construction rather than at the first call. Missing credentials may still come later from the environment.
        check_connection_settings(self.client_settings())
        if self.binding is not None:  # the gateway settings then become the binding's `gateway` run option
            from cfai.binding import gateway_run_option

            gateway_run_option(self.gateway_id, self.gateway_options)
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        # Private attributes are set up after validation: a validator assigning a field finds no clients yet.
        if name in _CLIENT_FIELDS and getattr(self, "__pydantic_private__", None):
            _clients_of(self).settings_changed()

    def __copy__(self) -> Self:
        # A copy (`model_copy(update=...)` too) builds its own clients from its own settings.
        copied = super().__copy__()
        copied._clients = ModelClients()
        return copied

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        # The Worker's binding is shared by copies, never copied (a JavaScript object cannot be).
        memo = {} if memo is None else memo
        memo[id(self.binding)] = self.binding
        return super().__deepcopy__(memo)

    def __getstate__(self) -> dict[Any, Any]:
        # A binding lives in its Worker and cannot travel: a pickled model arrives without one.
        state = super().__getstate__()
        return {**state, "__dict__": {**state["__dict__"], "binding": None}}

    def client_settings(self) -> ClientSettings:
        """The settings the core clients are built from (`stream_mode` too, on classes that have one)."""
        settings = {name: getattr(self, name) for name in CLIENT_SETTING_NAMES if hasattr(self, name)}
        return cast(ClientSettings, settings)

    @property
    def client(self) -> WorkersAIClient:
        """The synchronous core client this model sends requests with (built on first use)."""
        if self.binding is not None:
            from cfai.binding import async_only_error

            raise async_only_error(type(self).__name__, self.binding_async_methods)
        return _clients_of(self).sync(self.client_settings, self.http_client)

    @property
    def async_client(self) -> AsyncWorkersAIClient | BindingClient:
        """The asynchronous core client this model sends requests with (built on first use); with a `binding`, the
        client that calls it."""
        if self.binding is not None:
            from cfai.binding import BindingClient, gateway_run_option

            gateway = gateway_run_option(self.gateway_id, self.gateway_options)
            return BindingClient(self.binding, max_retries=self.max_retries, gateway=gateway)
        return _clients_of(self).async_(self.client_settings, self.http_async_client)

    def close(self) -> None:
        """Lets go of the connections this model uses (shared pools close with their last user); a client you
        passed is never closed."""
        self._clients.close()

    async def aclose(self) -> None:
        await self._clients.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _clients_of(model: ConnectionFields) -> ModelClients:
    """`model._clients`, read from pydantic's store: the attribute itself is found only after ordinary lookup fails,
    about 2.5 µs of every call (benchmarks/)."""
    private = model.__pydantic_private__
    assert private is not None  # set by pydantic for every model with private attributes
    return cast(ModelClients, private["_clients"])


# Subclasses inherit the configuration: back to the default, so that each builds its validator when it is defined, not
# on its first construction.
ConnectionFields.model_config = ConfigDict()
