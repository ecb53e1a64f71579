"""Token streaming over Cloudflare's Chat Completions route, expressed in Responses terms.

Cloudflare streams gpt-oss only on `/ai/v1/chat/completions` (WIRE.md). `chat_request_from` rewrites a Responses
request into that dialect, and `ChatCompletionsStreamReader` turns its SSE chunks back into our stream events, so the
adapters never learn which route served them. Recorded quirks handled here: reasoning in `delta.reasoning_content`,
a first delta with empty content, the final usage chunk sent twice (usage is taken, never added), float `neurons`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cfai.errors import ResponseFailedError, ResponseFormatError
from cfai.wire.accumulator import ReplyAccumulator
from cfai.wire.reply import usage_from_json
from cfai.wire.sse import ServerSentEvent
from cfai.wire.types import (
    ReasoningDelta,
    Reply,
    ReplyDone,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallArgumentsDelta,
    ToolCallStarted,
    Usage,
)

# Output positions as a Responses reply would number them: reasoning, then the message, then the calls.
_REASONING_INDEX, _TEXT_INDEX, _FIRST_CALL_INDEX = 0, 1, 2

_PART_TYPES = {"input_text": "text", "output_text": "text"}


def _chat_content(content: Any) -> Any:
    if isinstance(content, str):
        return content
    parts: list[dict[str, Any]] = []
    for part in content or ():
        kind = part.get("type")
        if kind in _PART_TYPES:
            parts.append({"type": "text", "text": part.get("text", "")})
        elif kind == "input_image":
            parts.append({"type": "image_url", "image_url": {"url": part.get("image_url", "")}})
    return parts


def _chat_messages(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for item in items:
        kind = item.get("type")
        if kind == "function_call":
            call = {
                "id": item["call_id"],
                "type": "function",
                "function": {"name": item["name"], "arguments": item.get("arguments", "")},
            }
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant" and "tool_calls" in last:
                last["tool_calls"].append(call)
            elif last is not None and last["role"] == "assistant":
                last["tool_calls"] = [call]
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": item.get("output", "")})
        elif kind == "reasoning":
            # The chat route has no documented field for prior reasoning; it is left out rather than guessed.
            continue
        else:
            role = item.get("role", "user")
            content = _chat_content(item.get("content", ""))
            if role == "assistant" and isinstance(content, list):
                content = "".join(part.get("text", "") for part in content)
            messages.append({"role": "system" if role == "developer" else role, "content": content})
    return messages


def _chat_tool_choice(choice: Any) -> Any:
    if isinstance(choice, Mapping) and choice.get("type") == "function":
        return {"type": "function", "function": {"name": choice.get("name")}}
    return choice


def _response_format(text: Mapping[str, Any]) -> dict[str, Any] | None:
    fmt = text.get("format") or {}
    if fmt.get("type") == "json_schema":
        schema = {key: fmt[key] for key in ("name", "schema", "strict") if key in fmt}
        return {"type": "json_schema", "json_schema": schema}
    if fmt.get("type") == "json_object":
        return {"type": "json_object"}
    return None


def chat_request_from(body: Mapping[str, Any]) -> dict[str, Any]:
    """The streaming Chat Completions request equivalent to a Responses request body."""
    source = body.get("input", "")
    items = [{"role": "user", "content": source}] if isinstance(source, str) else list(source)
    messages = _chat_messages(items)
    if body.get("instructions"):
        messages.insert(0, {"role": "system", "content": body["instructions"]})
    request: dict[str, Any] = {
        "model": body["model"],
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if body.get("tools"):
        request["tools"] = [
            {
                "type": "function",
                "function": {key: tool[key] for key in ("name", "description", "parameters", "strict") if key in tool},
            }
            for tool in body["tools"]
        ]
    renames = {
        "max_output_tokens": "max_tokens",
        "temperature": "temperature",
        "top_p": "top_p",
        "parallel_tool_calls": "parallel_tool_calls",
    }
    request.update({new: body[old] for old, new in renames.items() if body.get(old) is not None})
    if body.get("tool_choice") is not None:
        request["tool_choice"] = _chat_tool_choice(body["tool_choice"])
    if isinstance(body.get("reasoning"), Mapping) and body["reasoning"].get("effort"):
        request["reasoning_effort"] = body["reasoning"]["effort"]
    if isinstance(body.get("text"), Mapping) and (response_format := _response_format(body["text"])):
        request["response_format"] = response_format
    return request


def reply_from_chat_completion(data: Any) -> Reply:
    """A whole `chat.completion` object (a server that ignored `stream: true`) as a Reply."""
    choices = data.get("choices") if isinstance(data, Mapping) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        raise ResponseFormatError(f"Expected a chat.completion with choices; got {str(data)[:200]}")
    message = choices[0].get("message") or {}
    calls = tuple(
        ToolCall(
            call_id=str(call.get("id") or f"call_{position}"),
            name=str((call.get("function") or {}).get("name") or ""),
            arguments=str((call.get("function") or {}).get("arguments") or ""),
            id=call.get("id"),
        )
        for position, call in enumerate(message.get("tool_calls") or ())
    )
    length = choices[0].get("finish_reason") == "length"
    return Reply(
        id=str(data.get("id") or ""),
        model=str(data.get("model") or ""),
        status="incomplete" if length else "completed",
        text=str(message.get("content") or ""),
        reasoning=str(message.get("reasoning_content") or message.get("reasoning") or ""),
        tool_calls=calls,
        usage=usage_from_json(data.get("usage")),
        incomplete_reason="max_output_tokens" if length else None,
        created_at=int(data.get("created") or 0) or None,
        raw=dict(data),
    )


class ChatCompletionsStreamReader:
    """Feed decoded SSE events with `read`; `[DONE]` produces the final ReplyDone."""

    def __init__(self) -> None:
        self.accumulator = ReplyAccumulator()
        self.done = False
        self._id = ""
        self._model = ""
        self._created: int | None = None
        self._finish_reason: str | None = None
        self._usage: Usage | None = None
        self._call_indexes: dict[int, int] = {}

    @staticmethod
    def whole_reply(content: bytes, body: Mapping[str, Any]) -> Reply:
        try:
            data = json.loads(content)
        except ValueError:
            raise ResponseFormatError(f"Workers AI sent a reply that is not valid JSON: {content[:120]!r}") from None
        return reply_from_chat_completion(data)

    def read(self, sse: ServerSentEvent) -> list[StreamEvent]:
        data = sse.data
        if self.done or not data:
            return []
        if not data.startswith("{") and data.strip() == "[DONE]":
            return [self._finish()]
        try:
            chunk = json.loads(data)
        except ValueError:
            raise ResponseFormatError(f"Unreadable Chat Completions stream chunk: {data[:120]!r}") from None
        # `dict`, not `Mapping`: decoded JSON, and this runs once per token (the abstract check costs per chunk).
        if not isinstance(chunk, dict):
            return []
        error = chunk.get("error")
        if isinstance(error, (dict, str)):
            message = error.get("message") if isinstance(error, dict) else error
            raise ResponseFailedError(f"Workers AI stream error: {message}", body=chunk)
        self._id = self._id or str(chunk.get("id") or "")
        self._model = self._model or str(chunk.get("model") or "")
        self._created = self._created or (int(chunk["created"]) if chunk.get("created") else None)
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self._usage = usage_from_json(usage)
        events: list[StreamEvent] = []
        for choice in chunk.get("choices") or ():
            if choice.get("finish_reason"):
                self._finish_reason = str(choice["finish_reason"])
            events.extend(self._delta_events(choice.get("delta") or {}))
        for event in events:
            self.accumulator.add(event)
        return events

    def _delta_events(self, delta: Mapping[str, Any]) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            events.append(ReasoningDelta(reasoning, _REASONING_INDEX))
        if isinstance(delta.get("content"), str) and delta["content"]:
            events.append(TextDelta(delta["content"], _TEXT_INDEX))
        for call in delta.get("tool_calls") or ():
            position = int(call.get("index") or 0)
            function = call.get("function") or {}
            if position not in self._call_indexes:
                self._call_indexes[position] = _FIRST_CALL_INDEX + position
                events.append(
                    ToolCallStarted(
                        str(call.get("id") or f"call_{position}"),
                        str(function.get("name") or ""),
                        self._call_indexes[position],
                        call.get("id"),
                    )
                )
            if function.get("arguments"):
                events.append(ToolCallArgumentsDelta(function["arguments"], self._call_indexes[position]))
        return events

    def _finish(self) -> ReplyDone:
        self.done = True
        length = self._finish_reason == "length"
        return ReplyDone(
            self.accumulator.reply(
                id=self._id,
                model=self._model,
                status="incomplete" if length else "completed",
                usage=self._usage,
                incomplete_reason="max_output_tokens" if length else None,
                created_at=self._created,
            )
        )
