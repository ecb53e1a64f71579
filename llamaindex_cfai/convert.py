"""Pure conversions between LlamaIndex chat types and the Responses wire shapes of `cfai.wire`.

Messages go out as `(instructions, input items)`; a `Reply` comes back as a `ChatMessage` / `ChatResponse`, and the
stream fold (`stream.py`) uses the same functions, so a streamed reply ends in exactly the message `chat()` returns.
Nothing here sends a request or mutates an argument; the one read is LlamaIndex's own `ImageBlock.inline_url()` for an
image given only by a local path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    CachePoint,
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json
from llama_index.core.tools.types import BaseTool

from cfai.errors import EmptyAnswerWarning, InvalidToolArgumentsWarning
from cfai.wire import (
    Reply,
    assistant_turn,
    function_call_item,
    function_call_output_item,
    function_tool,
    input_image,
    input_text,
    message_item,
    missing_answer,
    prune_reasoning,
)

__all__ = [
    "completion_from_chat",
    "items_from_message",
    "message_from_reply",
    "reply_kwargs",
    "reply_problems",
    "response_from_reply",
    "thinking_of",
    "to_input_items",
    "tool_kwargs_from_arguments",
    "tool_selections_from_message",
    "tool_spec",
    "user_message",
    "without_extra_tool_calls",
]

Item = dict[str, Any]

_ASSISTANT_ROLES = frozenset({MessageRole.ASSISTANT, MessageRole.CHATBOT, MessageRole.MODEL})
_TOOL_ROLES = frozenset({MessageRole.TOOL, MessageRole.FUNCTION})
_DEVELOPER_ROLES = frozenset({MessageRole.SYSTEM, MessageRole.DEVELOPER})
# Every other role is sent as the user's.
_NOT_USER_ROLES = _ASSISTANT_ROLES | _TOOL_ROLES | _DEVELOPER_ROLES


# Messages -> Responses input.


def to_input_items(messages: Sequence[ChatMessage]) -> tuple[str | None, list[Item]]:
    """The `instructions` and `input` items of a Responses request for a LlamaIndex chat history.

    Leading system messages become `instructions` (joined, as `LLM.system_prompt` and a chat engine's context prompt
    both arrive as leading system messages); later ones become `developer` items. Reasoning is kept only for the
    tool-calling turn still awaiting its results (docs/wire.md, the Responses request).
    """
    leading = 0
    while leading < len(messages) and messages[leading].role == MessageRole.SYSTEM:
        leading += 1
    instructions = "\n\n".join(text for text in map(_text_of, messages[:leading]) if text) if leading else ""
    # prune_reasoning drops all reasoning before the last user message, so the turns before it are read without.
    last_user = len(messages) - 1
    while last_user >= 0 and messages[last_user].role in _NOT_USER_ROLES:
        last_user -= 1
    items: list[Item] = []
    for position in range(leading, len(messages)):
        items += _items_of(messages[position], with_reasoning=position > last_user)
    return instructions or None, prune_reasoning(items)


def items_from_message(message: ChatMessage) -> list[Item]:
    """The input items of one message (an assistant turn can need several: text, reasoning, tool calls)."""
    return _items_of(message, with_reasoning=True)


def _items_of(message: ChatMessage, *, with_reasoning: bool) -> list[Item]:
    if message.role in _ASSISTANT_ROLES:
        return _assistant_items(message, with_reasoning=with_reasoning)
    if message.role in _TOOL_ROLES:
        return [function_call_output_item(_tool_call_id_of(message), _text_of(message))]
    if message.role in _DEVELOPER_ROLES:
        return [message_item("developer", _text_of(message))]
    return [message_item("user", _user_content(message))]


def _text_of(message: ChatMessage) -> str:
    # A list comprehension: `join` would make a list of a generator anyway, and more slowly.
    return "\n".join([block.text for block in message.blocks if isinstance(block, TextBlock)])


def _tool_call_id_of(message: ChatMessage) -> str:
    call_id = message.additional_kwargs.get("tool_call_id")
    if not call_id:
        raise ValueError(
            "A tool message needs additional_kwargs['tool_call_id'] (the id of the tool call it answers): the "
            "Responses API pairs each function_call_output with its function_call by call_id."
        )
    return str(call_id)


def _user_content(message: ChatMessage) -> str | list[Item]:
    blocks = [block for block in message.blocks if not isinstance(block, (CachePoint, ThinkingBlock))]
    if not blocks:
        return ""
    if len(blocks) == 1 and isinstance(blocks[0], TextBlock):
        return blocks[0].text
    return [_input_part(block) for block in blocks]


def _input_part(block: Any) -> Item:
    if isinstance(block, TextBlock):
        return input_text(block.text)
    if isinstance(block, ImageBlock):
        url = str(block.url) if block.url and not block.image and not block.path else block.inline_url()
        return input_image(url, block.detail)
    raise ValueError(
        f"{type(block).__name__} is not supported by Workers AI's Responses API; send text (and images to models "
        "that accept them)."
    )


def _assistant_items(message: ChatMessage, *, with_reasoning: bool) -> list[Item]:
    # The core's one order for a turn: reasoning, text, calls. prune_reasoning then keeps only the reasoning of the
    # turn whose calls still await their results; `with_reasoning=False` leaves out reasoning it would certainly drop.
    reasoning = thinking_of(message) if with_reasoning else ""
    return assistant_turn(_text_of(message), reasoning, _tool_calls_of(message))


def _tool_calls_of(message: ChatMessage) -> list[Item]:
    calls = [
        function_call_item(_call_id_of(block), block.tool_name, block.tool_kwargs)
        for block in message.blocks
        if isinstance(block, ToolCallBlock)
    ]
    # Histories written by older integrations keep OpenAI-style calls in additional_kwargs instead of blocks.
    legacy = None if calls else message.additional_kwargs.get("tool_calls")
    return [_legacy_tool_call(call) for call in legacy] if legacy else calls


def _call_id_of(block: ToolCallBlock) -> str:
    if not block.tool_call_id:
        raise ValueError(
            f"The assistant's call to {block.tool_name!r} has no tool_call_id; the Responses API pairs tool "
            "results with their calls by call_id."
        )
    return block.tool_call_id


def _field(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)


def _legacy_tool_call(call: Any) -> Item:
    """A Chat Completions (`{"id", "function": {...}}`) or Responses (`{"call_id", "name", ...}`) call."""
    function = _field(call, "function")
    source = function if function is not None else call
    call_id = _field(call, "call_id") or _field(call, "id")
    name = _field(source, "name")
    if not call_id or not name:
        raise ValueError(f"Cannot read the tool call {call!r} in additional_kwargs['tool_calls'].")
    return function_call_item(str(call_id), str(name), _field(source, "arguments") or "{}")


# Tools.


def tool_spec(tool: BaseTool, *, strict: bool | None = None) -> Item:
    """A LlamaIndex tool as a flat Responses function tool (with `$defs` inlined for gpt-oss)."""
    metadata = tool.metadata
    return function_tool(metadata.get_name(), metadata.description, metadata.get_parameters_dict(), strict=strict)


def tool_kwargs_from_arguments(arguments: str) -> dict[str, Any] | str:
    """Arguments as a dict when they are a JSON object; otherwise the text as the model wrote it.

    Keeping invalid text (rather than `{}`) lets the next request show the model exactly what it sent.
    """
    if not arguments.strip():
        return {}
    try:
        value = json.loads(arguments)
    except ValueError:
        return arguments
    return value if isinstance(value, dict) else arguments


def tool_selections_from_message(message: ChatMessage) -> list[ToolSelection]:
    """The tool calls of an assistant message. Arguments that are not a JSON object become `{}`.

    Text arguments are parsed leniently first, so a streamed chunk whose arguments are still arriving yields the
    fields complete so far. `{}` (as llama-index-llms-openai does) lets an agent report the tool's own validation
    error back to the model instead of aborting the run; the LLM warns once when a finished reply has such a call.
    """
    selections = []
    for block in message.blocks:
        if isinstance(block, ToolCallBlock):
            kwargs = block.tool_kwargs if isinstance(block.tool_kwargs, dict) else _lenient_json(block.tool_kwargs)
            selections.append(
                ToolSelection(tool_id=block.tool_call_id or "", tool_name=block.tool_name, tool_kwargs=kwargs)
            )
    return selections


def _lenient_json(text: str) -> dict[str, Any]:
    try:
        value = parse_partial_json(text)
    except (ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


# Reply -> LlamaIndex.


def message_from_reply(reply: Reply) -> ChatMessage:
    """The assistant message of a reply: ThinkingBlock (reasoning), TextBlock (answer), one ToolCallBlock per call."""
    blocks: list[Any] = []
    if reply.reasoning:
        num_tokens = reply.usage.reasoning_tokens if reply.usage and reply.usage.reasoning_tokens else None
        blocks.append(ThinkingBlock(content=reply.reasoning, num_tokens=num_tokens))
    if reply.text:
        blocks.append(TextBlock(text=reply.text))
    blocks.extend(
        ToolCallBlock(
            tool_call_id=call.call_id, tool_name=call.name, tool_kwargs=tool_kwargs_from_arguments(call.arguments)
        )
        for call in reply.tool_calls
    )
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks)


def reply_kwargs(reply: Reply) -> dict[str, Any]:
    """What a ChatResponse carries besides the message: ids, finish reason, token usage and cost."""
    kwargs: dict[str, Any] = {"id": reply.id, "model": reply.model, "finish_reason": reply.finish_reason}
    if reply.refusal:
        kwargs["refusal"] = reply.refusal
    if reply.reasoning_kind:
        kwargs["reasoning_kind"] = reply.reasoning_kind
    if reply.usage is not None:
        usage = reply.usage
        kwargs.update(
            prompt_tokens=usage.input_tokens,
            completion_tokens=usage.output_tokens,
            total_tokens=usage.total_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            cached_tokens=usage.cached_tokens,
        )
    if reply.cost_usd is not None:
        kwargs["cost_usd"] = reply.cost_usd
    return kwargs


def response_from_reply(reply: Reply, *, delta: str | None = None) -> ChatResponse:
    """The ChatResponse of a whole reply; also the last chunk of a stream (with `delta=""`)."""
    return ChatResponse(
        message=message_from_reply(reply), raw=reply.raw, delta=delta, additional_kwargs=reply_kwargs(reply)
    )


def reply_problems(reply: Reply) -> list[tuple[str, type[Warning]]]:
    """What a caller should be warned about in a finished reply (still returned as is), and each warning's class."""
    problem = missing_answer(reply)
    problems: list[tuple[str, type[Warning]]] = [(problem, EmptyAnswerWarning)] if problem else []
    problems.extend(
        (
            f"The model called {call.name!r} (call_id {call.call_id}) with arguments that are not a JSON object; "
            f"get_tool_calls_from_response passes {{}} for them. Arguments: {call.arguments[:200]!r}",
            InvalidToolArgumentsWarning,
        )
        for call in reply.tool_calls
        if isinstance(tool_kwargs_from_arguments(call.arguments), str)
    )
    return problems


