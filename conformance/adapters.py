"""Driving both adapters the way their users do, and reducing what they return to one neutral `Turn`.

`LangChainDriver` uses `ChatWorkersAI` (`invoke`, `stream`, `ainvoke`, `astream`, `bind_tools`); `LlamaIndexDriver`
uses `WorkersAI` (`chat`, `stream_chat`, `achat`, `astream_chat` and their `*_with_tools` forms). Both are pointed
at a server's `/v1` root with the harness's recording httpx clients, no retries, and a bounded timeout. A streamed
`Turn` keeps what the stream showed as it went (the deltas joined) apart from what its final object says, so that
the scenarios can compare the two.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any, Protocol

import httpx
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool as langchain_tool
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole, ThinkingBlock
from llama_index.core.tools import FunctionTool

from cfai.config import StreamMode
from conformance.processes import Target
from langchain_cfai import ChatWorkersAI
from llamaindex_cfai import WorkersAI

ADAPTERS = ("langchain", "llamaindex")


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny, 21 °C in {city}"


@dataclass(frozen=True)
class Call:
    name: str
    arguments: Any  # as the adapter gave them: a dict when it parsed the JSON, else a string
    call_id: str


@dataclass(frozen=True)
class Turn:
    """One reply as the harness judges it. For an invoke, the streamed and final views are the same."""

    text: str  # the answer as shown: a streamed reply's text deltas joined
    reasoning: str  # the reasoning as shown: a streamed reply's reasoning deltas joined
    final_text: str  # the answer on the final object (merged chunks, or the last chunk's message)
    final_reasoning: str
    calls: tuple[Call, ...]
    usage_count: int  # how many messages or chunks carried token usage
    chunk_count: int  # 0 for an invoke
    message: Any  # the framework's message, to send back in the next turn


class Driver(Protocol):
    name: str
    llm: Any  # the adapter's model, whose settings a scenario may change

    def question(self, text: str) -> list[Any]: ...
    def with_result(self, history: Sequence[Any], turn: Turn, result: str) -> list[Any]: ...
    def invoke(self, history: Sequence[Any], *, tools: bool) -> Turn: ...
    def stream(self, history: Sequence[Any], *, tools: bool) -> Turn: ...
    async def ainvoke(self, history: Sequence[Any], *, tools: bool) -> Turn: ...
    async def astream(self, history: Sequence[Any], *, tools: bool) -> Turn: ...


def _settings(target: Target, mode: StreamMode, clients: tuple[httpx.Client, httpx.AsyncClient]) -> dict[str, Any]:
    """The constructor arguments both adapters share: the server, the mode, no retries, a bounded timeout."""
    return {
        "base_url": target.base_url,
        "api_token": target.api_token,
        "stream_mode": mode,
        "max_retries": 0,
        "timeout": 30.0,
        "http_client": clients[0],
        "http_async_client": clients[1],
    }


class LangChainDriver:
    name = "langchain"

    def __init__(self, target: Target, mode: StreamMode, clients: tuple[httpx.Client, httpx.AsyncClient]) -> None:
        self.llm = ChatWorkersAI(**_settings(target, mode, clients))
        self.llm_with_tools = self.llm.bind_tools([langchain_tool(get_weather)])

    def _model(self, tools: bool) -> Any:
        return self.llm_with_tools if tools else self.llm

    def question(self, text: str) -> list[Any]:
        return [HumanMessage(text)]

    def with_result(self, history: Sequence[Any], turn: Turn, result: str) -> list[Any]:
        return [*history, turn.message, ToolMessage(content=result, tool_call_id=turn.calls[0].call_id)]

    def invoke(self, history: Sequence[Any], *, tools: bool) -> Turn:
        return _langchain_turn(self._model(tools).invoke(list(history)))

    async def ainvoke(self, history: Sequence[Any], *, tools: bool) -> Turn:
        return _langchain_turn(await self._model(tools).ainvoke(list(history)))

    def stream(self, history: Sequence[Any], *, tools: bool) -> Turn:
        return _langchain_stream_turn(list(self._model(tools).stream(list(history))))

    async def astream(self, history: Sequence[Any], *, tools: bool) -> Turn:
        return _langchain_stream_turn([chunk async for chunk in self._model(tools).astream(list(history))])


def _langchain_calls(message: AIMessage) -> tuple[Call, ...]:
    return tuple(Call(call["name"], call["args"], call.get("id") or "") for call in message.tool_calls)


def _reasoning_of(message: BaseMessage) -> str:
    return str(message.additional_kwargs.get("reasoning_content") or "")


def _langchain_turn(message: AIMessage) -> Turn:
    return Turn(
        text=message.text,
        reasoning=_reasoning_of(message),
        final_text=message.text,
        final_reasoning=_reasoning_of(message),
        calls=_langchain_calls(message),
        usage_count=1 if message.usage_metadata else 0,
        chunk_count=0,
        message=message,
    )


def _langchain_stream_turn(chunks: list[AIMessageChunk]) -> Turn:
    merged: AIMessageChunk = reduce(operator.add, chunks) if chunks else AIMessageChunk(content="")
    return Turn(
        text="".join(chunk.text for chunk in chunks),
        reasoning="".join(_reasoning_of(chunk) for chunk in chunks),
        final_text=merged.text,
        final_reasoning=_reasoning_of(merged),
        calls=_langchain_calls(merged),
        usage_count=sum(1 for chunk in chunks if chunk.usage_metadata),
        chunk_count=len(chunks),
        message=merged,
    )


class LlamaIndexDriver:
    name = "llamaindex"

    def __init__(self, target: Target, mode: StreamMode, clients: tuple[httpx.Client, httpx.AsyncClient]) -> None:
        self.llm = WorkersAI(**_settings(target, mode, clients))
        self.tools = [FunctionTool.from_defaults(fn=get_weather)]

    def question(self, text: str) -> list[Any]:
        return [ChatMessage(role=MessageRole.USER, content=text)]

    def with_result(self, history: Sequence[Any], turn: Turn, result: str) -> list[Any]:
        call = turn.calls[0]
        answer = ChatMessage(
            role=MessageRole.TOOL, content=result, additional_kwargs={"tool_call_id": call.call_id, "name": call.name}
        )
        return [*history, turn.message, answer]

    def invoke(self, history: Sequence[Any], *, tools: bool) -> Turn:
        if tools:
            return self._turn(self.llm.chat_with_tools(self.tools, chat_history=list(history)))
        return self._turn(self.llm.chat(history))

    async def ainvoke(self, history: Sequence[Any], *, tools: bool) -> Turn:
        if tools:
            return self._turn(await self.llm.achat_with_tools(self.tools, chat_history=list(history)))
        return self._turn(await self.llm.achat(history))

    def stream(self, history: Sequence[Any], *, tools: bool) -> Turn:
        if tools:
            return self._stream_turn(list(self.llm.stream_chat_with_tools(self.tools, chat_history=list(history))))
        return self._stream_turn(list(self.llm.stream_chat(history)))

    async def astream(self, history: Sequence[Any], *, tools: bool) -> Turn:
        if tools:
            chunks = await self.llm.astream_chat_with_tools(self.tools, chat_history=list(history))
        else:
            chunks = await self.llm.astream_chat(history)
        return self._stream_turn([chunk async for chunk in chunks])

    def _calls(self, response: ChatResponse) -> tuple[Call, ...]:
        selections = self.llm.get_tool_calls_from_response(response, error_on_no_tool_call=False)
        return tuple(Call(item.tool_name, item.tool_kwargs, item.tool_id) for item in selections)

    def _turn(self, response: ChatResponse) -> Turn:
        return Turn(
            text=response.message.content or "",
            reasoning=_thinking_of(response.message),
            final_text=response.message.content or "",
            final_reasoning=_thinking_of(response.message),
            calls=self._calls(response),
            usage_count=1 if "total_tokens" in response.additional_kwargs else 0,
            chunk_count=0,
            message=response.message,
        )

    def _stream_turn(self, chunks: list[ChatResponse]) -> Turn:
        last = chunks[-1] if chunks else ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=""))
        return Turn(
            text="".join(chunk.delta or "" for chunk in chunks),
            reasoning="".join(str(chunk.additional_kwargs.get("thinking_delta") or "") for chunk in chunks),
            final_text=last.message.content or "",
            final_reasoning=_thinking_of(last.message),
            calls=self._calls(last),
            usage_count=sum(1 for chunk in chunks if "total_tokens" in chunk.additional_kwargs),
            chunk_count=len(chunks),
            message=last.message,
        )


def _thinking_of(message: ChatMessage) -> str:
    return "".join(block.content or "" for block in message.blocks if isinstance(block, ThinkingBlock))


def make_driver(
    adapter: str, target: Target, mode: StreamMode, clients: tuple[httpx.Client, httpx.AsyncClient]
) -> Driver:
    drivers: dict[str, type[LangChainDriver] | type[LlamaIndexDriver]] = {
        LangChainDriver.name: LangChainDriver,
        LlamaIndexDriver.name: LlamaIndexDriver,
    }
    return drivers[adapter](target, mode, clients)
