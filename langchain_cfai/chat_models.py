"""ChatWorkersAI: Cloudflare Workers AI's gpt-oss models as a LangChain chat model, over the Responses API.

The class holds settings and the thin sync/async I/O shells around three shared, pure steps: the request
(`langchain_cfai.request.prepare_call`), the wire work (`cfai`'s `WorkersAIClient` / `AsyncWorkersAIClient`: auth,
retries, errors, stop sequences, stream modes), and the mapping back (`langchain_cfai.convert`). Each instance creates
its own clients on first use, never at construction, and never shares them (not even with its copies).
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams, LanguageModelInput, ModelProfile
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr, ValidationInfo, field_validator, model_validator
from typing_extensions import Self

from cfai.catalog import DEFAULT_MODEL
from cfai.config import (
    ACCOUNT_ID_ENV,
    API_TOKEN_ENV,
    BASE_URL_ENV,
    GATEWAY_ENV,
    StreamMode,
    check_http_client,
    check_timeout,
    client_settings_from,
    resolve_base_url,
)
from cfai.wire import Reply, ReplyDone, StreamEvent, missing_answer, validate_reasoning_effort
from langchain_cfai.convert import chunk_from_event, message_from_reply
from langchain_cfai.profile import profile_for
from langchain_cfai.request import PreparedCall, check_model_kwargs, prepare_call
from langchain_cfai.structured_output import structured_output
from langchain_cfai.tools import ToolLike, to_responses_tools, to_tool_choice

if TYPE_CHECKING:
    from cfai.transport import AsyncWorkersAIClient, WorkersAIClient

__all__ = ["ChatWorkersAI", "ReasoningBudgetWarning"]

_CLIENT_LOCK = threading.Lock()


class ReasoningBudgetWarning(UserWarning):
    """The model returned no answer: most often its whole output budget went to reasoning."""


class _Clients:
    """A model's lazily created clients. A copy of the model starts with none and builds its own from its settings
    (a copy may change `base_url` or the token; and httpx clients cannot be deep-copied)."""

    __slots__ = ("async_", "sync")

    def __init__(self) -> None:
        self.sync: WorkersAIClient | None = None
        self.async_: AsyncWorkersAIClient | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> _Clients:
        return _Clients()


def _from_env(names: str | tuple[str, ...]) -> Callable[[], str | None]:
    names = (names,) if isinstance(names, str) else names
    return lambda: next((os.environ[name] for name in names if os.environ.get(name)), None)


def _secret_from_env(names: tuple[str, ...]) -> Callable[[], SecretStr | None]:
    read = _from_env(names)
    return lambda: SecretStr(value) if (value := read()) else None


class ChatWorkersAI(BaseChatModel):
    """Cloudflare Workers AI gpt-oss chat model (Responses API), a drop-in for `ChatOpenAI`.

    ```python
    from langchain_cfai import ChatWorkersAI

    llm = ChatWorkersAI(model="@cf/openai/gpt-oss-120b", reasoning_effort="low")
    reply = llm.invoke("Why is the sky blue?")
    reply.content                                  # the answer
    reply.additional_kwargs["reasoning_content"]   # the raw chain of thought
    ```

    Credentials come from `api_token=`/`api_key=` and `account_id=`, else `CLOUDFLARE_API_TOKEN` and
    `CLOUDFLARE_ACCOUNT_ID`. `base_url=` points it at any Responses-compatible server (the `cfai` emulator, vLLM).
    """

    model: str = Field(default=DEFAULT_MODEL, alias="model_name")
    """Workers AI model name, e.g. `@cf/openai/gpt-oss-120b` or `@cf/openai/gpt-oss-20b`."""
    api_token: SecretStr | None = Field(default_factory=_secret_from_env(API_TOKEN_ENV), alias="api_key")
    """Cloudflare API token with Workers AI Read; defaults to `CLOUDFLARE_API_TOKEN`."""
    account_id: str | None = Field(default_factory=_from_env(ACCOUNT_ID_ENV))
    """32-character Cloudflare account id; defaults to `CLOUDFLARE_ACCOUNT_ID` (or `CF_ACCOUNT_ID`)."""
    base_url: str | None = Field(default_factory=_from_env(BASE_URL_ENV))
    """Responses API root (ending in `/v1`); defaults to Cloudflare's URL for `account_id`."""
    gateway_id: str | None = Field(default_factory=_from_env(GATEWAY_ENV))
    """AI Gateway to route through (`cf-aig-gateway-id`); defaults to `CLOUDFLARE_AI_GATEWAY`."""
    gateway_options: dict[str, Any] | None = None
    """AI Gateway options sent as `cf-aig-*` headers, e.g. `{"cache_ttl": 3600, "skip_cache": True}`."""
    reasoning_effort: Literal["low", "medium", "high"] | None = None
    """How long gpt-oss thinks; the server default is medium. Reasoning cannot be turned off."""
    max_tokens: int | None = Field(default=None, alias="max_output_tokens", gt=0)
    """Output budget, reasoning included; sent as `max_output_tokens`."""
    temperature: float | None = None
    top_p: float | None = None
    stop: list[str] | None = None
    """Stop strings, applied client-side (the Responses API has none)."""
    timeout: Any = None
    """Seconds per attempt (default 60 s read, 5 s connect)."""
    max_retries: int = Field(default=2, ge=0)
    stream_mode: StreamMode = "auto"
    """How `stream()` is served: `buffered`, `responses`, `chat_completions` (token streaming on Cloudflare), or
    `auto` (buffered on Cloudflare, else responses)."""
    streaming: bool = False
    """Serve `invoke()` by streaming, so callbacks see each token."""
    session_id: str | None = None
    """Sent as `x-session-affinity`, which enables Cloudflare's prompt-prefix caching."""
    default_headers: dict[str, str] | None = Field(default=None, repr=False)
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra Responses request fields with no parameter of their own."""
    http_client: Any = Field(default=None, exclude=True)
    """Your own `httpx.Client`; used as is and never closed by us."""
    http_async_client: Any = Field(default=None, exclude=True)
    """Your own `httpx.AsyncClient`; used as is and never closed by us."""

    # Unknown arguments are refused (never sent); their values are kept out of the error, where a token could be.
    model_config = ConfigDict(
        populate_by_name=True, extra="forbid", arbitrary_types_allowed=True, hide_input_in_errors=True
    )

    _clients: _Clients = PrivateAttr(default_factory=_Clients)

    @field_validator("reasoning_effort", mode="before")
    @classmethod
    def _check_reasoning_effort(cls, value: Any) -> Any:
        return validate_reasoning_effort(value)

    # The three fields below are typed `Any` so that importing this module does not load httpx; they are checked
    # here instead, importing httpx only when a value is given.
    @field_validator("timeout")
    @classmethod
    def _check_timeout(cls, value: Any) -> Any:
        return check_timeout(value)

    @field_validator("http_client", "http_async_client")
    @classmethod
    def _check_http_client(cls, value: Any, info: ValidationInfo) -> Any:
        return check_http_client(value, asynchronous=info.field_name == "http_async_client")

    @field_validator("model_kwargs")
    @classmethod
    def _check_model_kwargs(cls, value: dict[str, Any]) -> dict[str, Any]:
        check_model_kwargs(value)
        return value

    @model_validator(mode="after")
    def _check_endpoint(self) -> Self:
        # Cheap and offline: a malformed account id or an http URL to a remote host fails here, not on first call.
        if self.base_url or self.account_id:
            resolve_base_url(self.base_url, self.account_id, env={})
        return self

    # LangChain metadata.

    @property
    def model_name(self) -> str:
        """The model name (the attribute `ChatOpenAI` users reach for)."""
        return self.model

    @property
    def _llm_type(self) -> str:
        return "workers-ai-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        params = {
            "model": self.model,
            "reasoning_effort": self.reasoning_effort,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "stop": self.stop,
            "stream_mode": self.stream_mode,
            "model_kwargs": self.model_kwargs or None,
        }
        return {key: value for key, value in params.items() if value is not None}

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_token": API_TOKEN_ENV[0]}

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    def _resolve_model_profile(self) -> ModelProfile | None:
        return profile_for(self.model)

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "cloudflare"
        max_tokens = kwargs.get("max_tokens", kwargs.get("max_output_tokens", self.max_tokens))
        if isinstance(max_tokens, int):
            params["ls_max_tokens"] = max_tokens
        if not stop and self.stop:
            params["ls_stop"] = list(self.stop)
        return params

    # Clients: one of each kind per instance, created on first use.

    @property
    def client(self) -> WorkersAIClient:
        """The synchronous `cfai` client this model sends requests with."""
        clients = self._clients
        if clients.sync is None:
            with _CLIENT_LOCK:
                if clients.sync is None:
                    from cfai.transport import WorkersAIClient  # httpx loads with the first client

                    clients.sync = WorkersAIClient(http_client=self.http_client, **client_settings_from(self))
        return clients.sync

    @property
    def async_client(self) -> AsyncWorkersAIClient:
        """The asynchronous `cfai` client this model sends requests with."""
        clients = self._clients
        if clients.async_ is None:
            with _CLIENT_LOCK:
                if clients.async_ is None:
                    from cfai.transport import AsyncWorkersAIClient  # httpx loads with the first client

                    clients.async_ = AsyncWorkersAIClient(
                        http_client=self.http_async_client, **client_settings_from(self)
                    )
        return clients.async_

    def close(self) -> None:
        """Closes the HTTP connections this model opened (never a client you passed in)."""
        if self._clients.sync is not None:
            self._clients.sync.close()

    async def aclose(self) -> None:
        if self._clients.async_ is not None:
            await self._clients.async_.aclose()

    def __copy__(self) -> Self:
        copied = super().__copy__()
        copied._clients = _Clients()
        return copied

    # The request, shared by every path.

    def _prepare(
        self, messages: Sequence[BaseMessage], stop: Sequence[str] | None, options: Mapping[str, Any]
    ) -> PreparedCall:
        defaults = {
            "model": self.model,
            "reasoning_effort": self.reasoning_effort,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "stop": self.stop,
        }
        return prepare_call(messages, defaults=defaults, options=options, stop=stop, extra=self.model_kwargs)

    def _result(self, reply: Reply, call: PreparedCall) -> ChatResult:
        _warn_if_no_answer(reply, call)
        return ChatResult(generations=[ChatGeneration(message=message_from_reply(reply, model=call.model))])

    def _chunk(self, event: StreamEvent, call: PreparedCall) -> ChatGenerationChunk:
        if isinstance(event, ReplyDone):
            _warn_if_no_answer(event.reply, call)
        return ChatGenerationChunk(message=chunk_from_event(event, model=call.model))

    # The I/O shells.

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        call = self._prepare(messages, stop, kwargs)
        return self._result(self.client.create(call.body, stop=call.stop), call)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        call = self._prepare(messages, stop, kwargs)
        return self._result(await self.async_client.create(call.body, stop=call.stop), call)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        call = self._prepare(messages, stop, kwargs)
        for event in self.client.stream(call.body, stop=call.stop):
            chunk = self._chunk(event, call)
            if run_manager:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        call = self._prepare(messages, stop, kwargs)
        async for event in self.async_client.stream(call.body, stop=call.stop):
            chunk = self._chunk(event, call)
            if run_manager:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    # Tools and structured output.

    def bind_tools(
        self,
        tools: Sequence[ToolLike],
        *,
        tool_choice: str | bool | dict[str, Any] | None = None,
        parallel_tool_calls: bool | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Binds tools (LangChain tools, pydantic models, functions or dicts), converted once, here.

        `tool_choice`: `"auto"`, `"none"`, `"any"`/`"required"`/`True` (some tool must be called), or a tool name.
        """
        converted = to_responses_tools(tools, strict=strict)
        if tool_choice is not None and converted:
            kwargs["tool_choice"] = to_tool_choice(tool_choice, converted)
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return self.bind(tools=converted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: Literal["json_schema", "function_calling", "json_mode"] = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """Returns a runnable whose output follows `schema` (pydantic class, TypedDict, JSON schema or tool dict).

        `method="json_schema"` (default) uses the Responses `text.format`; `"function_calling"` forces a tool call;
        `"json_mode"` asks for any JSON object. `strict=True` asks the server to enforce the schema exactly.
        """
        if kwargs:
            raise ValueError(f"Received unsupported arguments {kwargs}")
        return structured_output(self, schema, method=method, strict=strict, include_raw=include_raw)


def _warn_if_no_answer(reply: Reply, call: PreparedCall) -> None:
    # An empty answer must not pass for a real one; a small budget can go entirely to reasoning (WIRE.md quirk 3).
    problem = missing_answer(reply, call.body.get("max_output_tokens"))
    if problem:
        warnings.warn(problem, ReasoningBudgetWarning, stacklevel=4)
