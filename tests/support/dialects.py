"""One model reply, served in every wire dialect the clients meet.

`Canned` is a reply's content; the builders write it as a whole Responses object, as Responses SSE the way three
different servers stream it, and as a Chat Completions object or SSE stream. Tests serve the results through
`httpx.MockTransport` and check that every form folds to the same `Reply`.

Dialects of Responses SSE, each modelled on traffic captured from the real server (tests/fixtures/README.md):

- "openai": OpenAI's grammar (`output_item.added`, deltas, `.done` events, all tied by `item_id` and `output_index`).
- "gpt-oss-reference": OpenAI's reference gpt-oss server: delta events carry an `output_index` one lower than the
  `.done` events of the same item, and a function call arrives only as its `output_item.done`.
- "litellm": LiteLLM's Responses bridge (1.80.0): `data:` lines only, ending in `[DONE]`; reasoning streamed only as
  `response.reasoning_summary_text.delta`, every delta with an item id of its own; the message announced first
  under one id, its text streamed under another, closed under a third; reasoning items holding `output_text`
  parts; a tool call only in `response.completed`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Dialect = Literal["openai", "gpt-oss-reference", "litellm"]
DIALECTS: tuple[Dialect, ...] = ("openai", "gpt-oss-reference", "litellm")


@dataclass(frozen=True)
class Call:
    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Canned:
    """A reply's content, independent of how it travels."""

    reasoning: str = ""
    text: str = ""
    refusal: str = ""
    calls: tuple[Call, ...] = ()
    status: Literal["completed", "incomplete"] = "completed"
    incomplete_reason: str | None = None
    input_tokens: int = 21
    output_tokens: int = 13
    reasoning_tokens: int = 5
    id: str = "resp_canned0001"
    model: str = "@cf/openai/gpt-oss-120b"
    created: int = 1_790_000_000
    piece: int = 5  # characters per streamed delta
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def usage(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": self.output_tokens,
            "output_tokens_details": {"reasoning_tokens": self.reasoning_tokens},
            "total_tokens": self.input_tokens + self.output_tokens,
        }


def _pieces(text: str, size: int) -> list[str]:
    return [text[start : start + size] for start in range(0, len(text), size)]


# Whole Responses objects.


def output_items(canned: Canned, dialect: Dialect = "openai") -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if canned.reasoning:
        part_type = "output_text" if dialect == "litellm" else "reasoning_text"
        items.append(
            {
                "id": "rs_canned",
                "type": "reasoning",
                "summary": [],
                "content": [{"type": part_type, "text": canned.reasoning}],
            }
        )
    if canned.text or canned.refusal:
        content: list[dict[str, Any]] = []
        if canned.text:
            content.append({"type": "output_text", "text": canned.text, "annotations": []})
        if canned.refusal:
            content.append({"type": "refusal", "refusal": canned.refusal})
        items.append(
            {"id": "msg_canned", "type": "message", "role": "assistant", "status": "completed", "content": content}
        )
    items.extend(
        {
            "id": f"fc_{call.call_id}",
            "type": "function_call",
            "call_id": call.call_id,
            "name": call.name,
            "arguments": call.arguments,
            "status": "completed",
        }
        for call in canned.calls
    )
    return items


def responses_json(canned: Canned, dialect: Dialect = "openai") -> dict[str, Any]:
    """The non-streamed Responses object (the reasoning part type follows the server's dialect)."""
    return {
        "id": canned.id,
        "object": "response",
        "created_at": canned.created,
        "model": canned.model,
        "status": canned.status,
        "incomplete_details": {"reason": canned.incomplete_reason} if canned.incomplete_reason else None,
        "output": output_items(canned, dialect),
        "usage": canned.usage,
        **canned.extra,
    }


# Responses SSE: event dicts first (tests may reorder or cut them), then their bytes.


def encode_events(events: Iterable[dict[str, Any]], *, event_lines: bool = True) -> bytes:
    """SSE bytes for event dicts, numbered by `sequence_number`; without `event:` lines (and ending with `[DONE]`)
    as LiteLLM frames them."""
    lines = []
    for number, event in enumerate(events):
        data = json.dumps({**event, "sequence_number": number}, ensure_ascii=False)
        lines.append(f"event: {event['type']}\ndata: {data}\n\n" if event_lines else f"data: {data}\n\n")
    return "".join(lines).encode() + (b"" if event_lines else b"data: [DONE]\n\n")


