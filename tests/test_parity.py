"""The two adapters behave alike: one parametrised table, one row per behaviour, run over both.

Each row is a small scenario against the emulator, written once in terms of `Adapter` (how to build a model, ask
it something, and write a conversation in its framework's types). Where the frameworks differ (LangChain's
`invoke` vs LlamaIndex's `chat`), the adapter object translates; what is checked is the same.
"""

from __future__ import annotations

import asyncio
import math
import pickle
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ThinkingBlock, ToolCallBlock

from cfai.emulator import CannedReply, Emulator, Fault
from cfai.errors import (
    ContextWindowExceededError,
    DroppedInputWarning,
    EmptyAnswerWarning,
    RateLimitError,
)
from langchain_cfai import ChatWorkersAI
from llamaindex_cfai import WorkersAI

WEATHER = {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}


@dataclass(frozen=True)
class Adapter:
    name: str
    model_class: type
    extra_fields: str  # where extra Responses fields go

    def make(self, emulator: Emulator, **fields: Any) -> Any:
        fields.setdefault("base_url", emulator.v1_url)
        fields.setdefault("api_token", emulator.api_token)
        fields.setdefault("max_retries", 0)
        return self.model_class(**fields)

    def ask(self, model: Any, prompt: str | list[Any], **options: Any) -> Any:
        if self.name == "langchain":
            return model.invoke(prompt, **options)
        messages = [ChatMessage(role=MessageRole.USER, content=prompt)] if isinstance(prompt, str) else prompt
        return model.chat(messages, **options)

    def stream(self, model: Any, prompt: list[Any], **options: Any) -> list[Any]:
        if self.name == "langchain":
            return list(model.stream(prompt, **options))
        return list(model.stream_chat(prompt, **options))

    def answer(self, reply: Any) -> str:
        return str(reply.content if self.name == "langchain" else reply.message.content or "")

    def metadata(self, reply: Any) -> dict[str, Any]:
        return dict(reply.response_metadata if self.name == "langchain" else reply.additional_kwargs)

    def tool_turn(self, *, with_call: bool = True) -> list[Any]:
        """A user question, the assistant's reasoning, text and call, and the tool's result (or only the result)."""
        if self.name == "langchain":
            call = {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}
            turn = AIMessage(
                content="Let me check.", additional_kwargs={"reasoning_content": "Need the tool."}, tool_calls=[call]
            )
            result = ToolMessage(content="Sunny", tool_call_id="call_1")
            return [HumanMessage("Weather in Paris?"), *([turn] if with_call else []), result]
        turn = ChatMessage(
            role=MessageRole.ASSISTANT,
            blocks=[
                ThinkingBlock(content="Need the tool."),
                *ChatMessage(content="Let me check.").blocks,
                ToolCallBlock(tool_call_id="call_1", tool_name="get_weather", tool_kwargs={"city": "Paris"}),
            ],
        )
        result = ChatMessage(role=MessageRole.TOOL, content="Sunny", additional_kwargs={"tool_call_id": "call_1"})
        return [ChatMessage(role=MessageRole.USER, content="Weather in Paris?"), *([turn] if with_call else []), result]


ADAPTERS = [Adapter("langchain", ChatWorkersAI, "model_kwargs"), Adapter("llamaindex", WorkersAI, "additional_kwargs")]

Row = Callable[[Adapter, Emulator], None]
ROWS: dict[str, Row] = {}


def row(check: Row) -> Row:
    ROWS[check.__name__] = check
    return check


@row
def unknown_call_keywords_are_a_type_error_naming_the_accepted_ones(adapter: Adapter, emulator: Emulator) -> None:
    model = adapter.make(emulator)
    options = [{"top_k": 3}, {"instructions": "x"}, {"store": True}]
    if adapter.name == "llamaindex":  # LangChain's invoke takes `input` itself
        options.append({"input": "another conversation"})
    for option in options:
        with pytest.raises(TypeError, match=r"accepted: .*reasoning_effort"):
            adapter.ask(model, "Hi", **option)
    assert emulator.requests == []


@row
def extra_fields_may_not_set_what_the_package_owns(adapter: Adapter, emulator: Emulator) -> None:
    for field in ("input", "instructions", "stream", "store", "reasoning"):
        with pytest.raises(ValueError, match=f"may not set '{field}'"):
            adapter.make(emulator, **{adapter.extra_fields: {field: 1}})
    model = adapter.make(emulator, **{adapter.extra_fields: {"truncation": "auto"}})
    adapter.ask(model, "Hi")
    assert emulator.requests[-1].json["truncation"] == "auto"


