"""Section 3: a 100k-token conversation through each adapter, against the cost of the JSON alone.

An agent's long history, built deterministically: a system prompt, 63 finished rounds (question, tool call, tool
result, answer with its reasoning) and a last turn awaiting the results of two tool calls, whose reasoning must be
sent back: 257 messages, a request of about 485 KB. The reply is long too (about 157 KB: reasoning and answer).
`ChatWorkersAI.invoke` and `WorkersAI.chat` build the request from framework messages and map the reply back,
through `httpx.MockTransport`; the floor is `json.dumps` of the same request body plus `json.loads` of the reply bytes,
the least any client must do with these payloads using the standard library. cfai uses orjson where it is installed
(cfai/wire/json_codec.py), so the same JSON work done by orjson is timed too. Each adapter's message conversion is
also timed alone.

Targets (issue 12): `ChatWorkersAI` at most 1.5 x the floor, `WorkersAI` at most 1.2 x.
"""

from __future__ import annotations

import json
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from benchmarks.canned import API_TOKEN, MOCK_ROOT, MOCK_V1_URL, MODEL, dump, load_responses_reply
from benchmarks.contenders import Endpoint, Unavailable, canned_llamaindex_llm, chat_workers_ai, workers_ai
from benchmarks.mock_transport import CannedServer
from benchmarks.report import TIMES, Row, Section, ratio, spread
from benchmarks.timing import Samples, interleave, milliseconds, round_ratios

FLOOR = "json.dumps(request) + json.loads(reply)"
# cfai writes and reads the wire's JSON with orjson where it is installed (cfai/wire/json_codec.py): the same work
# done by orjson shows what the adapters add beyond the JSON itself.
ORJSON_FLOOR = "orjson.dumps(request) + orjson.loads(reply)"
LANGCHAIN = "ChatWorkersAI.invoke"
LLAMAINDEX = "WorkersAI.chat"
LANGCHAIN_CONVERSION = "langchain_cfai.convert.to_responses_input alone"
LLAMAINDEX_CONVERSION = "llamaindex_cfai.convert.to_input_items alone"
LANGCHAIN_ALONE = "LangChain alone: FakeListChatModel.invoke of the same messages"
LLAMAINDEX_ALONE = "LlamaIndex alone: a canned LLM's chat of the same messages"
BOUNDS = {LANGCHAIN: 1.5, LLAMAINDEX: 1.2}
# What each framework itself does with the conversation, answering without I/O: work no adapter can skip, which the
# JSON floor leaves out.
FRAMEWORK_ALONE = {LANGCHAIN: LANGCHAIN_ALONE, LLAMAINDEX: LLAMAINDEX_ALONE}

FINISHED_ROUNDS = 63
_WORDS = (
    "the",
    "report",
    "shows",
    "revenue",
    "grew",
    "in",
    "every",
    "region",
    "while",
    "costs",
    "fell",
    "slightly",
    "and",
    "margins",
    "improved",
    "for",
    "third",
    "quarter",
    "running",
    "customers",
    "asked",
    "about",
    "pricing",
)


def _text(generator: random.Random, words: int) -> str:
    return " ".join(generator.choice(_WORDS) for _ in range(words)).capitalize() + "."


@dataclass(frozen=True)
class Turn:
    """One round of the conversation, in neutral form; `answer` is None for the turn still awaiting tool results."""

    question: str
    reasoning: str
    calls: tuple[tuple[str, str, dict[str, Any]], ...]  # (call id, tool name, arguments)
    results: tuple[str, ...]
    answer: str | None


@dataclass(frozen=True)
class Conversation:
    system: str
    turns: tuple[Turn, ...]

    @property
    def messages(self) -> int:
        return 1 + sum(2 + len(turn.calls) + (turn.answer is not None) for turn in self.turns)


