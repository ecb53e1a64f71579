"""Reading a Responses reply: only the fields the adapters use, leniently, whatever else the server adds.

Checks use `dict`, not `Mapping`: the input is decoded JSON, and the abstract check costs measurably per reply.

Accepts the bare object of `/ai/v1/responses` and the `{"result": ...}` envelope of `/ai/run`. Unknown output item
types are skipped, so a server that adds item kinds does not break older clients. Servers differ in where they put
reasoning: `reasoning_text` parts (gpt-oss servers), `output_text` parts of a reasoning item (LiteLLM's bridge), or
only `summary` parts; each reasoning item gives its raw text, or its summary when it has nothing else
(`Reply.reasoning_kind` says which). The item readers here are shared with the Responses stream reader, so both
read items the same way.
"""

from __future__ import annotations

import json
from typing import Any

from cfai.errors import ResponseFailedError, ResponseFormatError
from cfai.wire import lenient
from cfai.wire.json_codec import loads
from cfai.wire.status import incomplete_reason_from, status_from
from cfai.wire.types import ReasoningKind, Reply, ToolCall, Usage

_ANSWER_PARTS = frozenset({"output_text", "text"})
_REFUSAL_PARTS = frozenset({"refusal"})
_RAW_REASONING_PARTS = frozenset({"reasoning_text", "output_text", "text"})
_SUMMARY_PARTS = frozenset({"summary_text"})


def usage_from_json(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    input_tokens = lenient.count(data.get("input_tokens", data.get("prompt_tokens")))
    output_tokens = lenient.count(data.get("output_tokens", data.get("completion_tokens")))
    input_details = lenient.mapping(data.get("input_tokens_details") or data.get("prompt_tokens_details"))
    output_details = lenient.mapping(data.get("output_tokens_details") or data.get("completion_tokens_details"))
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=lenient.count(data.get("total_tokens")) or input_tokens + output_tokens,
        cached_tokens=lenient.count(input_details.get("cached_tokens")),
        reasoning_tokens=lenient.count(output_details.get("reasoning_tokens")),
    )


def _joined(parts: Any, types: frozenset[str], field: str = "text", separator: str = "") -> str:
    if not isinstance(parts, list):
        return ""
    texts = []
    for part in parts:
        # A type that is not a string (a list, an object) would not even hash; it names no part we read.
        if isinstance(part, dict) and isinstance(kind := part.get("type"), str) and kind in types:
            text = part.get(field)
            if isinstance(text, str) and text:
                texts.append(text)
    return separator.join(texts)


def message_content(item: dict[str, Any]) -> tuple[str, str]:
    """(answer text, refusal text) of a `message` output item."""
    content = item.get("content")
    if isinstance(content, str):
        return content, ""  # plain string content is answer text; only a typed part can be a refusal
    return _joined(content, _ANSWER_PARTS), _joined(content, _REFUSAL_PARTS, "refusal")


def reasoning_content(item: dict[str, Any]) -> tuple[str, str]:
    """(raw chain of thought, summary) of a `reasoning` output item."""
    content = item.get("content")
    raw = content if isinstance(content, str) else _joined(content, _RAW_REASONING_PARTS)
    # Summary parts are paragraphs of their own.
    return raw, _joined(item.get("summary"), _SUMMARY_PARTS, separator="\n\n")


def tool_call_from_json(item: dict[str, Any]) -> ToolCall:
    arguments = item.get("arguments")
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments if arguments is not None else {}, ensure_ascii=False, default=str)
    item_id = lenient.optional_text(item.get("id"))
    return ToolCall(
        call_id=lenient.optional_text(item.get("call_id")) or item_id or "",
        name=lenient.text(item.get("name")),
        arguments=arguments,
        id=item_id,
    )


def unwrap_envelope(data: Any) -> Any:
    """The Response object inside `/ai/run`'s v4 envelope, or the data itself."""
    if isinstance(data, dict) and "result" in data and "output" not in data:
        return data["result"]
    return data


def raise_for_failure(data: dict[str, Any]) -> None:
    error = data.get("error")
    if data.get("status") == "failed" or isinstance(error, dict):
        detail = lenient.mapping(error)
        message = lenient.text(detail.get("message")) or "the model failed to produce a reply"
        code = detail.get("code")
        raise ResponseFailedError(
            f"Workers AI reported a failed response: {message}",
            code=code if isinstance(code, (str, int)) and not isinstance(code, bool) else None,
            body=dict(data),
        )


def reply_from_json(data: Any) -> Reply:
    """Builds a Reply from a decoded Responses object (or `/ai/run` envelope); raises for failed replies."""
    data = unwrap_envelope(data)
    if not isinstance(data, dict) or not isinstance(data.get("output"), list):
        raise ResponseFormatError(f"Expected a Responses object with an `output` list; got {_preview(data)}.")
    raise_for_failure(data)
    texts: list[str] = []
    refusals: list[str] = []
    reasoning: list[str] = []
    kinds: set[ReasoningKind] = set()
    tool_calls: list[ToolCall] = []
    for item in data["output"]:
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "message":
            text, refusal = message_content(item)
            texts.append(text)
            refusals.append(refusal)
        elif kind == "reasoning":
            raw, summary = reasoning_content(item)
            if raw or summary:
                reasoning.append(raw or summary)
                kinds.add("raw" if raw else "summary")
        elif kind == "function_call":
            tool_calls.append(tool_call_from_json(item))
    return Reply(
        id=lenient.text(data.get("id")),
        model=lenient.text(data.get("model")),
        status=status_from(data.get("status")),
        text="".join(texts),
        reasoning="\n\n".join(reasoning),
        tool_calls=tuple(tool_calls),
        refusal="".join(refusals),
        usage=usage_from_json(data.get("usage")),
        incomplete_reason=incomplete_reason_from(data.get("incomplete_details")),
        created_at=lenient.whole_number(data.get("created_at")) or None,
        reasoning_kind=("raw" if "raw" in kinds else "summary") if kinds else None,
        raw=data,
    )


def reply_from_bytes(body: bytes) -> Reply:
    try:
        data = loads(body)
    except ValueError as error:
        raise ResponseFormatError(
            f"Workers AI sent a reply that is not valid JSON ({error}); it may have been cut off: {body[:120]!r}"
        ) from None
    return reply_from_json(data)


def _preview(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, default=str) if not isinstance(data, str) else data
    return text[:200]