def responses_events(final: dict[str, Any], dialect: Dialect = "openai", piece: int = 5) -> list[dict[str, Any]]:
    """The events a server of `dialect` streams for the Responses object `final` ("litellm" aside: see below)."""
    head = {**final, "status": "in_progress", "output": [], "usage": None}
    events = [{"type": "response.created", "response": head}, {"type": "response.in_progress", "response": head}]
    for position, item in enumerate(final["output"]):
        events.extend(item_events(position, item, dialect, piece))
    terminal = "response.incomplete" if final.get("status") == "incomplete" else "response.completed"
    events.append({"type": terminal, "response": final})
    return events


def responses_sse(reply: Canned | dict[str, Any], dialect: Dialect = "openai", piece: int | None = None) -> bytes:
    """The Responses SSE stream the given kind of server sends for a reply (a Canned, or a Responses object)."""
    canned = reply if isinstance(reply, Canned) else None
    size = piece or (canned.piece if canned else 5)
    if dialect == "litellm":
        return _litellm_sse(canned or Canned(), final=None if canned else dict(reply))  # type: ignore[arg-type]
    final = responses_json(canned, dialect) if canned else dict(reply)  # type: ignore[arg-type]
    return encode_events(responses_events(final, dialect, size))


def item_events(
    position: int, item: dict[str, Any], dialect: Dialect = "openai", piece: int = 5
) -> list[dict[str, Any]]:
    """The events of one output item, in OpenAI's grammar or the reference gpt-oss server's."""
    kind = item["type"]
    # The reference server numbers its delta events one lower than the `.done` events of the same item.
    early = position - 1 if dialect == "gpt-oss-reference" else position
    if kind == "function_call":
        done = {"type": "response.output_item.done", "output_index": position, "item": item}
        if dialect != "openai":
            return [done]  # the reference server sends a call only as its `.done`
        at = {"item_id": item.get("id"), "output_index": position}
        return [
            {"type": "response.output_item.added", "output_index": position, "item": {**item, "arguments": ""}},
            *(
                {"type": "response.function_call_arguments.delta", **at, "delta": delta}
                for delta in _pieces(item["arguments"], piece)
            ),
            {"type": "response.function_call_arguments.done", **at, "arguments": item["arguments"]},
            done,
        ]
    events: list[dict[str, Any]] = [
        {"type": "response.output_item.added", "output_index": early, "item": {**item, "content": []}}
    ]
    for content_index, part in enumerate(item["content"]):
        where = {"item_id": item.get("id"), "output_index": early, "content_index": content_index}
        field_name = "refusal" if part["type"] == "refusal" else "text"
        delta_kind = {
            "reasoning_text": "response.reasoning_text.delta",
            "output_text": "response.output_text.delta",
            "refusal": "response.refusal.delta",
        }[part["type"]]
        done = {**where, "output_index": position}
        events += [
            {"type": "response.content_part.added", **where, "part": {**part, field_name: ""}},
            *({"type": delta_kind, **where, "delta": delta} for delta in _pieces(part[field_name], piece)),
            {"type": delta_kind.replace(".delta", ".done"), **done, field_name: part[field_name]},
            {"type": "response.content_part.done", **done, "part": part},
        ]
    events.append({"type": "response.output_item.done", "output_index": position, "item": item})
    return events


