"""`WorkersAI`: Cloudflare Workers AI's gpt-oss models as a LlamaIndex `FunctionCallingLLM`.

This module owns the LlamaIndex surface (fields, metadata, the eight entry points, function calling) and nothing
else: requests go through `cfai`'s clients, messages and replies through `convert.py`, stream events through
`stream.py`; structured output and the batch queue are mixins (`structured.py`, `queued.py`). Every entry point
builds its request with `_request` and maps the reply with the same functions; the sync and async bodies differ only
in how they wait for I/O.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from llama_index.core.base.llms.base import BaseLLM
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
from llama_index.core.bridge.pydantic import ConfigDict, Field, field_validator
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.tools.types import BaseTool

from cfai.call_options import check_call_options, check_extra_fields, merge_call_options
from cfai.catalog import DEFAULT_MODEL, get_model_info
from cfai.config import StreamMode, resolve_config
from cfai.errors import warn_at_caller
from cfai.model_fields import ConnectionFields
from cfai.rate_limit import aacquire, acquire, with_both_names
from cfai.signatures import signature_computed_once
from cfai.wire import (
    ReasoningEffort,
    Reply,
    ReplyDone,
    StreamEvent,
    build_request,
    tool_choice_value,
    validate_reasoning_effort,
)
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
from llamaindex_cfai.queued import QueuedChat
from llamaindex_cfai.stream import ChunkFolder
from llamaindex_cfai.structured import StructuredPredict

__all__ = ["DEFAULT_NUM_OUTPUT", "WorkersAI"]

# Recent LlamaIndex waits on `BaseLLM.rate_limiter` in its chat and completion decorators, once per call; before
# that field existed, the entry points here wait on WorkersAI's own.
_LLAMAINDEX_LIMITS = "rate_limiter" in BaseLLM.model_fields

# LlamaIndex budgets prompts as `context_window - num_output`, so this is what we reserve for the answer, not the
# model's output cap (128,000 would leave no room for the prompt). gpt-oss spends output tokens on reasoning first,
# hence more than LlamaIndex's own default of 256.
DEFAULT_NUM_OUTPUT = 4096

# Observability payloads by class and the settings `metadata` reads (`WorkersAI.to_payload`).
_PAYLOADS: dict[tuple[Any, ...], dict[str, Any]] = {}
_PAYLOADS_KEPT = 256


@dataclass(frozen=True, slots=True)
class _Request:
    """One call's Responses body and the stop strings the client applies."""

    body: dict[str, Any]
    stop: list[str] | None


def _warn_about(reply: Reply) -> None:
    for problem, category in reply_problems(reply):
        warn_at_caller(problem, category)


