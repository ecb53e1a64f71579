"""SSE framings: OpenAI's Responses event stream and Cloudflare's Chat Completions chunk stream.

Responses SSE (served on `/responses` when `stream_mode="sse"`): `event:` + `data:` lines, a `sequence_number` on
every event, no `[DONE]`; events are derived from the finished Response so that stream and JSON agree exactly.
Chat Completions SSE reproduces Cloudflare's recorded gpt-oss framing (fixtures/cf-chat-completions-...sse):
data-only lines, a first delta with `content: ""`, `reasoning_content` deltas, tool-call deltas, an intermediate
chunk with the harmony `stop_reason`, the final chunk with `finish_reason` and usage sent twice, then `[DONE]`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from typing import Any

from cfai.emulator import chat_api
from cfai.emulator.envelope import json_bytes
from cfai.emulator.model import Turn
from cfai.emulator.tokens import token_pieces

Emit = Callable[..., None]


def responses_events(response: Mapping[str, Any]) -> list[bytes]:
    """The Responses SSE events, one encoded event per element, that build up `response`."""
    events: list[bytes] = []
    sequence = itertools.count()

    def emit(kind: str, **fields: Any) -> None:
        data = {"type": kind, **fields, "sequence_number": next(sequence)}
        events.append(b"event: " + kind.encode() + b"\ndata: " + json_bytes(data) + b"\n\n")

    opening = {**response, "status": "in_progress", "output": [], "usage": None, "incomplete_details": None}
    emit("response.created", response=opening)
    emit("response.in_progress", response=opening)
    for index, item in enumerate(response["output"]):
        _ITEM_EVENTS[item["type"]](emit, index, item)
    emit("response.completed" if response["status"] == "completed" else "response.incomplete", response=response)
    return events


def _reasoning_events(emit: Emit, index: int, item: Mapping[str, Any]) -> None:
    text = item["content"][0]["text"]
    where = {"item_id": item["id"], "output_index": index, "content_index": 0}
    emit("response.output_item.added", output_index=index, item={**item, "content": []})
    emit("response.content_part.added", **where, part={"type": "reasoning_text", "text": ""})
    for piece in token_pieces(text):
        emit("response.reasoning_text.delta", **where, delta=piece)
    emit("response.reasoning_text.done", **where, text=text)
    emit("response.content_part.done", **where, part=item["content"][0])
    emit("response.output_item.done", output_index=index, item=item)


def _message_events(emit: Emit, index: int, item: Mapping[str, Any]) -> None:
    part = item["content"][0]
    where = {"item_id": item["id"], "output_index": index, "content_index": 0}
    emit("response.output_item.added", output_index=index, item={**item, "status": "in_progress", "content": []})
    emit("response.content_part.added", **where, part={**part, "text": "", "logprobs": []})
    for piece in token_pieces(part["text"]):
        emit("response.output_text.delta", **where, delta=piece, logprobs=[])
    emit("response.output_text.done", **where, text=part["text"], logprobs=[])
    emit("response.content_part.done", **where, part=part)
    emit("response.output_item.done", output_index=index, item=item)


def _function_call_events(emit: Emit, index: int, item: Mapping[str, Any]) -> None:
    where = {"item_id": item["id"], "output_index": index}
    emit("response.output_item.added", output_index=index, item={**item, "arguments": "", "status": "in_progress"})
    for piece in token_pieces(item["arguments"]):
        emit("response.function_call_arguments.delta", **where, delta=piece)
    emit("response.function_call_arguments.done", **where, arguments=item["arguments"])
    emit("response.output_item.done", output_index=index, item=item)


_ITEM_EVENTS: dict[str, Callable[[Emit, int, Mapping[str, Any]], None]] = {
    "reasoning": _reasoning_events,
    "message": _message_events,
    "function_call": _function_call_events,
}


def chat_chunks(turn: Turn, model: str) -> list[bytes]:
    """Cloudflare's Chat Completions SSE for `turn`, one encoded `data:` line per element, `[DONE]` last."""
    head = {"id": chat_api.completion_id(), "created": int(time.time()), "model": model}

    def chunk(delta: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None, **extra}
        return {**head, "object": "chat.completion.chunk", "choices": [choice]}

    chunks = [chunk({"role": "assistant", "content": ""}), chunk({"reasoning_content": ""}, token_ids=None)]
    chunks += [chunk({"reasoning_content": piece}, token_ids=None) for piece in token_pieces(turn.reasoning)]
    chunks += [chunk({"content": piece}, token_ids=None) for piece in token_pieces(turn.text or "")]
    for index, call in enumerate(turn.tool_calls):
        opening = {"id": chat_api.tool_call_id(), "type": "function", "index": index}
        function = {"name": call.name, "arguments": ""}
        chunks.append(chunk({"tool_calls": [{**opening, "function": function}]}, token_ids=None))
        chunks += [
            chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}, token_ids=None)
            for piece in token_pieces(call.arguments)
        ]
    if chat_api.stop_reason(turn) is not None:
        chunks.append(chunk({}, stop_reason=chat_api.stop_reason(turn), token_ids=None))
    chunks += _final_chunks(turn, head)
    return [b"data: " + json_bytes(data) + b"\n\n" for data in chunks] + [b"data: [DONE]\n\n"]


def _final_chunks(turn: Turn, head: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The last chunk, twice: Cloudflare's copy (usage with float `neurons`) and vLLM's (with cached tokens)."""
    opening = {"id": head["id"], "object": "chat.completion.chunk", "created": head["created"], "model": head["model"]}
    choices = [{"index": 0, "delta": {}, "finish_reason": chat_api.finish_reason(turn)}]
    usage = chat_api.usage(turn)
    cloudflare_usage = {
        "prompt_tokens": usage["prompt_tokens"],
        "total_tokens": usage["total_tokens"],
        "completion_tokens": usage["completion_tokens"],
        "neurons": chat_api.neurons(turn, str(head["model"])),
    }
    return [{**opening, "choices": choices, "usage": cloudflare_usage}, {**opening, "choices": choices, "usage": usage}]