@row
def a_changed_base_url_is_honoured_after_a_call(adapter: Adapter, emulator: Emulator) -> None:
    model = adapter.make(emulator, base_url="http://127.0.0.1:9/v1")  # nothing listens on port 9
    model.base_url = emulator.v1_url
    assert adapter.answer(adapter.ask(model, "Hi")) == "You asked: Hi"
    model.base_url = "http://127.0.0.1:9/v1"
    with pytest.raises(Exception, match="Could not reach"):
        adapter.ask(model, "Hi")


@row
def a_changed_connection_field_is_honoured_by_async_calls(adapter: Adapter, emulator: Emulator) -> None:
    model = adapter.make(emulator, base_url="http://127.0.0.1:9/v1")

    async def ask() -> Any:
        if adapter.name == "langchain":
            return await model.ainvoke("Hi")
        return await model.achat([ChatMessage(role=MessageRole.USER, content="Hi")])

    with pytest.raises(Exception, match="Could not reach"):
        asyncio.run(ask())
    before = (model.client, model.async_client)
    model.base_url = emulator.v1_url
    after = (model.client, model.async_client)
    assert after[0] is not before[0] and after[1] is not before[1]
    assert adapter.answer(asyncio.run(ask())) == "You asked: Hi"
    model.timeout = 5.0  # any connection field, not only the URL
    assert model.async_client is not after[1]
    assert model.async_client.config.timeout.read == 5.0


@row
def an_empty_conversation_is_refused_before_sending(adapter: Adapter, emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="conversation is empty"):
        adapter.ask(adapter.make(emulator), [])
    assert emulator.requests == []


@row
def bad_numbers_are_refused_before_sending(adapter: Adapter, emulator: Emulator) -> None:
    for field, value in (
        ("max_tokens", "100"),
        ("max_tokens", 0),
        ("max_tokens", 2.5),
        ("temperature", "hot"),
        ("temperature", math.nan),
        ("top_p", 1.5),
    ):
        with pytest.raises(ValueError, match=field):  # pydantic's ValidationError is a ValueError
            adapter.make(emulator, **{field: value})
        with pytest.raises((ValueError, TypeError), match=field):
            adapter.ask(adapter.make(emulator), "Hi", **{field: value})
    assert emulator.requests == []


@row
def tools_without_an_object_schema_are_refused_before_sending(adapter: Adapter, emulator: Emulator) -> None:
    model = adapter.make(emulator)
    for parameters in ("x", [1], {"type": "string"}, {"type": "object", "properties": 5}):
        with pytest.raises((ValueError, TypeError), match="get_weather"):
            adapter.ask(model, "Hi", tools=[{**WEATHER, "parameters": parameters}])
    assert emulator.requests == []


@row
def header_values_that_would_split_a_request_are_refused_unechoed(adapter: Adapter, emulator: Emulator) -> None:
    secret = "abc\r\nX-Injected: 1"
    for fields in (
        {"api_token": secret},
        {"session_id": secret},
        {"default_headers": {"x": secret}},
        {"api_token": "tökén-ünïcode"},
    ):
        with pytest.raises(ValueError, match="cannot carry") as raised:
            adapter.ask(adapter.make(emulator, **fields), "Hi")
        assert "X-Injected" not in str(raised.value) and "tökén" not in str(raised.value)
    assert emulator.requests == []


@row
def base_urls_with_credentials_or_a_query_are_refused(adapter: Adapter, emulator: Emulator) -> None:
    for url, problem in (
        (f"http://user:pass@127.0.0.1:{emulator.port}/v1", "user name or password"),
        (f"{emulator.v1_url}?x=1", "query"),
    ):
        with pytest.raises(ValueError, match=problem) as raised:
            adapter.make(emulator, base_url=url)
        assert "pass@" not in str(raised.value)


@row
def lone_surrogates_are_refused_before_sending(adapter: Adapter, emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="not valid Unicode"):
        adapter.ask(adapter.make(emulator), "broken \ud83d text")
    assert emulator.requests == []


@row
def a_prompt_that_cannot_fit_the_window_is_refused_before_sending(adapter: Adapter, emulator: Emulator) -> None:
    with pytest.raises(ContextWindowExceededError, match="not sent"):
        adapter.ask(adapter.make(emulator), "x " * 300_000)  # 600,000 characters, 300,000 tokens
    assert emulator.requests == []


@row
def an_empty_answer_warns_with_one_class(adapter: Adapter, emulator: Emulator) -> None:
    emulator.enqueue(Fault.reasoning_only())
    with pytest.warns(EmptyAnswerWarning, match="no answer"):
        adapter.ask(adapter.make(emulator), "Hi")


