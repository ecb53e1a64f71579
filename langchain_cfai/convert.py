"""Pure conversions between LangChain messages and the Responses wire, in both directions.

Requests: `to_responses_input` maps a message list to `instructions` and input items (docs/design.md, "Mapping framework
messages to the Responses input"). Replies: `message_from_reply` maps a whole `Reply` to an `AIMessage`, and
`chunk_from_event` maps one core stream event to an `AIMessageChunk`; the last event's chunk carries the same metadata
(`usage_metadata_from`, `response_metadata_from`) as the non-streamed message, so a summed stream equals an invoke.

Nothing here does I/O or mutates its arguments.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    InvalidToolCall,
    SystemMessage,
    ToolCallChunk,
    ToolMessage,
)
from langchain_core.messages import ToolCall as LangChainToolCall
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.messages.tool import invalid_tool_call

from cfai.wire import (
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
    assistant_turn,
    function_call_item,
    function_call_output_item,
    input_image,
    input_text,
    message_item,
    prune_reasoning,
)

MODEL_PROVIDER = "cloudflare"
REASONING_KEY = "reasoning_content"

# Responses parts a user may already have written by hand; passed through unchanged.
_NATIVE_USER_PARTS = frozenset({"input_text", "input_image"})
# The roles (`_role`) of messages sent as the user's and as the assistant's (an AIMessage of any role is too).
_USER_ROLES = frozenset({"human", "user"})
_ASSISTANT_ROLES = frozenset({"ai", "assistant"})


class ResponsesInput(NamedTuple):
    """The two request fields a message list becomes."""

    instructions: str | None
    items: list[dict[str, Any]]


# Messages -> request.


def to_responses_input(messages: Sequence[BaseMessage]) -> ResponsesInput:
    """Leading system messages become `instructions`; everything else becomes input items, in order.

    Reasoning is kept only for the tool-calling turn still awaiting its results (`cfai.wire.prune_reasoning`).
    """
    roles = [_role(message) for message in messages]
    leading = 0
    while leading < len(roles) and roles[leading] == "system":
        leading += 1
    instructions = "\n\n".join(text for text in map(_text, messages[:leading]) if text) if leading else ""
    # prune_reasoning drops all reasoning before the last user message, so the turns before it are read without.
    last_user = len(roles) - 1
    while last_user >= 0 and roles[last_user] not in _USER_ROLES:
        last_user -= 1
    items: list[dict[str, Any]] = []
    for position in range(leading, len(messages)):
        items += _items_for(messages[position], roles[position], position, with_reasoning=position > last_user)
    return ResponsesInput(instructions or None, prune_reasoning(items))


def _role(message: BaseMessage) -> str:
    if isinstance(message, SystemMessage):
        # langchain-openai marks developer messages this way; honour it rather than promoting them to instructions.
        return "developer" if message.additional_kwargs.get("__openai_role__") == "developer" else "system"
    if isinstance(message, ChatMessage):
        return message.role
    return message.type


def _items_for(message: BaseMessage, role: str, position: int, *, with_reasoning: bool) -> list[dict[str, Any]]:
    if isinstance(message, AIMessage) or role in _ASSISTANT_ROLES:
        return _assistant_items(message, position, with_reasoning=with_reasoning)
    if isinstance(message, ToolMessage):
        return [function_call_output_item(message.tool_call_id, _tool_output(message))]
    if role in _USER_ROLES:
        return [message_item("user", _user_content(message))]
    if role in ("system", "developer"):
        return [message_item("developer", _text(message))]
    raise ValueError(
        f"Cannot send a {type(message).__name__} with role {role!r} to Workers AI; use system, human, ai or "
        "tool messages."
    )


def _text(message: BaseMessage) -> str:
    return message.content if isinstance(message.content, str) else str(message.text)


def _user_content(message: BaseMessage) -> str | list[dict[str, Any]]:
    if isinstance(message.content, str):
        return message.content
    return [_user_part(block) for block in message.content_blocks]


def _user_part(block: Mapping[str, Any]) -> dict[str, Any]:
    kind = block.get("type")
    if kind == "text":
        return input_text(str(block.get("text", "")))
    if kind == "image" and block.get("url"):
        return input_image(str(block["url"]))
    if kind == "image" and block.get("base64"):
        mime_type = block.get("mime_type") or "image/png"
        return input_image(f"data:{mime_type};base64,{block['base64']}")
    value = block.get("value")
    if kind == "non_standard" and isinstance(value, Mapping) and value.get("type") in _NATIVE_USER_PARTS:
        return dict(value)
    raise ValueError(
        f"Workers AI's Responses API takes text and image parts only; got a {kind!r} content block. "
        "gpt-oss reads text only today; see ChatWorkersAI.profile."
    )


def _tool_output(message: ToolMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    return str(message.text) or json.dumps(message.content, ensure_ascii=False, default=str)


def _assistant_items(message: BaseMessage, position: int, *, with_reasoning: bool) -> list[dict[str, Any]]:
    """An assistant turn in the order the model produced it: reasoning, text, then tool calls.

    Which reasoning is worth sending back is decided later, over the whole conversation, by `prune_reasoning`;
    `with_reasoning=False` leaves it out at once, for a turn whose reasoning `prune_reasoning` would drop anyway.
    """
    calls = _function_calls(message, position)
    reasoning = message.additional_kwargs.get(REASONING_KEY)
    if isinstance(message.content, str) and _ours(message) and (reasoning is None or isinstance(reasoning, str)):
        # A plain-string message of ours (or typed by hand): what `content_blocks` would derive, without building the
        # blocks (a third of the cost of converting a long conversation, benchmarks/).
        return assistant_turn(message.content, (reasoning or "") if with_reasoning else "", calls)
    blocks = message.content_blocks
    text = "".join(str(block.get("text", "")) for block in blocks if block["type"] == "text")
    if not with_reasoning:
        return assistant_turn(text, "", calls)
    reasoning = "\n\n".join(
        str(block.get("reasoning")) for block in blocks if block["type"] == "reasoning" and block.get("reasoning")
    )
    return assistant_turn(text, reasoning, calls)


def _ours(message: BaseMessage) -> bool:
    """Whether no other provider's conventions apply: `content_blocks` translates theirs (reasoning kept elsewhere)."""
    provider = message.response_metadata.get("model_provider")
    return provider in (None, MODEL_PROVIDER) and "reasoning" not in message.additional_kwargs


