"""Every client the benchmark compares, built the way a user would configure it, pointed at one endpoint.

An endpoint is either the canned `httpx.MockTransport` (clients get httpx clients wrapping it) or the emulator on
loopback (clients build their own HTTP clients, so their default pools and connection reuse are what is measured).
A contender whose package is missing or not written yet is reported as unavailable with the reason, never skipped
silently.

How each alternative is reached:
- `ChatOpenAI` and `OpenAIResponses`: `http_client=` / `http_async_client=` (`async_http_client=`), retries off.
- `ChatCloudflareWorkersAI`: it declares `http_client` but ignores it and builds two httpx clients of its own unless
  its `client=` / `async_client=` fields are already set, so those fields carry the mock; it uses
  `endpoint_format="openai_compatible"` (`/ai/v1/chat/completions`), the route on which Cloudflare answers gpt-oss
  in a shape it parses and the only one that streams.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from benchmarks.canned import ACCOUNT_ID, MODEL, PROMPT, dump
from benchmarks.timing import AsyncCall, SyncCall

RAW_HTTPX = "raw httpx, prebuilt request"
FAKE_CHAT = "FakeListChatModel"
CANNED_CHAT = "LlamaIndex canned chat"
CORE = "cfai WorkersAIClient"
CHAT_WORKERS_AI = "ChatWorkersAI"
CHAT_OPENAI = "ChatOpenAI(use_responses_api=True)"
CHAT_CLOUDFLARE = "ChatCloudflareWorkersAI"
WORKERS_AI = "WorkersAI"
OPENAI_RESPONSES = "OpenAIResponses"

# Both halves of a floor in one call: each half timed alone runs with its code and data hot in the CPU caches,
# which a real call through a framework never has, so the sum of the two alone is the stricter floor.
RAW_THEN_FAKE_CHAT = "raw httpx, prebuilt request, then FakeListChatModel"
RAW_THEN_CANNED_CHAT = "raw httpx, prebuilt request, then LlamaIndex canned chat"

FLOORS = (RAW_HTTPX, FAKE_CHAT, CANNED_CHAT, CORE)
FLOORS_IN_ONE_CALL = (RAW_THEN_FAKE_CHAT, RAW_THEN_CANNED_CHAT)
OURS = (CHAT_WORKERS_AI, WORKERS_AI)
ALTERNATIVES = (CHAT_OPENAI, CHAT_CLOUDFLARE, OPENAI_RESPONSES)


class Unavailable(Exception):
    """The contender cannot be built here: its package is missing or it does not work yet."""


@dataclass(frozen=True)
class Endpoint:
    """Where contenders send requests. `transport` is set for the mock, None for a real loopback server."""

    v1_url: str
    root_url: str
    api_token: str
    account_id: str = ACCOUNT_ID
    transport: httpx.MockTransport | None = None

    def sync_client(self, **options: Any) -> httpx.Client | None:
        return None if self.transport is None else httpx.Client(transport=self.transport, **options)

    def async_client(self, **options: Any) -> httpx.AsyncClient | None:
        return None if self.transport is None else httpx.AsyncClient(transport=self.transport, **options)


@dataclass(frozen=True)
class Contender:
    name: str
    invoke: SyncCall
    ainvoke: AsyncCall
    client: Any = None


def _raw_httpx(endpoint: Endpoint) -> Contender:
    """The floor of the HTTP work: one request built before any timing, then only sent, read and parsed.

    Built by the client, as every request sent through an httpx client is: with the client's default headers
    (Accept, Accept-Encoding, Connection, User-Agent), which cost the client per response too (httpx copies a
    request's headers to extract cookies from each response).
    """
    headers = {"authorization": f"Bearer {endpoint.api_token}", "content-type": "application/json"}
    timeout = httpx.Timeout(60.0, connect=5.0)
    sync_client = endpoint.sync_client() or httpx.Client(timeout=timeout)
    async_client = endpoint.async_client() or httpx.AsyncClient(timeout=timeout)
    url, content = f"{endpoint.v1_url}/responses", dump({"model": MODEL, "input": PROMPT})
    request = sync_client.build_request("POST", url, content=content, headers=headers, timeout=timeout)
    async_request = async_client.build_request("POST", url, content=content, headers=headers, timeout=timeout)

    def invoke() -> object:
        response = sync_client.send(request)
        response.raise_for_status()
        return json.loads(response.content)

    async def ainvoke() -> object:
        response = await async_client.send(async_request)
        response.raise_for_status()
        return json.loads(response.content)

    return Contender(RAW_HTTPX, invoke, ainvoke)


def _fake_chat(endpoint: Endpoint) -> Contender:
    from langchain_core.language_models import FakeListChatModel

    from benchmarks.canned import expected_answer

    class NativeAsyncFakeListChatModel(FakeListChatModel):
        """FakeListChatModel's `ainvoke` hops to a thread pool (SimpleChatModel); a floor must not, so this one
        answers in the event loop, which makes the async floor stricter, never looser."""

        async def _agenerate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
            return self._generate(messages, stop=stop, **kwargs)

    model = NativeAsyncFakeListChatModel(responses=[expected_answer()])
    return Contender(FAKE_CHAT, lambda: model.invoke(PROMPT), lambda: model.ainvoke(PROMPT), model)


def canned_llamaindex_llm(answer: str) -> Any:
    """LlamaIndex's floor: an LLM whose chat answers at once, behind the chat decorator every LlamaIndex LLM's chat
    has (callbacks, instrumentation span and events).

    `MockLLM` itself answers chat by completing the whole prompt as text, through a second decorated call, which
    would count LlamaIndex's per-call work twice.
    """
    from llama_index.core.base.llms.types import ChatMessage, ChatResponse
    from llama_index.core.llms.callbacks import llm_chat_callback
    from llama_index.core.llms.mock import MockLLM

    def reply() -> ChatResponse:
        return ChatResponse(message=ChatMessage(role="assistant", content=answer))

    class CannedChat(MockLLM):
        @llm_chat_callback()
        def chat(self, messages: Any, **kwargs: Any) -> ChatResponse:
            return reply()

        @llm_chat_callback()
        async def achat(self, messages: Any, **kwargs: Any) -> ChatResponse:
            return reply()

    return CannedChat(max_tokens=None)


def _canned_chat(endpoint: Endpoint) -> Contender:
    from llama_index.core.llms import ChatMessage

    from benchmarks.canned import expected_answer

    llm = canned_llamaindex_llm(expected_answer())
    messages = [ChatMessage(role="user", content=PROMPT)]
    return Contender(CANNED_CHAT, lambda: llm.chat(messages), lambda: llm.achat(messages), llm)


def _core(endpoint: Endpoint) -> Contender:
    from cfai import AsyncWorkersAIClient, WorkersAIClient
    from cfai.wire import build_request

    sync_client = WorkersAIClient(
        http_client=endpoint.sync_client(), api_token=endpoint.api_token, base_url=endpoint.v1_url
    )
    async_client = AsyncWorkersAIClient(
        http_client=endpoint.async_client(), api_token=endpoint.api_token, base_url=endpoint.v1_url
    )

    def invoke() -> object:
        return sync_client.create(build_request(model=MODEL, input=PROMPT))

    async def ainvoke() -> object:
        return await async_client.create(build_request(model=MODEL, input=PROMPT))

    return Contender(CORE, invoke, ainvoke, sync_client)


def chat_workers_ai(endpoint: Endpoint, **options: Any) -> Any:
    try:
        from langchain_cfai import ChatWorkersAI
    except ImportError as error:
        raise Unavailable(f"langchain_cfai.ChatWorkersAI does not import: {error}") from error
    return ChatWorkersAI(
        model=MODEL,
        api_token=endpoint.api_token,
        base_url=endpoint.v1_url,
        http_client=endpoint.sync_client(),
        http_async_client=endpoint.async_client(),
        **options,
    )


def workers_ai(endpoint: Endpoint, **options: Any) -> Any:
    try:
        from llamaindex_cfai import WorkersAI
    except ImportError as error:
        raise Unavailable(f"llamaindex_cfai.WorkersAI does not import: {error}") from error
    return WorkersAI(
        model=MODEL,
        api_token=endpoint.api_token,
        base_url=endpoint.v1_url,
        http_client=endpoint.sync_client(),
        http_async_client=endpoint.async_client(),
        **options,
    )


def chat_cloudflare(endpoint: Endpoint, **options: Any) -> Any:
    try:
        from langchain_cloudflare import ChatCloudflareWorkersAI
    except ImportError as error:
        raise Unavailable(f"langchain-cloudflare is not installed: {error}") from error
    clients: dict[str, Any] = {}
    if endpoint.transport is not None:
        headers = {"Authorization": f"Bearer {endpoint.api_token}"}
        clients = {
            "client": endpoint.sync_client(base_url=endpoint.root_url, headers=headers),
            "async_client": endpoint.async_client(base_url=endpoint.root_url, headers=headers),
        }
    return ChatCloudflareWorkersAI(
        model=MODEL,
        account_id=endpoint.account_id,
        api_token=endpoint.api_token,
        base_url=endpoint.root_url,
        endpoint_format="openai_compatible",
        **clients,
        **options,
    )


def chat_openai(endpoint: Endpoint) -> Any:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as error:
        raise Unavailable(f"langchain-openai is not installed: {error}") from error
    return ChatOpenAI(
        model=MODEL,
        api_key=endpoint.api_token,
        base_url=endpoint.v1_url,
        use_responses_api=True,
        max_retries=0,
        http_client=endpoint.sync_client(),
        http_async_client=endpoint.async_client(),
    )


def openai_responses(endpoint: Endpoint) -> Any:
    try:
        from llama_index.llms.openai import OpenAIResponses
    except ImportError as error:
        raise Unavailable(f"llama-index-llms-openai is not installed: {error}") from error
    # Without context_window its `metadata` raises "Unknown model" for @cf/ names, and so does every call
    # (docs/alternatives.md).
    return OpenAIResponses(
        model=MODEL,
        api_key=endpoint.api_token,
        api_base=endpoint.v1_url,
        max_retries=0,
        context_window=128_000,
        http_client=endpoint.sync_client(),
        async_http_client=endpoint.async_client(),
    )


def _langchain(name: str, factory: Callable[[Endpoint], Any]) -> Callable[[Endpoint], Contender]:
    def build(endpoint: Endpoint) -> Contender:
        model = factory(endpoint)
        return Contender(name, lambda: model.invoke(PROMPT), lambda: model.ainvoke(PROMPT), model)

    return build


def _llamaindex(name: str, factory: Callable[[Endpoint], Any]) -> Callable[[Endpoint], Contender]:
    def build(endpoint: Endpoint) -> Contender:
        from llama_index.core.llms import ChatMessage

        llm = factory(endpoint)
        messages = [ChatMessage(role="user", content=PROMPT)]
        return Contender(name, lambda: llm.chat(messages), lambda: llm.achat(messages), llm)

    return build


def _in_one_call(name: str, first: str, second: str) -> Callable[[Endpoint], Contender]:
    def build(endpoint: Endpoint) -> Contender:
        one, other = BUILDERS[first](endpoint), BUILDERS[second](endpoint)

        def invoke() -> object:
            one.invoke()
            return other.invoke()

        async def ainvoke() -> object:
            await one.ainvoke()
            return await other.ainvoke()

        return Contender(name, invoke, ainvoke)

    return build


BUILDERS: dict[str, Callable[[Endpoint], Contender]] = {
    RAW_HTTPX: _raw_httpx,
    FAKE_CHAT: _fake_chat,
    CANNED_CHAT: _canned_chat,
    CORE: _core,
    CHAT_WORKERS_AI: _langchain(CHAT_WORKERS_AI, chat_workers_ai),
    CHAT_OPENAI: _langchain(CHAT_OPENAI, chat_openai),
    CHAT_CLOUDFLARE: _langchain(CHAT_CLOUDFLARE, chat_cloudflare),
    WORKERS_AI: _llamaindex(WORKERS_AI, workers_ai),
    OPENAI_RESPONSES: _llamaindex(OPENAI_RESPONSES, openai_responses),
    RAW_THEN_FAKE_CHAT: _in_one_call(RAW_THEN_FAKE_CHAT, RAW_HTTPX, FAKE_CHAT),
    RAW_THEN_CANNED_CHAT: _in_one_call(RAW_THEN_CANNED_CHAT, RAW_HTTPX, CANNED_CHAT),
}


def build(names: Iterable[str], endpoint: Endpoint) -> tuple[dict[str, Contender], dict[str, str]]:
    """The contenders that could be built, and for the others why not."""
    built: dict[str, Contender] = {}
    missing: dict[str, str] = {}
    for name in names:
        try:
            built[name] = BUILDERS[name](endpoint)
        except Unavailable as error:
            missing[name] = str(error)
        except Exception as error:  # a half-written adapter must not stop the other rows
            missing[name] = f"construction failed: {type(error).__name__}: {error}"
    return built, missing
