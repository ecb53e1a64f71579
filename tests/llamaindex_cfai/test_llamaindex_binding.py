"""WorkersAI and WorkersAIEmbedding with a Workers binding (`binding=env.AI`) in place of HTTP, against a fake binding
object."""

from __future__ import annotations

import pickle

import pytest
from llama_index.core import VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.llms import ChatMessage
from llama_index.core.schema import TextNode
from llama_index.core.tools import FunctionTool
from support.fake_binding import FakeBinding

from cfai.binding import AsyncOnlyError
from cfai.emulator import Emulator
from cfai.errors import BadRequestError
from llamaindex_cfai import WorkersAI, WorkersAIEmbedding

MODEL = "@cf/openai/gpt-oss-120b"


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny in {city}"


@pytest.fixture
def binding() -> FakeBinding:
    return FakeBinding()


@pytest.fixture
def llm(binding: FakeBinding) -> WorkersAI:
    # No account id or token: the construction-time credential check is skipped with a binding.
    return WorkersAI(model=MODEL, binding=binding, max_retries=0)


async def test_achat_returns_the_binding_answer(llm: WorkersAI, binding: FakeBinding) -> None:
    response = await llm.achat(
        [ChatMessage(role="system", content="Be brief."), ChatMessage(role="user", content="hi")]
    )
    assert response.message.content == "You asked: hi"
    assert response.additional_kwargs["total_tokens"] > 0
    ((model, inputs),) = binding.calls
    assert model == MODEL
    assert inputs == {"instructions": "Be brief.", "input": [{"role": "user", "content": "hi"}]}


async def test_acomplete_and_astream_chat(llm: WorkersAI) -> None:
    assert (await llm.acomplete("hello")).text == "You asked: hello"
    chunks = [chunk async for chunk in await llm.astream_chat([ChatMessage(role="user", content="Count to three")])]
    assert chunks[-1].message.content == "You asked: Count to three"
    assert "".join(chunk.delta or "" for chunk in chunks) == "You asked: Count to three"


async def test_tools_and_a_tool_round_trip(llm: WorkersAI, binding: FakeBinding) -> None:
    weather = FunctionTool.from_defaults(get_weather)
    history = [ChatMessage(role="user", content="What's the weather in Paris?")]
    response = await llm.achat_with_tools([weather], chat_history=history)
    (selection,) = llm.get_tool_calls_from_response(response)
    assert (selection.tool_name, selection.tool_kwargs) == ("get_weather", {"city": "Paris"})
    result = ChatMessage(
        role="tool", content=get_weather(**selection.tool_kwargs), additional_kwargs={"tool_call_id": selection.tool_id}
    )
    final = await llm.achat_with_tools([weather], chat_history=[*history, response.message, result])
    assert final.message.content == "Based on get_weather: Sunny in Paris"
    assert binding.last_inputs["input"][-1]["type"] == "function_call_output"


def test_sync_entry_points_say_workers_are_async(llm: WorkersAI, binding: FakeBinding) -> None:
    with pytest.raises(AsyncOnlyError, match="achat"):
        llm.chat([ChatMessage(role="user", content="hi")])
    with pytest.raises(AsyncOnlyError):
        llm.complete("hi")
    assert binding.calls == []


async def test_binding_errors_become_cfai_errors(llm: WorkersAI, binding: FakeBinding) -> None:
    binding.fail_with("AiError: 5006: Bad input: Error: type at '/input' not met")
    with pytest.raises(BadRequestError) as raised:
        await llm.achat([ChatMessage(role="user", content="hi")])
    assert raised.value.code == 5006


def test_the_binding_stays_out_of_serialized_and_pickled_models(llm: WorkersAI) -> None:
    assert "binding" not in llm.to_dict() and "binding" not in repr(llm)
    assert pickle.loads(pickle.dumps(llm)).binding is None


# Retrieval inside a Worker: the embedding model over the same binding.

