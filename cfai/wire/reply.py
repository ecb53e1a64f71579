"""Reading a Responses reply: only the fields the adapters use, leniently, whatever else the server adds.

Checks use `dict`, not `Mapping`: the input is decoded JSON, and the abstract check costs measurably per reply.

Accepts the bare object of `/ai/v1/responses` and the `{"result": ...}` envelope of `/ai/run`. Unknown output item
types are skipped, so a server that adds item kinds does not break older clients.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, cast

from cfai.errors import ResponseFailedError, ResponseFormatError
from cfai.wire.types import Reply, Status, ToolCall, Usage

_STATUSES = frozenset({"completed", "incomplete", "failed", "in_progress", "queued", "cancelled"})


def _int(value: Any) -> int:
    # Streamed Chat Completions usage carries floats (`neurons`); counts are whole numbers of tokens.
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def usage_from_json(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    input_tokens = _int(data.get("input_tokens", data.get("prompt_tokens")))
    output_tokens = _int(data.get("output_tokens", data.get("completion_tokens")))
    input_details = data.get("input_tokens_details") or data.get("prompt_tokens_details") or {}
    output_details = data.get("output_tokens_details") or data.get("completion_tokens_details") or {}
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=_int(data.get("total_tokens")) or input_tokens + output_tokens,
        cached_tokens=_int(input_details.get("cached_tokens")) if isinstance(input_details, dict) else 0,
        reasoning_tokens=_int(output_details.get("reasoning_tokens")) if isinstance(output_details, dict) else 0,
    )


def _part_texts(content: Any, *types: str) -> list[str]:
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        return []
    return [
        str(part.get("text") or part.get(types[-1]) or "")
        for part in content
        if isinstance(part, dict) and part.get("type") in types
    ]


def unwrap_envelope(data: Any) -> Any:
    """The Response object inside `/ai/run`'s v4 envelope, or the data itself."""
    if isinstance(data, dict) and "result" in data and "output" not in data:
        return data["result"]
    return data


def raise_for_failure(data: Mapping[str, Any]) -> None:
    error = data.get("error")
    if data.get("status") == "failed" or isinstance(error, dict):
        detail = error if isinstance(error, dict) else {}
        message = str(detail.get("message") or "the model failed to produce a reply")
        raise ResponseFailedError(f"Workers AI reported a failed response: {message}", code=detail.get("code"),
                                  body=dict(data))


def reply_from_json(data: Any) -> Reply:
    """Builds a Reply from a decoded Responses object (or `/ai/run` envelope); raises for failed replies."""
    data = unwrap_envelope(data)
    if not isinstance(data, dict) or not isinstance(data.get("output"), list):
        raise ResponseFormatError(f"Expected a Responses object with an `output` list; got {_preview(data)}.")
    raise_for_failure(data)
    texts: list[str] = []
    reasoning: list[str] = []
    refusals: list[str] = []
    tool_calls: list[ToolCall] = []
    for item in data["output"]:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "message":
            texts.extend(_part_texts(item.get("content"), "output_text"))
            # Plain string content is answer text; only a typed part can be a refusal.
            if isinstance(item.get("content"), list):
                refusals.extend(_part_texts(item.get("content"), "refusal"))
        elif kind == "reasoning":
            reasoning.extend(_part_texts(item.get("content"), "reasoning_text"))
            if not item.get("content"):
                reasoning.extend(_part_texts(item.get("summary"), "summary_text"))
        elif kind == "function_call":
            tool_calls.append(tool_call_from_json(item))
    status = data.get("status")
    details = data.get("incomplete_details")
    return Reply(
        id=str(data.get("id") or ""),
        model=str(data.get("model") or ""),
        status=cast(Status, status if status in _STATUSES else "completed"),
        text="".join(texts),
        reasoning="\n\n".join(text for text in reasoning if text),
        tool_calls=tuple(tool_calls),
        refusal="".join(refusals),
        usage=usage_from_json(data.get("usage")),
        incomplete_reason=str(details.get("reason")) if isinstance(details, dict) else None,
        created_at=_int(data.get("created_at")) or None,
        raw=dict(data),
    )


def tool_call_from_json(item: Mapping[str, Any]) -> ToolCall:
    arguments = item.get("arguments")
    return ToolCall(
        call_id=str(item.get("call_id") or item.get("id") or ""),
        name=str(item.get("name") or ""),
        arguments=arguments if isinstance(arguments, str) else json.dumps(arguments or {}, ensure_ascii=False),
        id=item.get("id"),
    )


def forced_tool_names(body: Mapping[str, Any]) -> list[str]:
    """The tools a request obliges the model to call (`required`, or one named tool), else empty."""
    tools = [str(tool.get("name")) for tool in body.get("tools") or () if isinstance(tool, Mapping)]
    choice = body.get("tool_choice")
    if choice == "required":
        return tools
    if isinstance(choice, Mapping) and choice.get("name") in tools:
        return [str(choice["name"])]
    return []


def salvage_tool_call(reply: Reply, body: Mapping[str, Any]) -> Reply:
    """Recovers a forced tool call that the server returned as answer text (WIRE.md, quirk 2).

    Only when the request forced a tool, no call came back, and the whole answer is `{"name", "arguments"}` JSON
    naming one of the forced tools; anything else is left untouched.
    """
    names = forced_tool_names(body) if reply.text and not reply.tool_calls else []
    if not names:
        return reply
    try:
        data = json.loads(reply.text)
    except ValueError:
        return reply
    if not isinstance(data, dict):
        return reply
    name = data.get("name") if data.get("name") in names else (names[0] if len(names) == 1 else None)
    arguments = data.get("arguments", data.get("parameters"))
    if name is None or not isinstance(arguments, (Mapping, str)):
        return reply
    call = ToolCall(
        call_id=f"call_{reply.id or 'salvaged'}_0",
        name=str(name),
        arguments=arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False),
    )
    return dataclasses.replace(reply, text="", tool_calls=(call,))


def reply_from_bytes(body: bytes) -> Reply:
    try:
        data = json.loads(body)
    except ValueError as error:
        raise ResponseFormatError(
            f"Workers AI sent a reply that is not valid JSON ({error}); it may have been cut off: "
            f"{body[:120]!r}"
        ) from None
    return reply_from_json(data)


def _preview(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, default=str) if not isinstance(data, str) else data
    return text[:200]


def missing_answer(reply: Reply, max_output_tokens: int | None = None) -> str | None:
    """Why a finished reply carries no answer, worded for the caller; None when it has text, a refusal or a call.

    Both adapters warn with this text rather than hand back an empty answer as if it were one (WIRE.md, quirk 3).
    """
    if reply.text or reply.tool_calls or reply.refusal:
        return None
    if reply.status != "incomplete":
        return "Workers AI returned an empty answer: no text and no tool call (status 'completed')."
    spent = f"all {reply.usage.output_tokens} output tokens" if reply.usage else "its whole output budget"
    budget = f", max_tokens={max_output_tokens}" if max_output_tokens else ""
    return (
        f"Workers AI spent {spent} on reasoning and returned no answer (status 'incomplete', "
        f"finish_reason 'length'{budget}). Raise max_tokens, or lower reasoning_effort."
    )