def conversation() -> Conversation:
    generator = random.Random(12)
    turns = []
    for index in range(FINISHED_ROUNDS + 1):
        pending = index == FINISHED_ROUNDS
        calls = tuple(
            (f"call_{index}_{number}", "search_documents", {"query": _text(generator, 6), "page": number})
            for number in range(2 if pending else 1)
        )
        turns.append(
            Turn(
                question=_text(generator, 215),
                reasoning=_text(generator, 50),
                calls=calls,
                results=tuple(_text(generator, 570) for _ in calls),
                answer=None if pending else _text(generator, 320),
            )
        )
    return Conversation(_text(generator, 300), tuple(turns))


def request_body(chat: Conversation) -> dict[str, Any]:
    """The Responses request the conversation should become: reasoning only for the pending turn."""
    items: list[dict[str, Any]] = []
    for turn in chat.turns:
        items.append({"role": "user", "content": turn.question})
        if turn.answer is None:
            items.append(
                {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": turn.reasoning}]}
            )
        items += [
            {"type": "function_call", "call_id": call_id, "name": name, "arguments": _compact(arguments)}
            for call_id, name, arguments in turn.calls
        ]
        items += [
            {"type": "function_call_output", "call_id": call[0], "output": result}
            for call, result in zip(turn.calls, turn.results, strict=True)
        ]
        if turn.answer is not None:
            items.append(
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": turn.answer}]}
            )
    return {"model": MODEL, "instructions": chat.system, "input": items}


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def long_reply() -> dict[str, Any]:
    """A 157 KB reply in the shape of the fixture: a long chain of thought and a long answer."""
    generator = random.Random(21)
    reply = load_responses_reply()
    reply["output"][0]["content"][0]["text"] = _text(generator, 4_200)
    reply["output"][1]["content"][0]["text"] = _text(generator, 19_900)
    return reply


def langchain_messages(chat: Conversation) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

    messages: list[Any] = [SystemMessage(chat.system)]
    for turn in chat.turns:
        messages.append(HumanMessage(turn.question))
        calls = [
            {"name": name, "args": arguments, "id": call_id, "type": "tool_call"}
            for call_id, name, arguments in turn.calls
        ]
        messages.append(AIMessage("", tool_calls=calls, additional_kwargs={"reasoning_content": turn.reasoning}))
        messages += [
            ToolMessage(result, tool_call_id=call[0]) for call, result in zip(turn.calls, turn.results, strict=True)
        ]
        if turn.answer is not None:
            messages.append(AIMessage(turn.answer, additional_kwargs={"reasoning_content": turn.reasoning}))
    return messages


def llamaindex_messages(chat: Conversation) -> list[Any]:
    from llama_index.core.base.llms.types import ChatMessage, TextBlock, ThinkingBlock, ToolCallBlock

    messages = [ChatMessage(role="system", content=chat.system)]
    for turn in chat.turns:
        messages.append(ChatMessage(role="user", content=turn.question))
        blocks: list[Any] = [ThinkingBlock(content=turn.reasoning)]
        blocks += [
            ToolCallBlock(tool_call_id=call_id, tool_name=name, tool_kwargs=arguments)
            for call_id, name, arguments in turn.calls
        ]
        messages.append(ChatMessage(role="assistant", blocks=blocks))
        messages += [
            ChatMessage(role="tool", content=result, additional_kwargs={"tool_call_id": call[0]})
            for call, result in zip(turn.calls, turn.results, strict=True)
        ]
        if turn.answer is not None:
            messages.append(
                ChatMessage(
                    role="assistant", blocks=[ThinkingBlock(content=turn.reasoning), TextBlock(text=turn.answer)]
                )
            )
    return messages


class Capture:
    """A canned transport that also keeps the last request body it received."""

    def __init__(self, reply: bytes) -> None:
        self._server = CannedServer(reply, b"{}", ())
        self.body: bytes = b""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.body = request.content
        return self._server(request)


def _endpoint(handler: Callable[[httpx.Request], httpx.Response]) -> Endpoint:
    return Endpoint(MOCK_V1_URL, MOCK_ROOT, API_TOKEN, transport=httpx.MockTransport(handler))


@dataclass(frozen=True)
class Workload:
    chat: Conversation
    body: dict[str, Any]
    reply: bytes


def _floor(workload: Workload) -> Callable[[], object]:
    body, reply = workload.body, workload.reply

    def run() -> object:
        _compact(body).encode()
        return json.loads(reply)

    return run


def _orjson_floor(workload: Workload) -> Callable[[], object]:
    import orjson

    body, reply = workload.body, workload.reply

    def run() -> object:
        orjson.dumps(body)
        return orjson.loads(reply)

    return run


def _adapter(name: str, workload: Workload) -> tuple[Callable[[], object], str]:
    """The timed call of one adapter, and how its request compares with the floor's body."""
    capture = Capture(workload.reply)
    endpoints = (_endpoint(capture), _endpoint(CannedServer(workload.reply, b"{}", ())))
    if name == LANGCHAIN:
        messages = langchain_messages(workload.chat)
        checked, timed = (chat_workers_ai(endpoint) for endpoint in endpoints)
        call: Callable[[Any], object] = lambda model: model.invoke(messages)  # noqa: E731
    else:
        messages = llamaindex_messages(workload.chat)
        checked, timed = (workers_ai(endpoint) for endpoint in endpoints)
        call = lambda llm: llm.chat(messages)  # noqa: E731
    call(checked)
    return (lambda: call(timed)), _compare(json.loads(capture.body), workload.body)


def _compare(sent: dict[str, Any], expected: dict[str, Any]) -> str:
    size = len(dump(sent))
    same = "the same items" if sent.get("input") == expected["input"] else "DIFFERENT items"
    return f"sent {len(sent.get('input', [])):,} input items ({same} as the floor's), {size / 1e3:,.0f} KB"


def _conversion(name: str, workload: Workload) -> Callable[[], object]:
    if name == LANGCHAIN_CONVERSION:
        from langchain_cfai.convert import to_responses_input

        lc_messages = langchain_messages(workload.chat)
        return lambda: to_responses_input(lc_messages)
    from llamaindex_cfai.convert import to_input_items

    li_messages = llamaindex_messages(workload.chat)
    return lambda: to_input_items(li_messages)


def _framework_alone(name: str, workload: Workload) -> Callable[[], object]:
    if name == LANGCHAIN_ALONE:
        from langchain_core.language_models import FakeListChatModel

        lc_messages = langchain_messages(workload.chat)
        fake = FakeListChatModel(responses=["The answer."])
        return lambda: fake.invoke(lc_messages)
    li_messages = llamaindex_messages(workload.chat)
    canned = canned_llamaindex_llm("The answer.")
    return lambda: canned.chat(li_messages)


def _contenders(workload: Workload) -> tuple[dict[str, Callable[[], object]], dict[str, str], dict[str, str]]:
    calls: dict[str, Callable[[], object]] = {FLOOR: _floor(workload)}
    checks: dict[str, str] = {}
    missing: dict[str, str] = {}
    try:
        calls[ORJSON_FLOOR] = _orjson_floor(workload)
    except ImportError as error:
        missing[ORJSON_FLOOR] = f"not installed: {error}"
    for name in (LANGCHAIN, LLAMAINDEX, LANGCHAIN_CONVERSION, LLAMAINDEX_CONVERSION, *FRAMEWORK_ALONE.values()):
        try:
            if name in BOUNDS:
                calls[name], checks[name] = _adapter(name, workload)
            else:
                alone = name in FRAMEWORK_ALONE.values()
                calls[name] = _framework_alone(name, workload) if alone else _conversion(name, workload)
                calls[name]()
        except Unavailable as error:
            missing[name] = str(error)
        except Exception as error:  # a half-written adapter must not stop the other rows
            missing[name] = f"{type(error).__name__}: {str(error)[:160]}"
    return calls, checks, missing


def _target_row(name: str, samples: dict[str, Samples], checks: dict[str, str], missing: dict[str, str]) -> Row:
    label = f"{name} ÷ ({FLOOR})"
    target = f"≤ {BOUNDS[name]}{TIMES}"
    if name not in samples:
        return Row(label, "n/a", missing.get(name, "not run"), target=target, passed=False)
    ratios = round_ratios(samples[name], [samples[FLOOR]])
    value = statistics.median(ratios)
    context = (
        f"{name} {milliseconds(samples[name].median)}, floor {milliseconds(samples[FLOOR].median)}; {checks[name]}"
    )
    return Row(label, ratio(value), context, spread(ratios), target, value <= BOUNDS[name])


def _orjson_floor_row(name: str, samples: dict[str, Samples]) -> Row | None:
    if name not in samples or ORJSON_FLOOR not in samples:
        return None
    ratios = round_ratios(samples[name], [samples[ORJSON_FLOOR]])
    context = f"orjson floor {milliseconds(samples[ORJSON_FLOOR].median)}"
    return Row(f"{name} ÷ ({ORJSON_FLOOR})", ratio(statistics.median(ratios)), context, spread(ratios))


def _with_framework_row(name: str, samples: dict[str, Samples]) -> Row | None:
    """The adapter against the JSON floor plus its framework's own handling of the same messages."""
    alone = FRAMEWORK_ALONE[name]
    if name not in samples or alone not in samples:
        return None
    ratios = round_ratios(samples[name], [samples[FLOOR], samples[alone]])
    context = f"floor + framework {milliseconds(samples[FLOOR].median + samples[alone].median)}"
    return Row(f"{name} ÷ ({FLOOR} + {alone.split(':')[0]})", ratio(statistics.median(ratios)), context, spread(ratios))


def run(*, rounds: int, batch_seconds: float = 0.1) -> Section:
    chat = conversation()
    body = request_body(chat)
    workload = Workload(chat, body, dump(long_reply()))
    calls, checks, missing = _contenders(workload)
    samples = interleave(calls, rounds=rounds, batch_seconds=batch_seconds, max_batch=50)
    section = Section(
        f"3. A long conversation: {chat.messages} messages, request {len(dump(body)) / 1e3:,.0f} KB, "
        f"reply {len(workload.reply) / 1e3:,.0f} KB (httpx.MockTransport)"
    )
    section.rows += [_target_row(name, samples, checks, missing) for name in BOUNDS]
    section.rows += [row for name in BOUNDS if (row := _with_framework_row(name, samples)) is not None]
    section.rows += [row for name in BOUNDS if (row := _orjson_floor_row(name, samples)) is not None]
    timed_alone = (LANGCHAIN_CONVERSION, LLAMAINDEX_CONVERSION, *FRAMEWORK_ALONE.values())
    for name in (FLOOR, ORJSON_FLOOR, LANGCHAIN, LLAMAINDEX, *timed_alone):
        if name in samples:
            section.add(
                Row(
                    f"{name} per call",
                    milliseconds(samples[name].median),
                    "",
                    spread(samples[name].per_call, milliseconds),
                )
            )
        else:
            section.missing(f"{name} per call", missing.get(name, "not run"))
    section.notes.append(
        f"- {rounds} rounds, order rotating, each a batch of calls per contender "
        f"(~{batch_seconds * 1e3:.0f} ms); medians (min to max) of "
        "rounds; ratios are medians of per-round ratios. The floor serialises the request the conversation should "
        "become (compact, Unicode kept) and parses the reply bytes; each adapter's request was checked against it."
    )
    section.notes.append(
        "- The framework rows answer the same messages without I/O (LangChain's FakeListChatModel; for LlamaIndex a "
        "chat behind LlamaIndex's own chat decorator, since MockLLM completes the whole prompt as text): what the "
        "framework itself spends on 257 messages, which the JSON floor does not include and no adapter can avoid."
    )
    section.notes.append(
        "- The floor is the standard library's JSON, as the targets define it. cfai writes and reads the wire's JSON "
        "with orjson where it is installed (the same bytes, cfai/wire/json_codec.py); the rows against orjson's own "
        "JSON work show what each adapter adds beyond it."
    )
    return section