EMBEDDING_MODEL = "@cf/baai/bge-small-en-v1.5"
FACTS = [
    "The warranty covers manufacturing defects for two years after purchase.",
    "Shipping takes three to five business days within the European Union.",
    "Returns are accepted within thirty days if the product is unused.",
]


async def test_an_index_built_and_queried_through_the_binding(llm: WorkersAI, binding: FakeBinding) -> None:
    # No account id or token: the construction-time credential check is skipped with a binding, as for WorkersAI.
    embed_model = WorkersAIEmbedding(model_name=EMBEDDING_MODEL, binding=binding)
    index = VectorStoreIndex([], embed_model=embed_model)
    await index.ainsert_nodes([TextNode(text=fact) for fact in FACTS])  # no event loop of its own inside a Worker

    response = await index.as_query_engine(llm=llm, similarity_top_k=1).aquery("How long does the warranty last?")

    assert [node.node.get_content() for node in response.source_nodes] == [FACTS[0]]
    assert FACTS[0] in str(response)
    assert [model for model, _ in binding.calls] == [EMBEDDING_MODEL, EMBEDDING_MODEL, MODEL]
    assert binding.calls[0][1] == {"text": FACTS}


async def test_the_binding_vectors_are_those_of_the_rest_route(
    binding: FakeBinding, workers_ai_emulator: Emulator
) -> None:
    over_binding = WorkersAIEmbedding(model_name=EMBEDDING_MODEL, binding=binding)
    over_http = WorkersAIEmbedding(
        model_name=EMBEDDING_MODEL, base_url=workers_ai_emulator.v1_url, api_token=workers_ai_emulator.api_token
    )
    assert await over_binding.aget_text_embedding_batch(FACTS) == await over_http.aget_text_embedding_batch(FACTS)
    assert await over_binding.aget_query_embedding(FACTS[0]) == await over_http.aget_query_embedding(FACTS[0])


def test_the_sync_embedding_methods_name_the_async_ones(binding: FakeBinding) -> None:
    embed_model = WorkersAIEmbedding(model_name=EMBEDDING_MODEL, binding=binding)
    with pytest.raises(AsyncOnlyError, match="aget_text_embedding_batch"):
        embed_model.get_text_embedding_batch(FACTS)
    with pytest.raises(AsyncOnlyError, match="WorkersAIEmbedding"):
        embed_model.get_query_embedding("hi")
    assert binding.calls == []


async def test_an_ai_gateway_is_passed_to_every_run(binding: FakeBinding) -> None:
    gateway = {"gateway_id": "my-gateway", "gateway_options": {"collect_log": False, "retry_delay": 500}}
    llm = WorkersAI(model=MODEL, binding=binding, **gateway)
    await llm.achat([ChatMessage(role="user", content="hi")])
    await WorkersAIEmbedding(binding=binding, **gateway).aget_query_embedding("hi")
    expected = {"id": "my-gateway", "collectLog": False, "retries": {"retryDelayMs": 500}}
    assert binding.options == [{"gateway": expected}] * 2
    with pytest.raises(ValueError, match="a whole number"):
        WorkersAI(binding=binding, gateway_id="g", gateway_options={"retry_delay": "later"})


async def test_a_function_agent_runs_its_tool_loop_through_the_binding(llm: WorkersAI, binding: FakeBinding) -> None:
    agent = FunctionAgent(tools=[FunctionTool.from_defaults(get_weather)], llm=llm)
    result = await agent.run("What's the weather in Paris?")
    assert str(result) == "Based on get_weather: Sunny in Paris"
    first, second = (inputs["input"] for _, inputs in binding.calls)
    kinds = [item.get("type", "message") for item in second]
    assert kinds == ["message", "reasoning", "function_call", "function_call_output"]  # the turn's reasoning kept
    assert second[-1]["output"] == "Sunny in Paris" and first == second[:1]
