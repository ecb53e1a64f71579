"""docs/alternatives.md, row by row: one test per row of its table and per bullet of its "Pitfalls" list.

Each test is named after the defect it guards against, quotes the anchor in its docstring, and checks the correct
behaviour end to end through the public API of both adapters, against the emulator (`workers_ai_emulator`). Where the
host must be Cloudflare's own, the adapter gets an `httpx.MockTransport` that forwards to the emulator, so
`https://api.cloudflare.com/...` is only ever reached through the mock. Sockets: loopback only. No sleeping, no timing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from langchain_core.load import dumps
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.tools import tool
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole, ThinkingBlock, ToolCallBlock
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel
from support.dialects import encode_events

from cfai.emulator import CannedReply, Emulator, Fault
from cfai.errors import APITimeoutError, AuthenticationError, RateLimitError, WorkersAIError
from langchain_cfai import ChatWorkersAI
from llamaindex_cfai import WorkersAI

LLM = ChatWorkersAI | WorkersAI
SECRET = "cf-anchor-secret-9xQ2"
QUESTION = "What's the weather in Paris?"
ADAPTERS = pytest.mark.parametrize("adapter", ["langchain", "llamaindex"])


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny in {city}"


def get_weather_fn(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny in {city}"


WEATHER_TOOL = FunctionTool.from_defaults(get_weather_fn, name="get_weather")


class Trip(BaseModel):
    city: str
    days: int


def make(adapter: str, emulator: Emulator | None = None, **fields: Any) -> Any:
    """A ChatWorkersAI or WorkersAI; pointed at the emulator when given one."""
    if emulator is not None:
        fields = {"base_url": emulator.v1_url, **fields}
        if "api_key" not in fields:
            fields.setdefault("api_token", emulator.api_token)
    return (ChatWorkersAI if adapter == "langchain" else WorkersAI)(**fields)


def user(text: str) -> list[ChatMessage]:
    return [ChatMessage(role=MessageRole.USER, content=text)]


def ask(llm: LLM, text: str = "Hello", **options: Any) -> str:
    """The answer text of one call through the adapter's main entry point."""
    if isinstance(llm, ChatWorkersAI):
        content = llm.invoke(text, **options).content
        assert isinstance(content, str)
        return content
    return llm.chat(user(text), **options).message.content or ""


def stream(llm: LLM, text: str = "Hello", *, tools: bool = False) -> Iterator[Any]:
    """The adapter's stream of chunks (LangChain AIMessageChunk, LlamaIndex ChatResponse)."""
    if isinstance(llm, ChatWorkersAI):
        return (llm.bind_tools([get_weather]) if tools else llm).stream(text)
    if tools:
        return llm.stream_chat_with_tools([WEATHER_TOOL], user_msg=text)
    return llm.stream_chat(user(text))


def usage_chunks(chunks: list[Any]) -> list[int]:
    """Positions of the chunks that carry token usage."""
    if isinstance(chunks[0], AIMessageChunk):
        return [i for i, chunk in enumerate(chunks) if chunk.usage_metadata]
    return [i for i, chunk in enumerate(chunks) if "total_tokens" in chunk.additional_kwargs]


def reasoning_of(chunks: list[Any]) -> str:
    """The chain of thought a stream surfaced, as standard blocks (LangChain) or thinking deltas (LlamaIndex)."""
    if isinstance(chunks[0], AIMessageChunk):
        total = sum(chunks[1:], chunks[0])
        return "".join(block["reasoning"] for block in total.content_blocks if block["type"] == "reasoning")
    return "".join(chunk.additional_kwargs.get("thinking_delta", "") for chunk in chunks)


