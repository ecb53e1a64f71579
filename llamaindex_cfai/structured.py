"""Structured output through the Responses `text.format` json_schema, as a LlamaIndex pydantic program.

`WorkersAI.structured_predict` (and its async and streaming forms, and `as_structured_llm`) use this program in
LlamaIndex's default program mode instead of LlamaIndex's default for function-calling models (a forced tool
call): a response format is what gpt-oss is trained to follow, while forced tool choice is only advisory on
Cloudflare (docs/wire.md). Other `pydantic_program_mode`s keep LlamaIndex's own programs. `StructuredPredict`, a
mixin of `WorkersAI`, holds those entry points.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Generator
from typing import TYPE_CHECKING, Any, Generic, cast

from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]  # re-exported without __all__
from llama_index.core.instrumentation.events.llm import LLMStructuredPredictEndEvent, LLMStructuredPredictStartEvent
from llama_index.core.llms.llm import LLM
from llama_index.core.output_parsers.utils import extract_json_str
from llama_index.core.program.utils import FlexibleModel, get_program_for_llm, process_streaming_objects
from llama_index.core.prompts.base import BasePromptTemplate
from llama_index.core.types import BasePydanticProgram, Model, PydanticProgramMode
from pydantic import BaseModel, ValidationError

from cfai.wire import json_schema_format
from llamaindex_cfai.convert import thinking_of

dispatcher = get_dispatcher(__name__)


def structured_output_format(output_cls: type[BaseModel]) -> dict[str, Any]:
    """The `text.format` for a pydantic class; the name follows the Responses rule `^[a-zA-Z0-9_-]{1,64}$`."""
    name = re.sub(r"[^a-zA-Z0-9_-]", "_", output_cls.__name__)[:64] or "output"
    return json_schema_format(name, output_cls.model_json_schema())


def parse_structured_output(output_cls: type[Model], response: ChatResponse) -> Model:
    """The answer text validated as `output_cls`, tolerating text around the JSON object."""
    text = response.message.content or ""
    try:
        return output_cls.model_validate_json(text)
    except ValidationError as first_error:
        try:
            return output_cls.model_validate_json(extract_json_str(text))
        except (ValueError, ValidationError):
            pass
        reason = "the reply had no answer text" if not text else f"it does not match the schema: {first_error}"
        if not text and thinking_of(response.message):
            reason += " (the model was still reasoning; raise max_tokens or lower reasoning_effort)"
        raise ValueError(f"Workers AI did not return a valid {output_cls.__name__}: {reason}") from None


class JSONSchemaProgram(BasePydanticProgram[Model], Generic[Model]):
    """Formats the prompt as chat messages and asks for a reply that follows `output_cls`'s JSON schema."""

    def __init__(self, output_cls: type[Model], prompt: BasePromptTemplate, llm: LLM) -> None:
        self._output_cls = output_cls
        self._prompt = prompt
        self._llm = llm

    @property
    def output_cls(self) -> type[Model]:
        return self._output_cls

    def _messages(self, prompt_args: dict[str, Any]) -> list[ChatMessage]:
        return self._llm._extend_messages(self._prompt.format_messages(llm=self._llm, **prompt_args))

    def _llm_kwargs(self, llm_kwargs: dict[str, Any] | None) -> dict[str, Any]:
        return {**(llm_kwargs or {}), "text_format": structured_output_format(self._output_cls)}

    def _partial(self, response: ChatResponse, so_far: list[Any] | None) -> Any:
        return process_streaming_objects(response, self._output_cls, cur_objects=so_far, llm=self._llm)

    def __call__(self, llm_kwargs: dict[str, Any] | None = None, *args: Any, **prompt_args: Any) -> Model:
        response = self._llm.chat(self._messages(prompt_args), **self._llm_kwargs(llm_kwargs))
        return parse_structured_output(self._output_cls, response)

    async def acall(self, llm_kwargs: dict[str, Any] | None = None, *args: Any, **prompt_args: Any) -> Model:
        response = await self._llm.achat(self._messages(prompt_args), **self._llm_kwargs(llm_kwargs))
        return parse_structured_output(self._output_cls, response)

    def stream_call(
        self, *args: Any, llm_kwargs: dict[str, Any] | None = None, **prompt_args: Any
    ) -> Generator[Model | FlexibleModel, None, None]:
        """Partial objects as the JSON text arrives, the complete object last."""
        so_far: list[Any] | None = None
        for response in self._llm.stream_chat(self._messages(prompt_args), **self._llm_kwargs(llm_kwargs)):
            partial = self._partial(response, so_far)
            so_far = [partial]
            yield partial

    async def astream_call(
        self, *args: Any, llm_kwargs: dict[str, Any] | None = None, **prompt_args: Any
    ) -> AsyncGenerator[Model | FlexibleModel, None]:
        responses = await self._llm.astream_chat(self._messages(prompt_args), **self._llm_kwargs(llm_kwargs))

        async def partials() -> AsyncGenerator[Model | FlexibleModel, None]:
            so_far: list[Any] | None = None
            async for response in responses:
                partial = self._partial(response, so_far)
                so_far = [partial]
                yield partial

        return partials()


class StructuredPredict:
    """The structured-output entry points of `WorkersAI`: `JSONSchemaProgram` in the default program mode,
    LlamaIndex's own programs in the others."""

    if TYPE_CHECKING:
        pydantic_program_mode: PydanticProgramMode

    def _program(self, output_cls: type[Model], prompt: BasePromptTemplate) -> BasePydanticProgram[Model]:
        llm = cast(LLM, self)  # mixed into an LLM
        if self.pydantic_program_mode == PydanticProgramMode.DEFAULT:
            return JSONSchemaProgram(output_cls, prompt, llm)
        return get_program_for_llm(output_cls, prompt, llm, pydantic_program_mode=self.pydantic_program_mode)

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
