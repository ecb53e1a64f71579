"""Token streaming over Cloudflare's Chat Completions route, expressed in Responses terms.

Cloudflare streams gpt-oss only on `/ai/v1/chat/completions` (docs/wire.md). `chat_request_from` rewrites a Responses
request into that dialect, and `ChatCompletionsStreamReader` turns its SSE chunks back into our stream events, so the
adapters never learn which route served them. Recorded quirks handled here: reasoning in `delta.reasoning_content`,
a first delta with empty content, the final usage chunk sent twice (usage is taken, never added), float `neurons`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cfai.errors import ResponseFailedError, ResponseFormatError
from cfai.wire import lenient
from cfai.wire.accumulator import ReplyAccumulator
from cfai.wire.json_codec import loads, loads_event
from cfai.wire.reply import reasoning_content, usage_from_json
from cfai.wire.sse import ServerSentEvent
from cfai.wire.status import status_from_chat_finish
from cfai.wire.types import (
    ReasoningDelta,
    RefusalDelta,
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
    """Chat messages for Responses input items; an assistant turn's reasoning, text and calls become one message.

    The reasoning that led to calls still awaiting their results (the only reasoning the adapters send) goes back as
    `reasoning` on the assistant message, the field vLLM, which serves gpt-oss on this route, reads into the
    harmony analysis channel (docs/wire.md, Streaming).
    """
    messages: list[dict[str, Any]] = []
    reasoning = ""
    for item in items:
        kind = item.get("type")
        if kind == "reasoning":
            raw, summary = reasoning_content(dict(item))
            reasoning = raw or summary
            continue
        if kind == "function_call_output":
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": item.get("output", "")})
            continue
        role = "assistant" if kind == "function_call" else item.get("role", "user")
        last = messages[-1] if messages else None
        if role == "assistant" and not (last is not None and last["role"] == "assistant" and kind == "function_call"):
            last = {"role": "assistant", "content": None}
            messages.append(last)
        if kind == "function_call":
            assert last is not None
            call = {
                "id": item["call_id"],
                "type": "function",
                "function": {"name": item["name"], "arguments": item.get("arguments", "")},
            }
            last.setdefault("tool_calls", []).append(call)
        elif role == "assistant":
            assert last is not None
            content = _chat_content(item.get("content", ""))
            last["content"] = content if isinstance(content, str) else "".join(part.get("text", "") for part in content)
        else:
            messages.append(
                {"role": "system" if role == "developer" else role, "content": _chat_content(item.get("content", ""))}
            )
        if reasoning and role == "assistant":
            assert last is not None
            last["reasoning"], reasoning = reasoning, ""
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
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ResponseFormatError(f"Expected a chat.completion with choices; got {str(data)[:200]}")
    message = lenient.mapping(choices[0].get("message"))
    calls = tuple(
        _tool_call(call, position)
        for position, call in enumerate(lenient.items(message.get("tool_calls")))
        if isinstance(call, dict)
    )
    status, incomplete_reason = status_from_chat_finish(choices[0].get("finish_reason"))
    reasoning = lenient.text(message.get("reasoning_content")) or lenient.text(message.get("reasoning"))
    return Reply(
        id=lenient.text(data.get("id")),
        model=lenient.text(data.get("model")),
        status=status,
        text=lenient.text(message.get("content")),
        reasoning=reasoning,
        tool_calls=calls,
        refusal=lenient.text(message.get("refusal")),
        usage=usage_from_json(data.get("usage")),
        incomplete_reason=incomplete_reason,
        created_at=lenient.whole_number(data.get("created")) or None,
        reasoning_kind="raw" if reasoning else None,
        raw=data,
    )


def _raise_for_error(chunk: dict[str, Any]) -> None:
    """Raises the error a stream chunk reports in place of a delta, if it carries one."""
    error = chunk.get("error")
    if isinstance(error, (dict, str)):
        message = lenient.text(error.get("message")) if isinstance(error, dict) else error
        raise ResponseFailedError(f"Workers AI stream error: {message or 'unknown error'}", body=chunk)


def _tool_call(call: dict[str, Any], position: int) -> ToolCall:
    function = lenient.mapping(call.get("function"))
    call_id = lenient.optional_text(call.get("id"))
    arguments = function.get("arguments")
    return ToolCall(
        call_id=call_id or f"call_{position}",
        name=lenient.text(function.get("name")),
        arguments=arguments if isinstance(arguments, str) else "",
        id=call_id,
    )


class ChatCompletionsStreamReader:
    """Feed decoded SSE events with `read`; `[DONE]` produces the final ReplyDone."""

    def __init__(self) -> None:
        self.accumulator = ReplyAccumulator()
        self.done = False
        self._id = ""
        self._model = ""
        self._created: int | None = None
        self._finish_reason: Any = None
        self._usage: Usage | None = None
        self._call_indexes: dict[int, int] = {}
        # This route has one reasoning item and one message, at fixed positions: their deltas are appended to the
        # accumulator's parts here, as `ReplyAccumulator.add` would, without a call per token.
        self._reasoning_parts = self.accumulator.parts("reasoning", _REASONING_INDEX)
        self._text_parts = self.accumulator.parts("text", _TEXT_INDEX)
        self._refusal_parts = self.accumulator.parts("refusal", _TEXT_INDEX)

    @staticmethod
    def whole_reply(content: bytes) -> Reply:
        try:
            data = loads(content)
        except (ValueError, RecursionError):
            raise ResponseFormatError(f"Workers AI sent a reply that is not valid JSON: {content[:120]!r}") from None
        return reply_from_chat_completion(data)

    def read(self, sse: ServerSentEvent) -> list[StreamEvent]:
        data = sse.data
        if self.done or not data:
            return []
        if not data.startswith("{") and data.strip() == "[DONE]":
            return [self._finish()]
        try:
            chunk = loads_event(data)
        except (ValueError, RecursionError):
            raise ResponseFormatError(f"Unreadable Chat Completions stream chunk: {data[:120]!r}") from None
        # This runs once per token: `dict`, not `Mapping` (decoded JSON; the abstract check costs per chunk), and the
        # fields most chunks lack are tested with `in` before they are read.
        if not isinstance(chunk, dict):
            return []
        if "error" in chunk:
            _raise_for_error(chunk)
        if not self._id:
            self._id = lenient.text(chunk.get("id"))
            self._model = lenient.text(chunk.get("model"))
            self._created = lenient.whole_number(chunk.get("created")) or None
        if "usage" in chunk and isinstance(chunk["usage"], dict):
            self._usage = usage_from_json(chunk["usage"])
        events: list[StreamEvent] = []
        choices = chunk.get("choices")
        for choice in choices if isinstance(choices, list) else ():
            if not isinstance(choice, dict):
                continue
            if choice.get("finish_reason"):
                self._finish_reason = choice["finish_reason"]
            delta = choice.get("delta")
            if delta and isinstance(delta, dict):
                self._delta_events(delta, events)
        return events

    def _delta_events(self, delta: dict[str, Any], events: list[StreamEvent]) -> None:
        if "reasoning_content" in delta or "reasoning" in delta:
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if reasoning and isinstance(reasoning, str):
                events.append(ReasoningDelta(reasoning, _REASONING_INDEX))
                self._reasoning_parts.append(reasoning)
        content = delta.get("content")
        if content and isinstance(content, str):
            events.append(TextDelta(content, _TEXT_INDEX))
            self._text_parts.append(content)
        if "refusal" in delta:
            refusal = delta["refusal"]
            if refusal and isinstance(refusal, str):
                events.append(RefusalDelta(refusal, _TEXT_INDEX))
                self._refusal_parts.append(refusal)
        if "tool_calls" in delta:
            calls = delta["tool_calls"]
            for call in calls if isinstance(calls, list) else ():
                if isinstance(call, dict):
                    self._call_events(call, events)

    def _call_events(self, call: dict[str, Any], events: list[StreamEvent]) -> None:
        position = lenient.count(call.get("index"))
        function = lenient.mapping(call.get("function"))
        index = self._call_indexes.get(position)
        if index is None:
            index = self._call_indexes[position] = _FIRST_CALL_INDEX + position
            started = _tool_call(call, position)
            self._emit(ToolCallStarted(started.call_id, started.name, index, started.id), events)
        arguments = function.get("arguments")
        if arguments and isinstance(arguments, str):
            self._emit(ToolCallArgumentsDelta(arguments, index), events)

    def _emit(self, event: StreamEvent, events: list[StreamEvent]) -> None:
        events.append(event)
        self.accumulator.add(event)

    def _finish(self) -> ReplyDone:
        self.done = True
        status, incomplete_reason = status_from_chat_finish(self._finish_reason)
        return ReplyDone(
            self.accumulator.reply(
                id=self._id,
                model=self._model,
                status=status,
                usage=self._usage,
                incomplete_reason=incomplete_reason,
                created_at=self._created,
            )
        )