class WorkersAI(ConnectionFields, QueuedChat, StructuredPredict, FunctionCallingLLM):
    """Cloudflare Workers AI gpt-oss over the Responses API.

        from llamaindex_cfai import WorkersAI
        llm = WorkersAI(model="@cf/openai/gpt-oss-120b", reasoning_effort="low")

    The account id and token come from the arguments or `CLOUDFLARE_ACCOUNT_ID` / `CLOUDFLARE_API_TOKEN`; they are
    checked at construction, which sends nothing and builds no HTTP client. The connection settings, the clients
    behind them and `close`/`with` come from `cfai.model_fields.ConnectionFields`, shared with the LangChain adapter;
    `chat_queued`/`achat_queued` (Workers AI's batch queue) from `llamaindex_cfai.queued`. Per-request settings
    (model, reasoning_effort, max_tokens, temperature, top_p, stop, tools, tool_choice, parallel_tool_calls) can be
    passed to each call; extra Responses fields go in `additional_kwargs`.
    """

    # Unknown arguments are refused rather than dropped; their values stay out of the error (a token could be one).
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, hide_input_in_errors=True)

    model: str = Field(default=DEFAULT_MODEL, description="Workers AI model name, e.g. @cf/openai/gpt-oss-20b.")
    reasoning_effort: ReasoningEffort | None = Field(default=None, description="low, medium or high (server: medium).")
    max_tokens: int | None = Field(
        default=None, gt=0, strict=True, description="Sent as max_output_tokens (reasoning included)."
    )
    temperature: float | None = Field(default=None, ge=0, le=2, allow_inf_nan=False, description="Sent when set.")
    top_p: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False, description="Sent only when set.")
    stop: list[str] | None = Field(default=None, description="Stop strings, applied client-side.")
    stream_mode: StreamMode = Field(default="auto", description="auto, buffered, responses, chat_completions.")
    send_reasoning: bool = Field(
        default=True,
        description="Send a tool turn's reasoning back with its results; False for servers that refuse reasoning "
        "input items, such as LiteLLM's Responses bridge (docs/wire.md, quirk 9).",
    )
    context_window: int | None = Field(default=None, gt=0, description="Overrides the catalog's context window.")
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Extra Responses request fields, merged into every request."
    )
    rate_limiter: Any = Field(default=None, exclude=True, description="Waited on once per request (cfai.rate_limit).")

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        # Fail at construction, not at the first request, when the token or account id is missing or invalid; here
        # rather than in a validator so the error stays a ConfigurationError instead of a pydantic ValidationError.
        # A Workers binding needs neither.
        if self.binding is None:
            resolve_config(**self.client_settings())

    @field_validator("reasoning_effort", mode="before")
    @classmethod
    def _check_reasoning_effort(cls, value: str | None) -> str | None:
        return validate_reasoning_effort(value)  # the core's message names the accepted values

    @field_validator("rate_limiter")
    @classmethod
    def _check_rate_limiter(cls, value: Any) -> Any:
        return with_both_names(value)  # LlamaIndex calls async_acquire, LangChain's limiters have aacquire

    @field_validator("additional_kwargs")
    @classmethod
    def _check_additional_kwargs(cls, value: dict[str, Any]) -> dict[str, Any]:
        check_extra_fields(value, setting="additional_kwargs")
        return value

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

    def to_payload(self) -> dict[str, Any]:
        # LlamaIndex asks for this on every call's events, and LlamaIndex's own builds and dumps the pydantic
        # `metadata` each time (about 4% of a call, benchmarks/); it changes only with the settings in the key.
        key = (type(self), self.model, self.context_window, self.max_tokens)
        payload = _PAYLOADS.get(key)
        if payload is None:
            if len(_PAYLOADS) >= _PAYLOADS_KEPT:
                _PAYLOADS.clear()
            payload = _PAYLOADS[key] = super().to_payload()
        return dict(payload)

    # Token counts, with gpt-oss's own tokenizer (o200k through tiktoken).

    @property
    def tokenizer(self) -> Callable[[str], list[int]]:
        """gpt-oss's tokenizer as LlamaIndex takes one (`Settings.tokenizer = llm.tokenizer`): text to token ids."""
        from cfai.tokens import encode  # tiktoken loads with the first count

        return encode

    def count_tokens(self, messages: Sequence[ChatMessage], **kwargs: Any) -> int:
        """The input tokens `chat(messages, **kwargs)` would send: the content exactly, the fixed formatting a
        gpt-oss server adds estimated (`cfai.tokens.count_request_tokens`)."""
        from cfai.tokens import count_request_tokens

        return count_request_tokens(self._request(messages, kwargs).body).total

    # The one request builder.

    def _request(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> _Request:
        """The Responses body for `messages`; call options override the instance's settings (`cfai.call_options`:
        the same policy as LangChain's, unknown options are a TypeError)."""
        check_call_options(kwargs, model_class="WorkersAI", extra_setting="additional_kwargs")
        defaults = {
            "model": self.model,
            "reasoning_effort": self.reasoning_effort,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "stop": self.stop,
            "send_reasoning": self.send_reasoning,
        }
        settings = merge_call_options(defaults, kwargs)
        instructions, items = to_input_items(messages)
        tools = [tool_spec(tool) if isinstance(tool, BaseTool) else tool for tool in settings.get("tools") or ()]
        choice = settings.get("tool_choice")
        body = build_request(
            model=settings["model"],
            input=items,
            instructions=instructions,
            tools=tools,
            tool_choice=tool_choice_value(choice, [tool["name"] for tool in tools]) if tools else None,
            parallel_tool_calls=settings.get("parallel_tool_calls"),
            reasoning_effort=settings.get("reasoning_effort"),
            max_output_tokens=settings.get("max_tokens"),
            temperature=settings.get("temperature"),
            top_p=settings.get("top_p"),
            text_format=settings.get("text_format"),
            extra=self.additional_kwargs,
            send_reasoning=settings["send_reasoning"],
        )
        stop = settings.get("stop")
        return _Request(body, list(stop) if stop else None)

    # Shared bodies; the public entry points below only add LlamaIndex's callbacks.

    @property
    def _own_limiter(self) -> Any:
        """The rate limiter to wait on here: none where LlamaIndex's decorators already wait on it."""
        return None if _LLAMAINDEX_LIMITS else self.rate_limiter

    def _chat(self, request: _Request) -> ChatResponse:
        acquire(self._own_limiter)
        reply = self.client.create(request.body, stop=request.stop)
        _warn_about(reply)
        return response_from_reply(reply)

    async def _achat(self, request: _Request) -> ChatResponse:
        await aacquire(self._own_limiter)
        reply = await self.async_client.create(request.body, stop=request.stop)
        _warn_about(reply)
        return response_from_reply(reply)

    @staticmethod
    def _chunk(chat_stream: ChunkFolder, event: StreamEvent) -> ChatResponse:
        if isinstance(event, ReplyDone):
            _warn_about(event.reply)
        return chat_stream.chunk_from_event(event)

    def _stream(self, request: _Request) -> Iterator[ChatResponse]:
        acquire(self._own_limiter)
        chat_stream = ChunkFolder(model=request.body["model"])
        for event in self.client.stream(request.body, stop=request.stop):
            yield self._chunk(chat_stream, event)

    async def _astream(self, request: _Request) -> AsyncIterator[ChatResponse]:
        await aacquire(self._own_limiter)
        chat_stream = ChunkFolder(model=request.body["model"])
        async for event in self.async_client.stream(request.body, stop=request.stop):
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

    @signature_computed_once
    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._chat(self._request(messages, kwargs))

    @signature_computed_once
    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return await self._achat(self._request(messages, kwargs))

    @signature_computed_once
    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._stream(self._request(messages, kwargs))  # type: ignore[return-value]

    @signature_computed_once
    @llm_chat_callback()
    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        return self._astream(self._request(messages, kwargs))  # type: ignore[return-value]

    @signature_computed_once
    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return completion_from_chat(self._chat(self._request(user_message(prompt), kwargs)))

    @signature_computed_once
    @llm_completion_callback()
    async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return completion_from_chat(await self._achat(self._request(user_message(prompt), kwargs)))

    @signature_computed_once
    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        return self._completions(self._stream(self._request(user_message(prompt), kwargs)))

    @signature_computed_once
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
