"""Structured output through `text.format` json_schema: structured_predict and friends, and as_structured_llm."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMChatStartEvent,
    LLMStructuredPredictEndEvent,
    LLMStructuredPredictStartEvent,
)
from llama_index.core.prompts import PromptTemplate
from llama_index.core.types import PydanticProgramMode
from pydantic import BaseModel

from cfai.errors import EmptyAnswerWarning

PROMPT = PromptTemplate("Extract the person from: {text}")
ADA_JSON = '{"name": "Ada Lovelace", "born": 1815, "home": {"city": "London"}}'


class City(BaseModel):
    city: str


class Person(BaseModel):
    """A person mentioned in the text."""

    name: str
    born: int
    home: City


ADA = Person(name="Ada Lovelace", born=1815, home=City(city="London"))


def test_structured_predict_asks_for_the_json_schema_and_returns_the_object(
    server: Callable[..., Any], reply: Any
) -> None:
    srv = server(reply(ADA_JSON))

    person = srv.llm().structured_predict(Person, PROMPT, text="Ada Lovelace, born 1815 in London")

    assert person == ADA
    text_format = srv.bodies[0]["text"]["format"]
    assert text_format["type"] == "json_schema" and text_format["name"] == "Person"
    assert text_format["schema"]["properties"]["home"]["properties"] == {"city": {"title": "City", "type": "string"}}
    assert "$defs" not in text_format["schema"] and "tools" not in srv.bodies[0]
    assert srv.bodies[0]["input"] == [
        {"role": "user", "content": "Extract the person from: Ada Lovelace, born 1815 in London"}
    ]


def test_astructured_predict(server: Callable[..., Any], reply: Any) -> None:
    llm = server(reply(ADA_JSON)).llm()
    assert asyncio.run(llm.astructured_predict(Person, PROMPT, text="Ada")) == ADA


@pytest.mark.parametrize("asynchronous", [False, True])
def test_structured_prediction_is_reported_in_its_own_span(
    asynchronous: bool, server: Callable[..., Any], reply: Any, instrumentation_events: list[BaseEvent]
) -> None:
    """As LlamaIndex's own `structured_predict` reports it: start and end events, the chat's inside the same span."""
    llm = server(reply(ADA_JSON)).llm()
    call = llm.astructured_predict if asynchronous else llm.structured_predict
    result = call(Person, PROMPT, text="Ada")
    person = asyncio.run(result) if asynchronous else result

    assert person == ADA
    kinds = [type(event) for event in instrumentation_events]
    assert kinds[0] is LLMStructuredPredictStartEvent and kinds[-1] is LLMStructuredPredictEndEvent
    assert LLMChatStartEvent in kinds and LLMChatEndEvent in kinds
    start, end = instrumentation_events[0], instrumentation_events[-1]
    assert isinstance(start, LLMStructuredPredictStartEvent) and start.template_args == {"text": "Ada"}
    assert isinstance(end, LLMStructuredPredictEndEvent) and end.output == ADA
    method = "astructured_predict" if asynchronous else "structured_predict"
    assert start.span_id is not None and start.span_id.startswith(f"WorkersAI.{method}-")
    assert end.span_id == start.span_id


def test_json_wrapped_in_prose_is_still_read(server: Callable[..., Any], reply: Any) -> None:
    llm = server(reply(f"Here it is:\n```json\n{ADA_JSON}\n```")).llm()
    assert llm.structured_predict(Person, PROMPT, text="Ada") == ADA


def test_an_answer_that_does_not_fit_is_a_clear_error(server: Callable[..., Any], reply: Any) -> None:
    llm = server(reply('{"name": "Ada"}')).llm()
    with pytest.raises(ValueError, match="did not return a valid Person"):
        llm.structured_predict(Person, PROMPT, text="Ada")


def test_a_reasoning_only_reply_says_why_there_is_no_object(server: Callable[..., Any]) -> None:
    llm = server("responses-incomplete-reasoning-only.json").llm()
    with pytest.warns(EmptyAnswerWarning), pytest.raises(ValueError, match="still reasoning"):
        llm.structured_predict(Person, PROMPT, text="Ada")


@pytest.mark.parametrize("mode", ["buffered", "responses"])
def test_stream_structured_predict_ends_with_the_object(mode: str, server: Callable[..., Any], reply: Any) -> None:
    llm = server(reply(ADA_JSON)).llm(stream_mode=mode)

    partials = list(llm.stream_structured_predict(Person, PROMPT, text="Ada"))

    assert partials[-1] == ADA


def test_astream_structured_predict(server: Callable[..., Any], reply: Any) -> None:
    llm = server(reply(ADA_JSON)).llm()

    async def collect() -> list[Any]:
        return [partial async for partial in await llm.astream_structured_predict(Person, PROMPT, text="Ada")]

    assert asyncio.run(collect())[-1] == ADA


def test_as_structured_llm_answers_with_the_object(server: Callable[..., Any], reply: Any) -> None:
    srv = server(reply(ADA_JSON))
    structured = srv.llm().as_structured_llm(Person)

    response = structured.chat([ChatMessage(role=MessageRole.USER, content="Ada Lovelace, 1815, London")])

    assert response.raw == ADA
    assert Person.model_validate_json(response.message.content or "") == ADA
    assert srv.bodies[0]["text"]["format"]["name"] == "Person"


def test_function_program_mode_keeps_llamaindex_tool_calling(server: Callable[..., Any], reply: Any) -> None:
    srv = server(reply(calls=(("Person", ADA_JSON),)))
    llm = srv.llm(pydantic_program_mode=PydanticProgramMode.FUNCTION)

    assert llm.structured_predict(Person, PROMPT, text="Ada") == ADA
    assert srv.bodies[0]["tools"][0]["name"] == "Person" and "text" not in srv.bodies[0]


def test_as_structured_llm_streams_partial_objects(server: Callable[..., Any], reply: Any) -> None:
    structured = server(reply(ADA_JSON)).llm(stream_mode="responses").as_structured_llm(Person)

    chunks = list(structured.stream_chat([ChatMessage(role=MessageRole.USER, content="Ada Lovelace, 1815, London")]))

    assert chunks[-1].raw == ADA
