"""`WorkersAI`: Cloudflare Workers AI's gpt-oss models as a LlamaIndex `FunctionCallingLLM`.

This module owns the LlamaIndex surface (fields, metadata, the eight entry points, function calling, structured
output) and nothing else: requests go through `cfai`'s clients, messages and replies through `convert.py`, stream
events through `stream.py`. Every entry point builds its request with `_request` and maps the reply with the same
functions; the sync and async bodies differ only in how they wait for I/O.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.bridge.pydantic import (
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationInfo,
    field_serializer,
    field_validator,
)
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]  # re-exported without __all__
from llama_index.core.instrumentation.events.llm import LLMStructuredPredictEndEvent, LLMStructuredPredictStartEvent
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.program.utils import get_program_for_llm
from llama_index.core.tools.types import BaseTool
from llama_index.core.types import BasePydanticProgram, Model, PydanticProgramMode

from cfai.catalog import DEFAULT_MODEL, get_model_info
from cfai.config import StreamMode, check_http_client, check_timeout, client_settings_from, resolve_config
from cfai.wire import (
    ReasoningEffort,
    Reply,
    ReplyDone,
    StreamEvent,
    build_request,
    tool_choice_value,
    validate_reasoning_effort,
)
from llamaindex_cfai.clients import InstanceClients
from llamaindex_cfai.convert import (
    completion_from_chat,
    reply_problems,
    response_from_reply,
    to_input_items,
    tool_selections_from_message,
    tool_spec,
    user_message,
    without_extra_tool_calls,
)
from llamaindex_cfai.stream import ChatStream
from llamaindex_cfai.structured import JSONSchemaProgram

if TYPE_CHECKING:
    from llama_index.core.prompts.base import BasePromptTemplate

    from cfai.transport import AsyncWorkersAIClient, WorkersAIClient

__all__ = ["DEFAULT_NUM_OUTPUT", "WorkersAI"]

dispatcher = get_dispatcher(__name__)

# LlamaIndex budgets prompts as `context_window - num_output`, so this is what we reserve for the answer, not the
# model's output cap (128,000 would leave no room for the prompt). gpt-oss spends output tokens on reasoning first,
# hence more than LlamaIndex's own default of 256.
DEFAULT_NUM_OUTPUT = 4096


@dataclass(frozen=True, slots=True)
class _Request:
    body: dict[str, Any]
    stop: list[str] | None


def _warn_about(reply: Reply) -> None:
    for problem in reply_problems(reply):
        warnings.warn(problem, RuntimeWarning, stacklevel=2)


class WorkersAI(FunctionCallingLLM):
    """Cloudflare Workers AI gpt-oss over the Responses API.

        from llamaindex_cfai import WorkersAI
        llm = WorkersAI(model="@cf/openai/gpt-oss-120b", reasoning_effort="low")

    The account id and token come from the arguments or `CLOUDFLARE_ACCOUNT_ID` / `CLOUDFLARE_API_TOKEN`; they are
    checked at construction, which sends nothing and builds no HTTP client: each instance creates its own on first
    use. Per-request settings (model, reasoning_effort, max_tokens, temperature, top_p, stop, tools, tool_choice) can
    also be passed to each call; other call keywords are sent as Responses request fields, like `additional_kwargs`.
    """

    # Unknown arguments are refused rather than dropped; their values stay out of the error (a token could be one).
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, hide_input_in_errors=True)

    model: str = Field(default=DEFAULT_MODEL, description="Workers AI model name, e.g. @cf/openai/gpt-oss-20b.")
    account_id: str | None = Field(default=None, description="Cloudflare account id (env CLOUDFLARE_ACCOUNT_ID).")
    api_token: SecretStr | None = Field(
        default=None, exclude=True, repr=False, description="Cloudflare API token (env CLOUDFLARE_API_TOKEN)."
    )
    base_url: str | None = Field(default=None, description="Any Responses server (env CLOUDFLARE_AI_BASE_URL).")
    gateway_id: str | None = Field(default=None, description="AI Gateway id (env CLOUDFLARE_AI_GATEWAY).")
    gateway_options: dict[str, Any] | None = Field(default=None, description="AI Gateway options (cf-aig-* headers).")
    reasoning_effort: ReasoningEffort | None = Field(default=None, description="low, medium or high (server: medium).")
    max_tokens: int | None = Field(default=None, gt=0, description="Sent as max_output_tokens (reasoning included).")
    temperature: float | None = Field(default=None, description="Sampling temperature; sent only when set.")
    top_p: float | None = Field(default=None, description="Nucleus sampling; sent only when set.")
    stop: list[str] | None = Field(default=None, description="Stop strings, applied client-side.")
    # `Any`, not httpx types, so importing this module does not load httpx; the validators below check the values.
    timeout: Any = Field(default=None, description="Seconds, or an httpx.Timeout, per attempt (default 60 s read).")
    max_retries: int = Field(default=2, ge=0, description="Retries of failed requests, before any streamed byte.")
    stream_mode: StreamMode = Field(default="auto", description="auto, buffered, responses, chat_completions.")
    session_id: str | None = Field(default=None, description="x-session-affinity header for prompt caching.")
    default_headers: dict[str, str] | None = Field(
        default=None, exclude=True, repr=False, description="Extra request headers (not serialized: may be secret)."
    )
    http_client: Any = Field(default=None, exclude=True, repr=False, description="Your httpx.Client, never closed.")
    http_async_client: Any = Field(default=None, exclude=True, repr=False, description="Your httpx.AsyncClient.")
    context_window: int | None = Field(default=None, gt=0, description="Overrides the catalog's context window.")
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Extra Responses request fields, merged into every request."
    )

    _clients: InstanceClients = PrivateAttr(default_factory=InstanceClients)

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        # Fail at construction, not at the first request, when the token or account id is missing or invalid; here
        # rather than in a validator so the error stays a ConfigurationError instead of a pydantic ValidationError.
        resolve_config(**client_settings_from(self))

    @field_validator("reasoning_effort", mode="before")
    @classmethod
    def _check_reasoning_effort(cls, value: str | None) -> str | None:
        return validate_reasoning_effort(value)  # the core's message names the accepted values

    @field_validator("timeout", mode="before")
    @classmethod
    def _check_timeout(cls, value: Any) -> Any:
        return check_timeout(value)  # also takes the dict that the serializer below writes

    @field_serializer("timeout")
    def _timeout_to_json(self, value: Any) -> float | dict[str, float | None] | None:
        as_dict = getattr(value, "as_dict", None)
        return as_dict() if as_dict is not None else value  # type: ignore[no-any-return]

    @field_validator("http_client", "http_async_client")
    @classmethod
    def _check_http_client(cls, value: Any, info: ValidationInfo) -> Any:
        return check_http_client(value, asynchronous=info.field_name == "http_async_client")

    @classmethod
    def class_name(cls) -> str:
        return "WorkersAI"

    @property
    def metadata(self) -> LLMMetadata:
        info = get_model_info(self.model)
        return LLMMetadata(
            context_window=self.context_window or info.context_window,
            num_output=self.max_tokens or DEFAULT_NUM_OUTPUT,
            is_chat_model=True,
            is_function_calling_model=info.supports_tools,
            model_name=self.model,
            system_role=MessageRole.SYSTEM,
        )

    # Clients: one of each per instance, created on first use (see clients.py).

    def _sync_client(self) -> WorkersAIClient:
        return self._clients.sync(client_settings_from(self), self.http_client)

    def _async_client(self) -> AsyncWorkersAIClient:
        return self._clients.async_(client_settings_from(self), self.http_async_client)

    def close(self) -> None:
        """Closes the HTTP client this instance created (never one passed as http_client)."""
        self._clients.close()

    async def aclose(self) -> None:
        await self._clients.aclose()

    # The one request builder.

    def _request(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> _Request:
        """The Responses body for `messages`; call options override the instance's, unknown ones are sent as is."""
        options = dict(kwargs)
        instructions, items = to_input_items(messages)
        tools = [tool_spec(tool) if isinstance(tool, BaseTool) else tool for tool in options.pop("tools", None) or ()]
        choice = options.pop("tool_choice", None)
        stop = options.pop("stop", self.stop)
        body = build_request(
            model=options.pop("model", self.model),
            input=items,
            instructions=instructions,
            tools=tools,
            tool_choice=tool_choice_value(choice, [tool["name"] for tool in tools]) if tools else None,
            parallel_tool_calls=options.pop("parallel_tool_calls", None),
            reasoning_effort=options.pop("reasoning_effort", self.reasoning_effort),
            max_output_tokens=options.pop("max_tokens", self.max_tokens),
            temperature=options.pop("temperature", self.temperature),
            top_p=options.pop("top_p", self.top_p),
            text_format=options.pop("text_format", None),
            extra={**self.additional_kwargs, **options},
        )
        return _Request(body, list(stop) if stop else None)

    # Shared bodies; the public entry points below only add LlamaIndex's callbacks.

    def _chat(self, request: _Request) -> ChatResponse:
        reply = self._sync_client().create(request.body, stop=request.stop)
        _warn_about(reply)
        return response_from_reply(reply)

    async def _achat(self, request: _Request) -> ChatResponse:
        reply = await self._async_client().create(request.body, stop=request.stop)
        _warn_about(reply)
        return response_from_reply(reply)

    @staticmethod
    def _chunk(chat_stream: ChatStream, event: StreamEvent) -> ChatResponse:
        if isinstance(event, ReplyDone):
            _warn_about(event.reply)
        return chat_stream.chunk_from_event(event)

    def _stream(self, request: _Request) -> Iterator[ChatResponse]:
        chat_stream = ChatStream(model=request.body["model"])
        for event in self._sync_client().stream(request.body, stop=request.stop):
            yield self._chunk(chat_stream, event)

    async def _astream(self, request: _Request) -> AsyncIterator[ChatResponse]:
        chat_stream = ChatStream(model=request.body["model"])
        async for event in self._async_client().stream(request.body, stop=request.stop):
            yield self._chunk(chat_stream, event)

    @staticmethod
    def _completions(chunks: Iterator[ChatResponse]) -> CompletionResponseGen:
        for chunk in chunks:
            yield completion_from_chat(chunk)

    @staticmethod
    async def _acompletions(chunks: AsyncIterator[ChatResponse]) -> CompletionResponseAsyncGen:
        async for chunk in chunks:
            yield completion_from_chat(chunk)

    # The eight entry points.

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._chat(self._request(messages, kwargs))

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return await self._achat(self._request(messages, kwargs))

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._stream(self._request(messages, kwargs))  # type: ignore[return-value]

    @llm_chat_callback()
    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        return self._astream(self._request(messages, kwargs))  # type: ignore[return-value]

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return completion_from_chat(self._chat(self._request(user_message(prompt), kwargs)))

    @llm_completion_callback()
    async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return completion_from_chat(await self._achat(self._request(user_message(prompt), kwargs)))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        return self._completions(self._stream(self._request(user_message(prompt), kwargs)))

    @llm_completion_callback()
    async def astream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseAsyncGen:
        return self._acompletions(self._astream(self._request(user_message(prompt), kwargs)))

    # Function calling.

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict[str, Any] | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The chat arguments for a tool-using turn; builds a new message list, never extends `chat_history`."""
        messages = list(chat_history or ())
        if user_msg is not None:
            messages.append(
                ChatMessage(role=MessageRole.USER, content=user_msg) if isinstance(user_msg, str) else user_msg
            )
        specs = [tool_spec(tool, strict=strict) for tool in tools]
        prepared: dict[str, Any] = {"messages": messages, **kwargs}
        if specs:
            prepared["tools"] = specs
            prepared["tool_choice"] = tool_choice or ("required" if tool_required else None)
            # Parallel calls are the server's default; say so only when the caller does not want them.
            prepared["parallel_tool_calls"] = None if allow_parallel_tool_calls else False
        return prepared

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        if allow_parallel_tool_calls:
            return response
        return response.model_copy(update={"message": without_extra_tool_calls(response.message)})

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list[ToolSelection]:
        """The response's tool calls with their call ids; arguments that are not a JSON object become `{}`."""
        selections = tool_selections_from_message(response.message)
        if not selections and error_on_no_tool_call:
            answer = (response.message.content or "")[:200]
            raise ValueError(f"Expected at least one tool call, but the model answered without one: {answer!r}")
        return selections

    # Structured output: the Responses json_schema format in the default program mode (see structured.py).

    def _program(self, output_cls: type[Model], prompt: BasePromptTemplate) -> BasePydanticProgram[Model]:
        if self.pydantic_program_mode == PydanticProgramMode.DEFAULT:
            return JSONSchemaProgram(output_cls, prompt, self)
        return get_program_for_llm(output_cls, prompt, self, pydantic_program_mode=self.pydantic_program_mode)

    @dispatcher.span
    def structured_predict(
        self,
        output_cls: type[Model],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        dispatcher.event(
            LLMStructuredPredictStartEvent(output_cls=output_cls, template=prompt, template_args=prompt_args)
        )
        result = self._program(output_cls, prompt)(llm_kwargs=llm_kwargs, **prompt_args)
        dispatcher.event(LLMStructuredPredictEndEvent(output=result))
        return result  # type: ignore[return-value]

    @dispatcher.span
    async def astructured_predict(
        self,
        output_cls: type[Model],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        dispatcher.event(
            LLMStructuredPredictStartEvent(output_cls=output_cls, template=prompt, template_args=prompt_args)
        )
        result = await self._program(output_cls, prompt).acall(llm_kwargs=llm_kwargs, **prompt_args)
        dispatcher.event(LLMStructuredPredictEndEvent(output=result))
        return result  # type: ignore[return-value]

    def _structured_stream_call(
        self,
        output_cls: type[Model],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Any:
        return self._program(output_cls, prompt).stream_call(llm_kwargs=llm_kwargs, **prompt_args)

    async def _structured_astream_call(
        self,
        output_cls: type[Model],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Any:
        return await self._program(output_cls, prompt).astream_call(llm_kwargs=llm_kwargs, **prompt_args)