def thinking_of(message: ChatMessage) -> str:
    """The reasoning text of a message's ThinkingBlocks."""
    return "\n\n".join(block.content for block in message.blocks if isinstance(block, ThinkingBlock) and block.content)


def completion_from_chat(response: ChatResponse) -> CompletionResponse:
    """A chat response as a completion: the answer text, with the reasoning in `additional_kwargs["thinking"]`."""
    kwargs = dict(response.additional_kwargs)
    thinking = thinking_of(response.message)
    if thinking:
        kwargs["thinking"] = thinking
    return CompletionResponse(
        text=response.message.content or "", additional_kwargs=kwargs, raw=response.raw, delta=response.delta
    )


def user_message(prompt: str) -> list[ChatMessage]:
    return [ChatMessage(role=MessageRole.USER, content=prompt)]


def without_extra_tool_calls(message: ChatMessage) -> ChatMessage:
    """The message with only its first tool call, for callers that did not allow parallel calls."""
    calls = [block for block in message.blocks if isinstance(block, ToolCallBlock)]
    if len(calls) <= 1:
        return message
    kept: Iterable[Any] = (
        block for block in message.blocks if not isinstance(block, ToolCallBlock) or block is calls[0]
    )
    return message.model_copy(update={"blocks": list(kept)})