def _function_calls(message: BaseMessage, position: int) -> list[dict[str, Any]]:
    if not isinstance(message, AIMessage):
        return []
    calls = [
        function_call_item(call["id"] or _fallback_call_id(position, index), call["name"], call["args"])
        for index, call in enumerate(message.tool_calls)
    ]
    if message.invalid_tool_calls:
        # Unparseable calls are replayed as written, so the tool message that reported the error still has its call.
        calls.extend(
            function_call_item(call_id, call["name"] or "", call["args"] or "")
            for call in message.invalid_tool_calls
            if (call_id := call.get("id"))
        )
    return calls


def _fallback_call_id(position: int, index: int) -> str:
    return f"call_{position}_{index}"


# Reply -> messages.


def usage_metadata_from(usage: Usage | None) -> UsageMetadata | None:
    if usage is None:
        return None
    return UsageMetadata(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
        input_token_details=InputTokenDetails(cache_read=usage.cached_tokens),
        output_token_details=OutputTokenDetails(reasoning=usage.reasoning_tokens),
    )


def response_metadata_from(reply: Reply, *, model: str) -> dict[str, Any]:
    """What LangChain reads from `response_metadata`; `model` is the requested name, used when the reply has none."""
    model_name = reply.model or model
    metadata: dict[str, Any] = {
        "id": reply.id or None,
        "model_name": model_name,
        "model_provider": MODEL_PROVIDER,
        "finish_reason": reply.finish_reason,
        "status": reply.status,
        "incomplete_reason": reply.incomplete_reason,
        "reasoning_kind": reply.reasoning_kind,
        "created_at": reply.created_at,
        "cost_usd": reply.cost_usd,
    }
    return {key: value for key, value in metadata.items() if value is not None}