def _litellm_sse(canned: Canned, final: dict[str, Any] | None = None) -> bytes:
    final = final or responses_json(canned, "litellm")
    reasoning = "".join(
        part["text"] for item in final["output"] if item["type"] == "reasoning" for part in item["content"]
    )
    text = "".join(
        part.get("text", "") for item in final["output"] if item["type"] == "message" for part in item["content"]
    )
    final = {**final, "output": [dict(item) for item in final["output"]]}
    for item in final["output"]:
        if item["type"] == "reasoning":
            item["id"] = "rs_final"  # none of the ids the deltas carried
        elif item["type"] == "message":
            item["id"] = "id-1795747878114"  # the id the text deltas carried
    head = {**final, "status": "in_progress", "output": [], "usage": None}
    where = {"output_index": 0, "content_index": 0}
    announced = {"id": "msg_announced", "type": "message", "status": "in_progress", "role": "assistant", "content": []}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": head},
        {"type": "response.in_progress", "response": head},
        {"type": "response.output_item.added", "output_index": 0, "item": announced},
        {
            "type": "response.content_part.added",
            "item_id": "msg_part",
            **where,
            "part": {"type": "output_text", "text": "", "annotations": []},
        },
    ]
    # Every reasoning delta with an id of its own, derived from its text as LiteLLM does.
    events += [
        {
            "type": "response.reasoning_summary_text.delta",
            "item_id": f"rs_{abs(hash(delta))}",
            "output_index": 0,
            "delta": delta,
        }
        for delta in _pieces(reasoning, canned.piece)
    ]
    events += [
        {"type": "response.output_text.delta", "item_id": "id-1795747878114", **where, "delta": delta}
        for delta in _pieces(text, canned.piece)
    ]
    closed = {
        "id": "msg_item_done",
        "status": "completed",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }
    events += [
        {"type": "response.output_text.done", "item_id": "msg_text_done", **where, "text": text},
        {
            "type": "response.content_part.done",
            "item_id": "msg_part_done",
            **where,
            "part": {"type": "reasoning_text", "reasoning": reasoning},
        },
        {"type": "response.output_item.done", "output_index": 0, "item": closed},
        {"type": "response.completed", "response": final},
    ]
    return encode_events(events, event_lines=False)


# Chat Completions.


def _finish_reason(canned: Canned) -> str:
    if canned.status == "incomplete":
        return "content_filter" if canned.incomplete_reason == "content_filter" else "length"
    return "tool_calls" if canned.calls else "stop"


def _chat_usage(canned: Canned) -> dict[str, Any]:
    return {
        "prompt_tokens": canned.input_tokens,
        "completion_tokens": canned.output_tokens,
        "total_tokens": canned.input_tokens + canned.output_tokens,
        "completion_tokens_details": {"reasoning_tokens": canned.reasoning_tokens},
    }


def chat_json(canned: Canned) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": canned.text or None,
        "reasoning_content": canned.reasoning or None,
    }
    if canned.refusal:
        message["refusal"] = canned.refusal
    if canned.calls:
        message["tool_calls"] = [
            {"id": call.call_id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in canned.calls
        ]
    return {
        "id": canned.id,
        "object": "chat.completion",
        "created": canned.created,
        "model": canned.model,
        "choices": [{"index": 0, "message": message, "finish_reason": _finish_reason(canned)}],
        "usage": _chat_usage(canned),
    }


def chat_sse(canned: Canned) -> bytes:
    """The Chat Completions stream Cloudflare sends for gpt-oss: reasoning_content deltas, the finish twice."""
    head = {"id": canned.id, "object": "chat.completion.chunk", "created": canned.created, "model": canned.model}

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return f"data: {json.dumps({**head, 'choices': [choice], **extra})}\n\n".encode()

    chunks = [chunk({"role": "assistant", "content": ""})]
    chunks += [chunk({"reasoning_content": delta}) for delta in _pieces(canned.reasoning, canned.piece)]
    chunks += [chunk({"content": delta}) for delta in _pieces(canned.text, canned.piece)]
    chunks += [chunk({"refusal": delta}) for delta in _pieces(canned.refusal, canned.piece)]
    for position, call in enumerate(canned.calls):
        start = {
            "index": position,
            "id": call.call_id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        chunks.append(chunk({"tool_calls": [start]}))
        chunks += [
            chunk({"tool_calls": [{"index": position, "function": {"arguments": delta}}]})
            for delta in _pieces(call.arguments, canned.piece)
        ]
    final = chunk({}, _finish_reason(canned), usage=_chat_usage(canned))
    return b"".join([*chunks, final, final, b"data: [DONE]\n\n"])