def tool_calls_of(chunks: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(chunks[0], AIMessageChunk):
        total = sum(chunks[1:], chunks[0])
        return [(call["name"], call["args"]) for call in total.tool_calls]
    blocks = chunks[-1].message.blocks
    return [(block.tool_name, block.tool_kwargs) for block in blocks if isinstance(block, ToolCallBlock)]


def tool_conversation(llm: LLM, *, streamed: bool = False) -> None:
    """Ask for the weather, answer the tool call, get the answer, then ask again: three requests."""
    if isinstance(llm, ChatWorkersAI):
        model = llm.bind_tools([get_weather])
        history: list[BaseMessage] = [HumanMessage(QUESTION)]
        if streamed:
            chunks = list(model.stream(history))
            call: BaseMessage = sum(chunks[1:], chunks[0])
        else:
            call = model.invoke(history)
        assert isinstance(call, AIMessage) and call.tool_calls
        history += [call, get_weather.invoke({**call.tool_calls[0], "type": "tool_call"})]
        answer = model.invoke(history)
        model.invoke([*history, answer, HumanMessage("And tomorrow?")])
        return
    messages = user(QUESTION)
    response: ChatResponse
    if streamed:
        response = list(llm.stream_chat_with_tools([WEATHER_TOOL], chat_history=messages))[-1]
    else:
        response = llm.chat_with_tools([WEATHER_TOOL], chat_history=messages)
    messages.append(response.message)
    for selection in llm.get_tool_calls_from_response(response):
        output = WEATHER_TOOL(**selection.tool_kwargs).content
        messages.append(
            ChatMessage(role=MessageRole.TOOL, content=output, additional_kwargs={"tool_call_id": selection.tool_id})
        )
    answer = llm.chat_with_tools([WEATHER_TOOL], chat_history=messages)
    llm.chat_with_tools([WEATHER_TOOL], chat_history=[*messages, answer.message, *user("And tomorrow?")])


def bodies(emulator: Emulator) -> list[dict[str, Any]]:
    return [request.json for request in emulator.requests]


def item_types(body: dict[str, Any]) -> list[str]:
    return [item.get("type", "message") for item in body["input"]]


class FakeCloudflare:
    """An httpx.MockTransport handler standing in for api.cloudflare.com: records each request, then has the emulator
    answer it (same path, loopback). `clients()` gives the adapter's `http_client` and `http_async_client`."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.requests: list[httpx.Request] = []
        self._http = httpx.Client()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.emulator.port)
        headers = {key: value for key, value in request.headers.items() if key != "host"}
        answer = self._http.send(httpx.Request(request.method, url, headers=headers, content=request.content))
        kept = {key: value for key, value in answer.headers.items() if key in ("content-type", "retry-after")}
        return httpx.Response(answer.status_code, headers=kept, content=answer.content)

    def clients(self) -> dict[str, Any]:
        transport = httpx.MockTransport(self)
        return {
            "http_client": httpx.Client(transport=transport),
            "http_async_client": httpx.AsyncClient(transport=transport),
        }

    def close(self) -> None:
        self._http.close()


@pytest.fixture
def cloudflare(workers_ai_emulator: Emulator) -> Iterator[FakeCloudflare]:
    fake = FakeCloudflare(workers_ai_emulator)
    yield fake
    fake.close()


def on_cloudflare(adapter: str, fake: FakeCloudflare, **fields: Any) -> Any:
    """An adapter with default settings (no base_url: Cloudflare's host), served by `fake`."""
    settings = {"account_id": fake.emulator.account_id, "api_token": fake.emulator.api_token, **fake.clients()}
    return make(adapter, **settings, **fields)


# -- The table ------------------------------------------------------------------------------------------------------


@ADAPTERS
def test_gpt_oss_is_served_by_the_responses_endpoint_not_ai_run(adapter: str, workers_ai_emulator: Emulator) -> None:
    """endpoint for gpt-oss: "`/ai/run` or chat/completions, never Responses"."""
    assert ask(make(adapter, workers_ai_emulator), "Hi") == "You asked: Hi"
    (request,) = workers_ai_emulator.requests
    assert request.route == "responses" and request.path.endswith("/ai/v1/responses")


@ADAPTERS
def test_stream_on_cloudflare_streams_tokens_with_reasoning_tool_calls_and_usage(
    adapter: str, cloudflare: FakeCloudflare
) -> None:
    """`stream()` on Cloudflare: "text only: reasoning deltas, tool-call deltas and usage dropped" / "fails (sends
    `stream: true`)". The default streams over Cloudflare's Chat Completions route, the one that streams gpt-oss."""
    chunks = list(stream(on_cloudflare(adapter, cloudflare), QUESTION, tools=True))
    [request] = cloudflare.requests
    assert request.url.host == "api.cloudflare.com" and request.url.path.endswith("/ai/v1/chat/completions")
    assert json.loads(request.content)["stream"] is True
    assert "get_weather" in reasoning_of(chunks)
    assert tool_calls_of(chunks) == [("get_weather", {"city": "Paris"})]
    assert usage_chunks(chunks) == [len(chunks) - 1]


@ADAPTERS
def test_stream_on_cloudflare_gives_the_answer_token_by_token_and_sends_pending_reasoning_back(
    adapter: str, cloudflare: FakeCloudflare
) -> None:
    llm = on_cloudflare(adapter, cloudflare)
    chunks = list(stream(llm, "Tell me about the history of the Hello, World program"))
    text_chunks = [chunk for chunk in chunks if (chunk.content if adapter == "langchain" else chunk.delta)]
    assert len(text_chunks) > 1
    # A streamed tool loop: the request that carries the tool's result also carries the reasoning behind the call,
    # as `reasoning` on the assistant message.
    streamed_tool_conversation(llm)
    follow_up = json.loads(cloudflare.requests[-1].content)
    assistant = next(message for message in follow_up["messages"] if message.get("tool_calls"))
    assert "get_weather" in assistant["reasoning"]
    assert follow_up["messages"][-1]["role"] == "tool"


def streamed_tool_conversation(llm: LLM) -> None:
    if isinstance(llm, ChatWorkersAI):
        model = llm.bind_tools([get_weather])
        chunks = list(model.stream([HumanMessage(QUESTION)]))
        call = sum(chunks[1:], chunks[0])
        assert isinstance(call, AIMessage) and call.tool_calls
        result = get_weather.invoke({**call.tool_calls[0], "type": "tool_call"})
        list(model.stream([HumanMessage(QUESTION), call, result]))
        return
    history = [*user(QUESTION)]
    last = list(llm.stream_chat_with_tools([WEATHER_TOOL], chat_history=history))[-1]
    [selection] = llm.get_tool_calls_from_response(last)
    history += [
        last.message,
        ChatMessage(
            role=MessageRole.TOOL,
            content=f"Sunny in {selection.tool_kwargs['city']}",
            additional_kwargs={"tool_call_id": selection.tool_id},
        ),
    ]
    list(llm.stream_chat_with_tools([WEATHER_TOOL], chat_history=history))


@ADAPTERS
def test_buffered_stream_on_cloudflare_is_one_plain_request(adapter: str, cloudflare: FakeCloudflare) -> None:
    cloudflare.emulator.configure(stream_mode="reject")  # a `stream: true` on /responses would be a 400 here
    chunks = list(stream(on_cloudflare(adapter, cloudflare, stream_mode="buffered"), QUESTION, tools=True))
    [request] = cloudflare.requests
    assert request.url.path.endswith("/ai/v1/responses") and "stream" not in json.loads(request.content)
    assert "get_weather" in reasoning_of(chunks)
    assert tool_calls_of(chunks) == [("get_weather", {"city": "Paris"})]
    assert usage_chunks(chunks) == [len(chunks) - 1]


def test_reasoning_is_a_standard_block_and_content_stays_a_string(workers_ai_emulator: Emulator) -> None:
    """reasoning: "non-standard `thinking` block; `content` flips from str to list" / "raw chain of thought hidden in
    `extras`"."""
    reply = make("langchain", workers_ai_emulator).invoke("Hi")
    assert reply.content == "You asked: Hi"
    assert [block["type"] for block in reply.content_blocks] == ["reasoning", "text"]
    assert reply.content_blocks[0]["reasoning"] == reply.additional_kwargs["reasoning_content"] != ""
    chunks = list(make("langchain", workers_ai_emulator).stream("Hi"))
    assert all(isinstance(chunk.content, str) for chunk in chunks) and reasoning_of(chunks)
    message = make("llamaindex", workers_ai_emulator).chat(user("Hi")).message
    assert message.content == "You asked: Hi"
    assert isinstance(message.blocks[0], ThinkingBlock) and message.blocks[0].content


@ADAPTERS
def test_reasoning_is_replayed_on_the_pending_tool_turn_and_dropped_once_answered(
    adapter: str, workers_ai_emulator: Emulator
) -> None:
    """reasoning: "dropped on the next turn" / "dropped on the next turn unless `store=True`"."""
    tool_conversation(make(adapter, workers_ai_emulator))
    _, results, follow_up = bodies(workers_ai_emulator)
    thought = next(item for item in results["input"] if item.get("type") == "reasoning")
    assert "get_weather" in thought["content"][0]["text"]
    assert item_types(results) == ["message", "reasoning", "function_call", "function_call_output"]
    assert "reasoning" not in item_types(follow_up)
    assert item_types(follow_up)[-2:] == ["message", "message"]  # the answer as text, then the new question


@ADAPTERS
def test_reasoning_effort_reaches_the_request_for_cf_model_names(adapter: str, workers_ai_emulator: Emulator) -> None:
    """reasoning effort: "only through `model_kwargs`" / "silently dropped for `@cf/...` names"."""
    llm = make(adapter, workers_ai_emulator, model="@cf/openai/gpt-oss-20b", reasoning_effort="high")
    ask(llm)
    ask(llm, reasoning_effort="low")
    assert [(body["model"], body["reasoning"]) for body in bodies(workers_ai_emulator)] == [
        ("@cf/openai/gpt-oss-20b", {"effort": "high"}),
        ("@cf/openai/gpt-oss-20b", {"effort": "low"}),
    ]
    with pytest.raises(ValueError, match=r"reasoning_effort|low"):
        make(adapter, workers_ai_emulator, reasoning_effort="extreme")


@ADAPTERS
def test_usage_arrives_exactly_once_as_plain_numbers_at_the_end_of_a_stream(
    adapter: str, workers_ai_emulator: Emulator
) -> None:
    """usage in streams: "no" / "no (on Cloudflare)" / "raw object only"; and stream reasoning events "ignored"."""
    workers_ai_emulator.configure(stream_mode="sse")  # true Responses SSE: reasoning and text deltas, usage at the end
    chunks = list(stream(make(adapter, workers_ai_emulator), "Hi"))
    assert workers_ai_emulator.requests[0].json["stream"] is True
    assert len(chunks) > 3 and usage_chunks(chunks) == [len(chunks) - 1]
    names = ("input_tokens", "output_tokens") if adapter == "langchain" else ("prompt_tokens", "completion_tokens")
    usage = chunks[-1].usage_metadata if adapter == "langchain" else chunks[-1].additional_kwargs
    assert all(isinstance(usage[name], int) and usage[name] > 0 for name in names)
    assert reasoning_of(chunks)


@ADAPTERS
def test_model_metadata_exists_for_cf_names_and_unknown_names_never_raise(
    adapter: str, workers_ai_emulator: Emulator
) -> None:
    """model metadata: "none for `@cf/...`" / "`metadata` raises `Unknown model` — even `chat()` crashes unless
    `context_window=` is passed"."""

    def context_window(llm: LLM) -> int | None:
        if isinstance(llm, ChatWorkersAI):
            return (llm.profile or {}).get("max_input_tokens")
        return llm.metadata.context_window

    known = make(adapter, workers_ai_emulator, model="@cf/openai/gpt-oss-20b")
    assert context_window(known) == 128_000
    unknown_name = "@cf/acme/brand-new-model"
    workers_ai_emulator.configure(models={unknown_name, "@cf/openai/gpt-oss-120b"})
    unknown = make(adapter, workers_ai_emulator, model=unknown_name)
    assert 0 < (context_window(unknown) or 0) <= 128_000
    assert ask(unknown, "Hi") == "You asked: Hi"
    if isinstance(unknown, WorkersAI):
        assert (
            WorkersAI(
                model=unknown_name, api_token="t", base_url="http://127.0.0.1:1/v1", context_window=50_000
            ).metadata.context_window
            == 50_000
        )


@ADAPTERS
def test_max_retries_is_used(adapter: str, workers_ai_emulator: Emulator) -> None:
    """retries: "`max_retries` declared, never used"."""
    workers_ai_emulator.enqueue(Fault.rate_limited(retry_after=0))  # 429/3040, capacity
    assert ask(make(adapter, workers_ai_emulator, max_retries=1), "Hi") == "You asked: Hi"
    assert len(workers_ai_emulator.requests) == 2
    workers_ai_emulator.reset()
    workers_ai_emulator.enqueue(Fault.rate_limited(retry_after=0))
    with pytest.raises(RateLimitError):
        ask(make(adapter, workers_ai_emulator, max_retries=0))
    assert len(workers_ai_emulator.requests) == 1


@ADAPTERS
def test_one_retry_layer_only(adapter: str, workers_ai_emulator: Emulator) -> None:
    """retries: "SDK retries **and** a tenacity layer on top"."""
    workers_ai_emulator.enqueue(Fault.rate_limited(retry_after=0), times=9)
    with pytest.raises(RateLimitError) as caught:
        ask(make(adapter, workers_ai_emulator, max_retries=2))
    assert len(workers_ai_emulator.requests) == 3  # 1 + max_retries, not (1 + 2) * (1 + 2)
    assert caught.value.code == 3040


@ADAPTERS
def test_streams_are_retried_before_their_first_event(adapter: str, workers_ai_emulator: Emulator) -> None:
    """retries: "streams not covered"."""
    workers_ai_emulator.configure(stream_mode="sse")
    workers_ai_emulator.enqueue(Fault.rate_limited(retry_after=0))
    chunks = list(stream(make(adapter, workers_ai_emulator, max_retries=1), "Hi"))
    assert len(workers_ai_emulator.requests) == 2 and usage_chunks(chunks) == [len(chunks) - 1]


@ADAPTERS
def test_http_client_injection_is_honoured_and_never_closed(adapter: str, cloudflare: FakeCloudflare) -> None:
    """`http_client` injection: "declared, ignored"."""
    llm = on_cloudflare(adapter, cloudflare)
    assert ask(llm, "Hi") == "You asked: Hi"

    async def async_call() -> str:
        if isinstance(llm, ChatWorkersAI):
            answer = (await llm.ainvoke("Hey")).content
            await llm.aclose()
        else:
            answer = (await llm.achat(user("Hey"))).message.content
            await llm.aclose()
        return str(answer)

    assert asyncio.run(async_call()) == "You asked: Hey"
    llm.close()
    assert len(cloudflare.requests) == len(cloudflare.emulator.requests) == 2
    assert not llm.http_client.is_closed and not llm.http_async_client.is_closed


@ADAPTERS
def test_timeout_has_a_default_and_is_applied(adapter: str, cloudflare: FakeCloudflare) -> None:
    """timeout default: "none (waits forever)"."""
    ask(on_cloudflare(adapter, cloudflare))
    assert cloudflare.requests[0].extensions["timeout"] == {"connect": 5.0, "read": 60.0, "write": 60.0, "pool": 60.0}
    cloudflare.emulator.enqueue(Fault.slow(30))
    with pytest.raises(APITimeoutError):
        ask(make(adapter, cloudflare.emulator, timeout=0.05, max_retries=0))


@ADAPTERS
@pytest.mark.parametrize("unknown", [{"api_keyy": SECRET}, {"temprature": 0.2}])
def test_unknown_constructor_kwargs_are_an_error(
    adapter: str, unknown: dict[str, Any], workers_ai_emulator: Emulator
) -> None:
    """secrets: "unknown kwargs, including `api_key=`, are sent in the JSON body" (a misspelling must not pass)."""
    with pytest.raises((TypeError, ValueError), match=next(iter(unknown))):
        make(adapter, workers_ai_emulator, **unknown)


@ADAPTERS
def test_misspelled_token_kwarg_is_refused_and_never_echoed(adapter: str, workers_ai_emulator: Emulator) -> None:
    """secrets: "unknown kwargs, including `api_key=`, are sent in the JSON body"."""
    with pytest.raises((TypeError, ValueError)) as refused:
        make(adapter, workers_ai_emulator, api_keyy=SECRET)
    assert "api_keyy" in str(refused.value) and SECRET not in str(refused.value)
    assert workers_ai_emulator.requests == []


@ADAPTERS
def test_token_never_in_body_repr_serialized_output_or_errors(adapter: str, workers_ai_emulator: Emulator) -> None:
    """secrets: "unknown kwargs, including `api_key=`, are sent in the JSON body" / "plain `str`"."""
    token_field = "api_key" if adapter == "langchain" else "api_token"
    llm = make(adapter, workers_ai_emulator, **{token_field: workers_ai_emulator.api_token})
    ask(llm)
    assert all(workers_ai_emulator.api_token not in request.body.decode() for request in workers_ai_emulator.requests)
    assert workers_ai_emulator.requests[-1].headers["authorization"] == f"Bearer {workers_ai_emulator.api_token}"

    offline = make(adapter, base_url="http://127.0.0.1:1/v1", **{token_field: SECRET})
    shown = [repr(offline), str(offline)]
    shown += [dumps(offline), offline.model_dump_json()] if adapter == "langchain" else [offline.to_json()]
    assert all(SECRET not in text for text in shown)
    wrong = make(adapter, workers_ai_emulator, **{token_field: SECRET})
    with pytest.raises(AuthenticationError) as caught:
        ask(wrong)
    assert SECRET not in f"{caught.value} {caught.value!r} {caught.value.body!r}"


def test_tracing_provider_is_cloudflare(workers_ai_emulator: Emulator) -> None:
    """tracing provider: "`cloudflare-workers-ai`" / "wrong (`openai`)"."""
    llm = make("langchain", workers_ai_emulator)
    assert llm._get_ls_params()["ls_provider"] == "cloudflare"
    assert llm.invoke("Hi").response_metadata["model_provider"] == "cloudflare"
    assert {chunk.response_metadata["model_provider"] for chunk in llm.stream("Hi")} == {"cloudflare"}


@ADAPTERS
def test_construction_builds_no_http_client(
    adapter: str, workers_ai_emulator: Emulator, monkeypatch: pytest.MonkeyPatch, fresh_pools: None
) -> None:
    """construction cost: "~400 ms (two httpx clients built eagerly)" / "SDK clients"."""
    built: list[str] = []
    for cls in (httpx.Client, httpx.AsyncClient):
        original = cls.__init__

        def counting(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> None:
            built.append(type(self).__name__)
            __original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", counting)
    llm = make(adapter, workers_ai_emulator, reasoning_effort="low")
    assert built == [] and workers_ai_emulator.requests == []
    ask(llm)
    assert built == ["Client"]  # the first call builds the one client it needs


@ADAPTERS
def test_cloudflare_env_vars_are_read_and_generic_base_url_is_ignored(
    adapter: str, workers_ai_env: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """env vars: "`CF_ACCOUNT_ID`, `CF_AI_API_TOKEN`, and the generic `BASE_URL` (any app's `BASE_URL` redirects
    it)"."""
    monkeypatch.setenv("BASE_URL", "http://127.0.0.1:9/not-workers-ai")
    assert ask(make(adapter), "Hi") == "You asked: Hi"  # CLOUDFLARE_AI_BASE_URL, _API_TOKEN, _ACCOUNT_ID only
    assert len(workers_ai_env.requests) == 1


@ADAPTERS
def test_cloudflare_host_comes_from_account_env_var_not_base_url(
    adapter: str, cloudflare: FakeCloudflare, monkeypatch: pytest.MonkeyPatch
) -> None:
    """env vars: "the generic `BASE_URL` (any app's `BASE_URL` redirects it)"; the `CF_*` aliases still work."""
    monkeypatch.setenv("BASE_URL", "http://127.0.0.1:9/not-workers-ai")
    monkeypatch.setenv("CF_ACCOUNT_ID", cloudflare.emulator.account_id)
    monkeypatch.setenv("CF_AI_API_TOKEN", cloudflare.emulator.api_token)
    assert ask(make(adapter, **cloudflare.clients()), "Hi") == "You asked: Hi"
    (request,) = cloudflare.requests
    assert str(request.url) == f"https://api.cloudflare.com{cloudflare.emulator.v1_path}/responses"


@ADAPTERS
def test_tool_calling_and_structured_output_work_on_gpt_oss(adapter: str, workers_ai_emulator: Emulator) -> None:
    """standard test suite: "integration runs on another model with tool and structured tests xfailed" / "none exists
    for LlamaIndex"."""
    llm = make(adapter, workers_ai_emulator)
    if isinstance(llm, ChatWorkersAI):
        assert llm.bind_tools([get_weather]).invoke(QUESTION).tool_calls[0]["args"] == {"city": "Paris"}
        trip = llm.with_structured_output(Trip).invoke("Plan 3 days in Kyoto")
    else:
        response = llm.chat_with_tools([WEATHER_TOOL], user_msg=QUESTION)
        assert llm.get_tool_calls_from_response(response)[0].tool_kwargs == {"city": "Paris"}
        trip = llm.structured_predict(Trip, PromptTemplate("Plan {days} days in Kyoto"), days="3")
    assert trip == Trip(city="Kyoto", days=3)
    assert {body["model"] for body in bodies(workers_ai_emulator)} == {"@cf/openai/gpt-oss-120b"}


def test_llamaindex_has_a_workers_ai_chat_model_that_routes_through_ai_gateway(workers_ai_emulator: Emulator) -> None:
    """Table footnote: "LlamaIndex has no Workers AI chat model at all; `CloudflareAIGateway` cannot route to
    Workers AI models"."""
    llm = make("llamaindex", workers_ai_emulator, model="@cf/openai/gpt-oss-20b", gateway_id="my-gateway")
    assert llm.metadata.is_chat_model and llm.metadata.is_function_calling_model
    assert [ask(llm, "Hi"), ask(llm, "Hi again")] == ["You asked: Hi", "You asked: Hi again"]
    assert {request.headers["cf-aig-gateway-id"] for request in workers_ai_emulator.requests} == {"my-gateway"}
    assert {body["model"] for body in bodies(workers_ai_emulator)} == {"@cf/openai/gpt-oss-20b"}


# -- The pitfalls ---------------------------------------------------------------------------------------------------


@ADAPTERS
def test_reasoning_is_replayed_as_content_without_server_ids(adapter: str, workers_ai_emulator: Emulator) -> None:
    """Pitfall: "replaying reasoning items with server ids against a stateless server: "Item 'rs_…' not found"
    (send content, no ids)"."""
    tool_conversation(make(adapter, workers_ai_emulator))
    for body in bodies(workers_ai_emulator)[1:]:
        assert all("id" not in item for item in body["input"]), body["input"]
        assert "rs_" not in json.dumps(body) and "fc_" not in json.dumps(body)
    reasoning = [item for item in bodies(workers_ai_emulator)[1]["input"] if item.get("type") == "reasoning"]
    assert reasoning and reasoning[0]["content"][0]["text"]


@ADAPTERS
@pytest.mark.parametrize("streamed", [False, True], ids=["invoked", "streamed"])
def test_function_call_never_replayed_without_its_reasoning_or_vice_versa(
    adapter: str, streamed: bool, workers_ai_emulator: Emulator
) -> None:
    """Pitfall: "a `function_call` replayed without the reasoning item that preceded it, or vice versa"."""
    tool_conversation(make(adapter, workers_ai_emulator), streamed=streamed)
    _, pending, answered = (item_types(body) for body in bodies(workers_ai_emulator))
    assert pending[pending.index("function_call") - 1] == "reasoning"  # the turn awaiting its results
    assert "reasoning" not in answered and "function_call" in answered  # completed: the call stays, its thought goes


@ADAPTERS
def test_never_sends_store_previous_response_id_nulls_or_empty_tools(
    adapter: str, workers_ai_emulator: Emulator
) -> None:
    """Pitfall: "`store`, `previous_response_id`, null fields or an empty `tools: []` rejected by compatible
    servers"."""
    stateful = {"store": True, "previous_response_id": "resp_1"}
    extra = "model_kwargs" if adapter == "langchain" else "additional_kwargs"
    with pytest.raises(ValueError, match="store"):
        make(adapter, workers_ai_emulator, **{extra: stateful})
    if adapter == "langchain":
        llm = make(adapter, workers_ai_emulator, temperature=None, max_tokens=None, model_kwargs={"user": None})
        llm.bind_tools([]).invoke("Hi")
        list(llm.bind_tools([]).stream("Hi"))
    else:
        llm = make(adapter, workers_ai_emulator, additional_kwargs={"user": None})
        llm.chat(user("Hi"), tools=[])
        list(llm.stream_chat(user("Hi"), tools=[], temperature=None))

    def nulls(value: Any) -> bool:
        if isinstance(value, dict):
            return any(item is None or nulls(item) for item in value.values())
        return isinstance(value, list) and any(item is None or nulls(item) for item in value)

    for body in bodies(workers_ai_emulator):
        assert not {"store", "previous_response_id", "tools", "tool_choice"} & set(body), body
        assert not nulls(body), body


@ADAPTERS
def test_unknown_stream_event_types_are_ignored(adapter: str, workers_ai_emulator: Emulator) -> None:
    """Pitfall: "unknown stream event types aborting the stream instead of being ignored"."""
    reply = {
        "id": "resp_1",
        "object": "response",
        "model": "@cf/openai/gpt-oss-120b",
        "status": "completed",
        "output": [
            {"type": "reasoning", "id": "rs_1", "summary": [], "content": [{"type": "reasoning_text", "text": "Hm."}]},
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "Hello there", "annotations": []}],
            },
        ],
        "usage": {
            "input_tokens": 5,
            "output_tokens": 4,
            "total_tokens": 9,
            "output_tokens_details": {"reasoning_tokens": 1},
        },
    }
    started = {**reply, "status": "in_progress", "output": [], "usage": None}
    body = b"".join(
        [
            b": keep-alive comment\n\n",
            encode_events(
                [
                    {"type": "response.created", "response": started},
                    {"type": "response.vendor.heartbeat", "note": "from the future"},
                    {
                        "type": "response.output_item.added",
                        "output_index": 0,
                        "item": {**reply["output"][0], "content": []},
                    },
                    {"type": "response.reasoning_text.delta", "output_index": 0, "delta": "Hm."},
                    {
                        "type": "response.output_item.added",
                        "output_index": 1,
                        "item": {**reply["output"][1], "content": []},
                    },
                    {"type": "response.output_text.delta", "output_index": 1, "delta": "Hello"},
                    {"type": "response.output_text.annotation.added", "output_index": 1, "annotation": {"type": "x"}},
                ]
            ),
            b'event: message\ndata: {"kind": "no type at all"}\n\n',
            encode_events(
                [
                    {"type": "response.output_text.delta", "output_index": 1, "delta": " there"},
                    {"type": "response.completed", "response": reply},
                ]
            ),
        ]
    )
    workers_ai_emulator.enqueue(CannedReply(body=body, content_type="text/event-stream"))
    chunks = list(stream(make(adapter, workers_ai_emulator), "Hi"))
    text = "".join(c.text if adapter == "langchain" else c.delta for c in chunks)
    assert (text, reasoning_of(chunks), usage_chunks(chunks)) == ("Hello there", "Hm.", [len(chunks) - 1])


@ADAPTERS
def test_async_client_works_from_two_successive_event_loops(adapter: str, workers_ai_emulator: Emulator) -> None:
    """Pitfall: "a process-wide cached `httpx.AsyncClient` failing when used from a second event loop"."""
    llm = make(adapter, workers_ai_emulator)

    async def call(text: str) -> str:
        if isinstance(llm, ChatWorkersAI):
            return str((await llm.ainvoke(text)).content)
        return (await llm.achat(user(text))).message.content or ""

    assert asyncio.run(call("one")) == "You asked: one"
    assert asyncio.run(call("two")) == "You asked: two"


@ADAPTERS
def test_stream_broken_midway_is_never_retried(adapter: str, workers_ai_emulator: Emulator) -> None:
    """Pitfall: "the SDK's default retries silently re-sending a request whose stream had already started"."""
    workers_ai_emulator.configure(stream_mode="sse")
    workers_ai_emulator.enqueue(Fault.disconnect_midway(after_events=6))
    received: list[Any] = []
    with pytest.raises(WorkersAIError):
        for chunk in stream(make(adapter, workers_ai_emulator, max_retries=2), "Hi"):
            received.append(chunk)
    assert received and len(workers_ai_emulator.requests) == 1
    assert not usage_chunks(received)  # it raised instead of ending quietly as if complete