def tool_calls_from(calls: Sequence[ToolCall]) -> tuple[list[LangChainToolCall], list[InvalidToolCall]]:
    """Splits the reply's calls into those whose arguments are a JSON object and those that are not."""
    valid: list[LangChainToolCall] = []
    invalid: list[InvalidToolCall] = []
    for call in calls:
        try:
            args = json.loads(call.arguments) if call.arguments.strip() else {}
        except (ValueError, RecursionError) as error:
            invalid.append(_invalid_call(call, f"Arguments are not valid JSON: {error}"))
            continue
        if isinstance(args, dict):
            valid.append(LangChainToolCall(name=call.name, args=args, id=call.call_id, type="tool_call"))
        else:
            invalid.append(_invalid_call(call, "Arguments are not a JSON object."))
    return valid, invalid


def _invalid_call(call: ToolCall, error: str) -> InvalidToolCall:
    return invalid_tool_call(name=call.name, args=call.arguments, id=call.call_id, error=error)


def _reasoning_kwargs(reply: Reply) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if reply.reasoning:
        extra[REASONING_KEY] = reply.reasoning
    if reply.refusal:
        extra["refusal"] = reply.refusal
    return extra


def message_from_reply(reply: Reply, *, model: str) -> AIMessage:
    """The `AIMessage` of a whole reply: answer text as `content`, reasoning in `additional_kwargs`."""
    calls: dict[str, Any] = {}
    if reply.tool_calls:  # empty lists are the default, and each list passed costs LangChain's checks (about 1 µs)
        calls["tool_calls"], calls["invalid_tool_calls"] = tool_calls_from(reply.tool_calls)
    return AIMessage(
        content=reply.text,
        additional_kwargs=_reasoning_kwargs(reply),
        **calls,
        usage_metadata=usage_metadata_from(reply.usage),
        response_metadata=response_metadata_from(reply, model=model),
        id=reply.id or None,
    )


def chunk_from_event(event: StreamEvent, *, model: str) -> AIMessageChunk:
    """The `AIMessageChunk` of one stream event. Only the last (`ReplyDone`) carries usage, ids and finish reason."""
    # One chunk per token: its dicts are filled after construction (as langchain-openai fills in the provider), since
    # the constructor would validate and copy each one (benchmarks/: CPU per chunk).
    if isinstance(event, TextDelta):
        chunk = AIMessageChunk(content=event.delta)
    elif isinstance(event, ReasoningDelta):
        chunk = AIMessageChunk(content="")
        chunk.additional_kwargs[REASONING_KEY] = event.delta
    elif isinstance(event, RefusalDelta):
        chunk = AIMessageChunk(content="")
        chunk.additional_kwargs["refusal"] = event.delta
    elif isinstance(event, ToolCallStarted):
        start = ToolCallChunk(name=event.name, args="", id=event.call_id, index=event.index, type="tool_call_chunk")
        chunk = AIMessageChunk(content="", tool_call_chunks=[start])
    elif isinstance(event, ToolCallArgumentsDelta):
        delta = ToolCallChunk(name=None, args=event.delta, id=None, index=event.index, type="tool_call_chunk")
        chunk = AIMessageChunk(content="", tool_call_chunks=[delta])
    elif isinstance(event, ReplyDone):
        reply = event.reply
        return AIMessageChunk(
            content="",
            usage_metadata=usage_metadata_from(reply.usage),
            response_metadata=response_metadata_from(reply, model=model),
            id=reply.id or None,
            chunk_position="last",
        )
    else:  # pragma: no cover - the union is closed
        raise TypeError(f"Unknown stream event {type(event).__name__}")
    chunk.response_metadata["model_provider"] = MODEL_PROVIDER
    return chunk