@row
def the_cost_is_the_core_s(adapter: Adapter, emulator: Emulator) -> None:
    reply = adapter.ask(adapter.make(emulator), "What does a kilowatt-hour cost?")
    if adapter.name == "langchain":
        tokens = reply.usage_metadata["input_tokens"], reply.usage_metadata["output_tokens"]
    else:
        tokens = reply.additional_kwargs["prompt_tokens"], reply.additional_kwargs["completion_tokens"]
    # gpt-oss-120b: $0.35 in, $0.75 out per million tokens.
    assert adapter.metadata(reply)["cost_usd"] == pytest.approx((tokens[0] * 0.35 + tokens[1] * 0.75) / 1e6)


def sent_kinds(emulator: Emulator) -> list[str]:
    """The last request's input items, each named by its type (or a plain message by its role)."""
    return [item.get("type") or item.get("role") for item in emulator.requests[-1].json["input"]]


@row
def an_assistant_turn_goes_out_as_reasoning_text_then_calls(adapter: Adapter, emulator: Emulator) -> None:
    adapter.ask(adapter.make(emulator), adapter.tool_turn(), tools=[WEATHER])
    assert sent_kinds(emulator) == ["user", "reasoning", "message", "function_call", "function_call_output"]


@row
def without_reasoning_a_tool_turn_goes_out_bare_on_both_routes(adapter: Adapter, emulator: Emulator) -> None:
    # LiteLLM's Responses bridge refuses reasoning input items (docs/wire.md, quirk 9).
    adapter.ask(adapter.make(emulator, send_reasoning=False), adapter.tool_turn(), tools=[WEATHER])
    assert sent_kinds(emulator) == ["user", "message", "function_call", "function_call_output"]
    streaming = adapter.make(emulator, send_reasoning=False, stream_mode="chat_completions")
    adapter.stream(streaming, adapter.tool_turn(), tools=[WEATHER])
    assert emulator.requests[-1].path.endswith("/chat/completions")
    assistant = [message for message in emulator.requests[-1].json["messages"] if message["role"] == "assistant"]
    assert len(assistant) == 1
    assert "reasoning" not in assistant[0]
    assert assistant[0]["tool_calls"][0]["function"]["name"] == "get_weather"


@row
def a_tool_result_without_its_call_is_dropped_with_a_warning(adapter: Adapter, emulator: Emulator) -> None:
    with pytest.warns(DroppedInputWarning, match="call_1"):
        adapter.ask(adapter.make(emulator), adapter.tool_turn(with_call=False))
    assert [item.get("type") for item in emulator.requests[-1].json["input"]] == [None]


@row
def a_retry_after_above_the_cap_is_raised_not_cut_short(adapter: Adapter, emulator: Emulator) -> None:
    emulator.enqueue(Fault.rate_limited(retry_after=3600))
    with pytest.raises(RateLimitError) as raised:
        adapter.ask(adapter.make(emulator, max_retries=2), "Hi")
    assert raised.value.retry_after == 3600.0 and len(emulator.requests) == 1


@row
def an_escaped_echo_of_the_token_is_redacted(adapter: Adapter, emulator: Emulator) -> None:
    token = "tok/with+chars=="
    echo = '{"errors": [{"code": 10000, "message": "bad token tok\\/with+chars=="}], "echo": "tok\\u002fwith+chars=="}'
    emulator.enqueue(CannedReply(status=401, body=echo, content_type="application/json"))
    with pytest.raises(Exception) as raised:
        adapter.ask(adapter.make(emulator, api_token=token), "Hi")
    assert token not in str(raised.value) and token not in str(raised.value.body)


@row
def a_used_model_pickles_and_works_after(adapter: Adapter, emulator: Emulator) -> None:
    model = adapter.make(emulator)
    adapter.ask(model, "Hi")
    restored = pickle.loads(pickle.dumps(model))
    assert not restored._clients.created
    assert adapter.answer(adapter.ask(restored, "Again")) == "You asked: Again"


@row
def models_are_context_managers(adapter: Adapter, emulator: Emulator) -> None:
    with adapter.make(emulator) as model:
        adapter.ask(model, "Hi")
        assert model._clients.created
    assert not model._clients.created


@pytest.mark.parametrize("check", list(ROWS.values()), ids=list(ROWS))
@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda adapter: adapter.name)
def test_both_adapters_behave_alike(adapter: Adapter, check: Row, workers_ai_emulator: Emulator) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        check(adapter, workers_ai_emulator)
