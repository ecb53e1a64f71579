"""ChatWorkersAI: Cloudflare Workers AI's gpt-oss models as a LangChain chat model, over the Responses API.

The class holds settings and the thin sync/async I/O shells around three shared, pure steps: the request
(`langchain_cfai.request.prepare_call`), the wire work (`cfai`'s clients: auth, retries, errors, stop sequences,
stream modes), and the mapping back (`langchain_cfai.convert`). The connection settings, the clients behind them and
`close`/`with` come from `cfai.model_fields.ConnectionFields`, shared with the LlamaIndex adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams, LanguageModelInput, ModelProfile
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import ConfigDict, Field, field_validator

from cfai.call_options import check_extra_fields, merge_call_options
from cfai.catalog import DEFAULT_MODEL
from cfai.config import API_TOKEN_ENV, StreamMode
from cfai.errors import EmptyAnswerWarning, WorkersAIError, warn_at_caller
from cfai.model_fields import ConnectionFields
from cfai.rate_limit import aacquire, acquire
from cfai.signatures import signature_computed_once
from cfai.wire import Reply, ReplyDone, StreamEvent, missing_answer, validate_reasoning_effort
from langchain_cfai.convert import chunk_from_event, message_from_reply
from langchain_cfai.profile import profile_for
from langchain_cfai.queued_runs import astart_runs, start_runs
from langchain_cfai.request import PreparedCall, prepare_call
from langchain_cfai.tools import ToolLike, to_responses_tools, to_tool_choice

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

    from cfai.batch import Polling

__all__ = ["ChatWorkersAI", "ReasoningBudgetWarning"]

# The name this package first gave the warning; the core's class is the one both adapters use now.
ReasoningBudgetWarning = EmptyAnswerWarning


class ChatWorkersAI(ConnectionFields, BaseChatModel):
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
    Use it from many threads, event loops and processes alike; `with ChatWorkersAI(...) as llm:` lets go of its
    connections at the end.
    """

    model: str = Field(default=DEFAULT_MODEL, alias="model_name")
    """Workers AI model name, e.g. `@cf/openai/gpt-oss-120b` or `@cf/openai/gpt-oss-20b`."""
    reasoning_effort: Literal["low", "medium", "high"] | None = None
    """How long gpt-oss thinks; the server default is medium. Reasoning cannot be turned off."""
    max_tokens: int | None = Field(default=None, alias="max_output_tokens", gt=0, strict=True)
    """Output budget, reasoning included; sent as `max_output_tokens`."""
    temperature: float | None = Field(default=None, ge=0, le=2, allow_inf_nan=False)
    top_p: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    stop: list[str] | None = None
    """Stop strings, applied client-side (the Responses API has none)."""
    stream_mode: StreamMode = "auto"
    """How `stream()` is served: `buffered`, `responses`, `chat_completions` (token streaming on Cloudflare), or
    `auto` (chat_completions on Cloudflare's host, else responses)."""
    send_reasoning: bool = True
    """Send the reasoning of a tool turn back with its results, so that gpt-oss continues its chain of thought. Set
    False for servers that refuse reasoning input items, such as LiteLLM's Responses bridge (docs/wire.md, quirk 9).
    """
    streaming: bool = False
    """Serve `invoke()` by streaming, so callbacks see each token."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra Responses request fields with no parameter of their own."""

    # Unknown arguments are refused (never sent); their values are kept out of the error, where a token could be.
    model_config = ConfigDict(
        populate_by_name=True, extra="forbid", arbitrary_types_allowed=True, hide_input_in_errors=True
    )

    @field_validator("reasoning_effort", mode="before")
    @classmethod
    def _check_reasoning_effort(cls, value: Any) -> Any:
        return validate_reasoning_effort(value)

    @field_validator("model_kwargs")
    @classmethod
    def _check_model_kwargs(cls, value: dict[str, Any]) -> dict[str, Any]:
        check_extra_fields(value, setting="model_kwargs")
        return value

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

    def _get_invocation_params(self, stop: list[str] | None = None, **kwargs: Any) -> dict[str, Any]:
        # LangChain's own builds the same dict through the deprecated `dict()` under a warnings filter, which cost
        # every call about 10 µs (benchmarks/); the result is identical.
        return {**self._identifying_params, "_type": self._llm_type, "stop": stop, **kwargs}

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_token": API_TOKEN_ENV[0]}

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    def _resolve_model_profile(self) -> ModelProfile | None:
        return profile_for(self.model)

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        # Whole, as LangChain asks of integrations: its own version is a fallback that probes attributes. The call's
        # options override the model's settings as they do for the request (cfai.call_options).
        defaults = {"model": self.model, "temperature": self.temperature, "max_tokens": self.max_tokens}
        settings = merge_call_options(defaults, kwargs)
        model = settings["model"]
        params = LangSmithParams(ls_provider="cloudflare", ls_model_type="chat")
        params["ls_model_name"] = model if isinstance(model, str) else self.model
        if isinstance(settings["temperature"], (int, float)):
            params["ls_temperature"] = settings["temperature"]
        if isinstance(settings["max_tokens"], int):
            params["ls_max_tokens"] = settings["max_tokens"]
        if stop or self.stop:
            params["ls_stop"] = list(stop or self.stop or ())
        return params

    # The request, shared by every path.

    # Token counts, with gpt-oss's own tokenizer (o200k through tiktoken).

    def get_num_tokens(self, text: str) -> int:
        """The tokens of `text` exactly as gpt-oss reads it."""
        from cfai.tokens import count_tokens  # tiktoken loads with the first count

        return count_tokens(text)

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[dict[str, Any] | type | BaseTool] | None = None
    ) -> int:
        """The input tokens these messages (and tools) make as one request: the content exactly, the fixed
        formatting a gpt-oss server adds estimated (`cfai.tokens.count_request_tokens`)."""
        from cfai.tokens import count_request_tokens

        options = {"tools": to_responses_tools(tools)} if tools else {}
        return count_request_tokens(self._prepare(messages, None, options).body).total

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
            "send_reasoning": self.send_reasoning,
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

    @signature_computed_once
    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        call = self._prepare(messages, stop, kwargs)
        return self._result(self.client.create(call.body, stop=call.stop), call)

    @signature_computed_once
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

    # The batch queue (cfai.batch): many prompts in one submission, for large offline jobs.

    def batch_queued(
        self,
        inputs: Sequence[LanguageModelInput],
        *,
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        stop: list[str] | None = None,
        return_exceptions: bool = False,
        request_id: str | None = None,
        polling: Polling | None = None,
        progress: bool | None = None,
        **kwargs: Any,
    ) -> list[AIMessage | WorkersAIError]:
        """What `invoke` returns for each input, in order, through Workers AI's async batch queue.

        A failed item raises `cfai.batch.BatchItemError` (naming its index), or with `return_exceptions=True`
        stands in its slot as the error. To resume from a saved `request_id`, pass it with the same inputs and
        options: they map the results back. `polling` sets the waits and the timeout; `progress` a status line on
        stderr (None: on a terminal only). Other keyword arguments are `invoke()`'s call options (`tools=` etc.).
        Each input is a run for callbacks and tracers, as in `batch`: `config` (one for all inputs, or one each)
        gives its callbacks, tags, metadata and run name (`langchain_cfai.queued_runs`). `rate_limiter` is waited on
        once per submission.
        """
        conversations = self._conversations(inputs)
        from cfai.batch import BatchQueue, batch_outputs, raise_first_failure  # loaded with the first queued batch

        runs = start_runs(self, conversations, config, stop, kwargs)
        try:
            # After the runs start, as `invoke` checks its options inside its run: a bad option ends them all.
            calls = [self._prepare(messages, stop, kwargs) for messages in conversations]
            acquire(self.rate_limiter)
            replies = BatchQueue(self.client, polling=polling, progress=progress).run(
                [call.body for call in calls], stop=calls[0].stop if calls else None, request_id=request_id
            )
        except BaseException as error:
            runs.fail(error)
            raise
        outputs = batch_outputs(replies, self._queued_message(calls))
        runs.end(outputs)
        if not return_exceptions:
            raise_first_failure(outputs)
        return outputs

    async def abatch_queued(
        self,
        inputs: Sequence[LanguageModelInput],
        *,
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        stop: list[str] | None = None,
        return_exceptions: bool = False,
        request_id: str | None = None,
        polling: Polling | None = None,
        progress: bool | None = None,
        **kwargs: Any,
    ) -> list[AIMessage | WorkersAIError]:
        """The asynchronous `batch_queued`."""
        conversations = self._conversations(inputs)
        from cfai.batch import AsyncBatchQueue, batch_outputs, raise_first_failure  # loaded with the first queued batch

        runs = await astart_runs(self, conversations, config, stop, kwargs)
        try:
            calls = [self._prepare(messages, stop, kwargs) for messages in conversations]
            await aacquire(self.rate_limiter)
            replies = await AsyncBatchQueue(self.async_client, polling=polling, progress=progress).run(
                [call.body for call in calls], stop=calls[0].stop if calls else None, request_id=request_id
            )
        except BaseException as error:
            await runs.fail(error)
            raise
        outputs = batch_outputs(replies, self._queued_message(calls))
        await runs.end(outputs)
        if not return_exceptions:
            raise_first_failure(outputs)
        return outputs

    def _conversations(self, inputs: Sequence[LanguageModelInput]) -> list[list[BaseMessage]]:
        return [self._convert_input(value).to_messages() for value in inputs]

    def _queued_message(self, calls: Sequence[PreparedCall]) -> Callable[[int, Reply], AIMessage]:
        """Maps item `index`'s reply as `invoke` maps its own (`output_version="v1"` included)."""

        def message(index: int, reply: Reply) -> AIMessage:
            _warn_if_no_answer(reply, calls[index])
            ai = message_from_reply(reply, model=calls[index].model)
            if self.output_version != "v1":
                return ai
            metadata = {**ai.response_metadata, "output_version": "v1"}
            return ai.model_copy(update={"content": ai.content_blocks, "response_metadata": metadata})

        return message

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
        from langchain_cfai.structured_output import structured_output  # loaded with the first structured model

        return structured_output(self, schema, method=method, strict=strict, include_raw=include_raw)


def _warn_if_no_answer(reply: Reply, call: PreparedCall) -> None:
    # An empty answer must not pass for a real one; a small budget can go entirely to reasoning (docs/wire.md,
    # quirk 3).
    problem = missing_answer(reply, call.body.get("max_output_tokens"))
    if problem:
        warn_at_caller(problem, EmptyAnswerWarning)
