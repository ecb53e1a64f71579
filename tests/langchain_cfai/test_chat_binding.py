"""ChatWorkersAI (and the embeddings beside it) with a Workers binding (`binding=env.AI`) in place of HTTP, against a
fake binding object."""

from __future__ import annotations

import copy
import pickle

import pytest
from langchain.agents import create_agent
from langchain_core.load import dumpd
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool
from support.fake_binding import FakeBinding

from cfai.binding import AsyncOnlyError
from cfai.errors import RateLimitError
from langchain_cfai import ChatWorkersAI, WorkersAIEmbeddings

MODEL = "@cf/openai/gpt-oss-20b"


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny in {city}"


@pytest.fixture
def binding() -> FakeBinding:
    return FakeBinding()


@pytest.fixture
def llm(binding: FakeBinding) -> ChatWorkersAI:
    # No account id, token or URL: a binding needs none (and the suite clears CLOUDFLARE_* variables).
    return ChatWorkersAI(model=MODEL, binding=binding, reasoning_effort="low", max_retries=0)


async def test_ainvoke_returns_the_binding_answer(llm: ChatWorkersAI, binding: FakeBinding) -> None:
    reply = await llm.ainvoke("hi")
    assert reply.content == "You asked: hi"
    assert reply.additional_kwargs["reasoning_content"]
    assert reply.response_metadata["model_provider"] == "cloudflare"
    assert reply.usage_metadata is not None and reply.usage_metadata["total_tokens"] > 0
    ((model, inputs),) = binding.calls
    assert model == MODEL
    assert inputs == {"input": [{"role": "user", "content": "hi"}], "reasoning": {"effort": "low"}}


async def test_astream_replays_the_reply_with_usage_once_at_the_end(llm: ChatWorkersAI) -> None:
    chunks = [chunk async for chunk in llm.astream("Count to three")]
    assert "".join(chunk.text for chunk in chunks) == "You asked: Count to three"
    assert [chunk.usage_metadata is not None for chunk in chunks].count(True) == 1
    assert chunks[-1].usage_metadata is not None


async def test_tools_and_a_tool_round_trip(llm: ChatWorkersAI, binding: FakeBinding) -> None:
    model = llm.bind_tools([get_weather])
    question = HumanMessage("What's the weather in Paris?")
    ai = await model.ainvoke([question])
    assert isinstance(ai, AIMessage)
    assert [(call["name"], call["args"]) for call in ai.tool_calls] == [("get_weather", {"city": "Paris"})]
    assert binding.last_inputs["tools"][0]["name"] == "get_weather"
    result = await get_weather.ainvoke(ai.tool_calls[0])
    final = await model.ainvoke([question, ai, result])
    assert final.content == "Based on get_weather: Sunny in Paris"
    kinds = [item.get("type") for item in binding.last_inputs["input"]]
    assert kinds[-3:] == ["reasoning", "function_call", "function_call_output"]  # the pending turn's reasoning too


async def test_abatch_runs_through_the_binding(llm: ChatWorkersAI, binding: FakeBinding) -> None:
    replies = await llm.abatch(["one", "two", "three"])
    assert [reply.content for reply in replies] == ["You asked: one", "You asked: two", "You asked: three"]
    assert len(binding.calls) == 3


def test_sync_entry_points_say_workers_are_async(llm: ChatWorkersAI, binding: FakeBinding) -> None:
    with pytest.raises(AsyncOnlyError, match="ainvoke"):
        llm.invoke("hi")
    with pytest.raises(AsyncOnlyError):
        list(llm.stream("hi"))
    assert binding.calls == []


async def test_binding_errors_become_cfai_errors(llm: ChatWorkersAI, binding: FakeBinding) -> None:
    binding.fail_with("AiError: 3040: Capacity temporarily exceeded, please try again.")
    with pytest.raises(RateLimitError) as raised:
        await llm.ainvoke("hi")
    assert raised.value.code == 3040


def test_the_binding_is_never_serialized_copied_or_pickled(llm: ChatWorkersAI, binding: FakeBinding) -> None:
    assert "binding" not in str(dumpd(llm)) and "binding" not in repr(llm)
    assert "binding" not in llm.model_dump()
    assert copy.deepcopy(llm).binding is binding  # shared with a copy, not copied
    restored = pickle.loads(pickle.dumps(llm))
    assert restored.binding is None and restored.model == MODEL


async def test_an_ai_gateway_is_passed_to_every_run(binding: FakeBinding) -> None:
    gateway = {"gateway_id": "my-gateway", "gateway_options": {"skip_cache": True, "cache_ttl": 60}}
    llm = ChatWorkersAI(model=MODEL, binding=binding, **gateway)
    await llm.ainvoke("hi")
    embeddings = WorkersAIEmbeddings(binding=binding, **gateway)
    await embeddings.aembed_query("hi")
    assert binding.options == [{"gateway": {"id": "my-gateway", "skipCache": True, "cacheTtl": 60}}] * 2


def test_gateway_options_the_binding_cannot_take_fail_at_construction(binding: FakeBinding) -> None:
    with pytest.raises(ValueError, match="true or false"):
        ChatWorkersAI(binding=binding, gateway_id="g", gateway_options={"skip_cache": "sometimes"})
    with pytest.raises(ValueError, match="need a gateway_id"):
        WorkersAIEmbeddings(binding=binding, gateway_options={"cache_ttl": 60})


async def test_an_agent_runs_its_tool_loop_through_the_binding(llm: ChatWorkersAI, binding: FakeBinding) -> None:
    agent = create_agent(llm, tools=[get_weather])
    result = await agent.ainvoke({"messages": [HumanMessage("What's the weather in Paris?")]})
    assert result["messages"][-1].content == "Based on get_weather: Sunny in Paris"
    first, second = (inputs["input"] for _, inputs in binding.calls)
    kinds = [item.get("type", "message") for item in second]
    assert kinds == ["message", "reasoning", "function_call", "function_call_output"]  # the turn's reasoning kept
    assert second[-1]["output"] == "Sunny in Paris" and first == second[:1]
