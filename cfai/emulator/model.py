"""The deterministic, rule-based stand-in for gpt-oss: a `Prompt` in, a `Turn` out, no I/O.

Rules, in order (the same for the Responses, run and Chat Completions surfaces):

1. The last input items are tool results (`function_call_output`): answer from them
   ("Based on get_weather: sunny"), or as JSON when an output format is set.
2. Tools are offered and `tool_choice` is not "none": the forced tool, else the tools the last user message
   mentions (in order; one call if `parallel_tool_calls` is false), else the first tool; each call's arguments are
   synthesised from the tool's JSON schema and the part of the message that concerns it (`tool_plan.py`).
3. The instructions are a ReAct prompt (tools described in the text, `prompt_protocols.py`): answer in its format,
   one `Action:` per turn for the calls rule 2 would make, then, once every call has its `Observation:`, an
   `Answer:` quoting the observations.
4. An output format is set: JSON synthesised from the `json_schema` schema, or for `json_object` an object with
   the keys the prompt quotes (`{"answer": ...}` when it quotes none).
5. The last user message holds a JSON schema to follow (LlamaIndex's `LLMTextCompletionProgram`): JSON synthesised
   from it, as text.
6. Otherwise: an answer that quotes the user's last message.

A reasoning text always comes first and grows with the effort. Token counts come from `tokens.py`;
`max_output_tokens` (or what is left of the context window) bounds reasoning + answer: the answer is truncated and
the turn marked incomplete, and a budget the reasoning alone exhausts leaves no answer at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from cfai.emulator.envelope import FORCED_TOOL_BUDGET, CloudflareError, bad_input
from cfai.emulator.prompt_facts import ValuePool, quoted_phrases
from cfai.emulator.prompt_protocols import ReactConversation, embedded_schema, react_conversation
from cfai.emulator.schema_synth import synthesize
from cfai.emulator.tokens import count_tokens, truncate_tokens
from cfai.emulator.tool_plan import Tool, plan_calls

ITEM_OVERHEAD_TOKENS = 4  # per input item, like the role and separator tokens of a chat template
_QUESTION_PREVIEW_TOKENS = 24
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EFFORT_SUFFIX = {
    "low": "",
    "medium": " Keep the answer short and accurate.",
    "high": " Check every detail of the request before answering. Keep the answer short and accurate.",
}


@dataclass(frozen=True)
class Prompt:
    """A request, whatever surface it came from. `items` are Responses input items (messages typed "message")."""

    model: str
    items: tuple[Mapping[str, Any], ...]
    instructions: str = ""
    tools: tuple[Tool, ...] = ()
    tool_choice: str = "auto"  # "auto" | "none" | "required"
    forced_tool: str | None = None
    parallel_tool_calls: bool = True
    # {"type": "json_schema", "name", "schema"} or {"type": "json_object"}; None for plain text
    output_format: Mapping[str, Any] | None = None
    effort: str = "medium"
    max_output_tokens: int | None = None
    context_window: int = 128_000


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: str  # a JSON string, as on the wire


@dataclass(frozen=True)
class Turn:
    reasoning: str
    text: str | None
    tool_calls: tuple[ToolCall, ...] = ()
    incomplete: bool = False
    input_tokens: int = 0
    cached_tokens: int = 0

    @cached_property
    def reasoning_tokens(self) -> int:
        return count_tokens(self.reasoning)

    @cached_property
    def output_tokens(self) -> int:
        answer = count_tokens(self.text or "")
        calls = sum(count_tokens(call.name) + count_tokens(call.arguments) for call in self.tool_calls)
        return self.reasoning_tokens + answer + calls


def respond(prompt: Prompt) -> Turn:
    """The model's reply to `prompt` (raises `CloudflareError` for a context overflow or an impossible budget)."""
    input_tokens = sum(tokens for _, tokens in input_units(prompt))
    budget = _output_budget(prompt, input_tokens)
    turn = _decide(prompt, last_user_text(prompt.items))
    return _fit_budget(replace(turn, input_tokens=input_tokens), budget, forced=prompt.forced_tool is not None)


def _decide(prompt: Prompt, question: str) -> Turn:
    """The rules of the module docstring, in order."""
    results = pending_tool_results(prompt.items)
    if results:
        return _answer_from_tools(prompt, question, results)
    if prompt.tools and prompt.tool_choice != "none":
        return _call_tools(prompt, question)
    react = _react_conversation(prompt)
    if react is not None:
        return _react_step(prompt, react)
    if prompt.output_format is not None:
        return _structured(prompt, question, question)
    embedded = embedded_schema(question)
    if embedded is not None:
        schema, source_text = embedded
        value = synthesize(schema, ValuePool(source_text))
        plan = "The user gives a JSON schema to follow. Fill it from the prompt and answer with the JSON only."
        return Turn(reasoning=_reasoning(plan, prompt), text=json.dumps(value, ensure_ascii=False))
    return _echo(prompt, question)


def input_units(prompt: Prompt) -> list[tuple[str, int]]:
    """The prompt as (canonical text, tokens) units: instructions and tools first, then one unit per item.

    Units make usage and prompt-prefix caching agree: a request that starts with the units of an earlier one has
    those units' tokens cached.
    """
    tools = [{"name": t.name, "description": t.description, "parameters": t.parameters} for t in prompt.tools]
    header = json.dumps({"instructions": prompt.instructions, "tools": tools}, sort_keys=True, ensure_ascii=False)
    header_tokens = count_tokens(prompt.instructions) + sum(count_tokens(json.dumps(tool)) for tool in tools)
    units = [(header, header_tokens + ITEM_OVERHEAD_TOKENS)]
    for item in prompt.items:
        canonical = json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)
        units.append((canonical, count_tokens(item_text(item)) + ITEM_OVERHEAD_TOKENS))
    return units


def item_text(item: Mapping[str, Any]) -> str:
    """The text an input item contributes to the prompt."""
    kind = item.get("type", "message")
    if kind == "function_call":
        return f"{item.get('name', '')} {item.get('arguments', '')}"
    if kind == "function_call_output":
        return str(item.get("output", ""))
    if kind == "reasoning":
        return " ".join(str(part.get("text", "")) for part in item.get("content") or [])
    return content_text(item.get("content"))


def content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [part.get("text") or part.get("refusal") or "" for part in content if isinstance(part, Mapping)]
        return "\n".join(text for text in texts if text)
    return ""


def last_user_text(items: Sequence[Mapping[str, Any]]) -> str:
    for item in reversed(items):
        if item.get("type", "message") == "message" and item.get("role") == "user":
            return content_text(item.get("content")).strip()
    return ""


def pending_tool_results(items: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(tool name, output) of the trailing `function_call_output` items: the results the model must answer from."""
    names = {item.get("call_id"): item.get("name", "tool") for item in items if item.get("type") == "function_call"}
    results: list[tuple[str, str]] = []
    for item in reversed(items):
        if item.get("type") != "function_call_output":
            break
        results.insert(0, (str(names.get(item.get("call_id"), "tool")), str(item.get("output", ""))))
    return results


def _output_budget(prompt: Prompt, input_tokens: int) -> int:
    requested = prompt.max_output_tokens or 0
    if input_tokens + requested > prompt.context_window:
        raise bad_input(
            f"This model's maximum context length is {prompt.context_window} tokens. However, you requested "
            f"{input_tokens + requested} tokens ({input_tokens} in the messages, {requested} in the completion). "
            "Please reduce the length of the messages or completion."
        )
    return prompt.max_output_tokens or prompt.context_window - input_tokens


def _reasoning(plan: str, prompt: Prompt) -> str:
    return plan + _EFFORT_SUFFIX.get(prompt.effort, _EFFORT_SUFFIX["medium"])


def _preview(text: str) -> str:
    short = truncate_tokens(text, _QUESTION_PREVIEW_TOKENS)
    return short if short == text else short + " …"


def _echo(prompt: Prompt, question: str) -> Turn:
    plan = f'The user asks: "{_preview(question)}". Answer directly.'
    return Turn(reasoning=_reasoning(plan, prompt), text=f"You asked: {question}")


def _answer_from_tools(prompt: Prompt, question: str, results: list[tuple[str, str]]) -> Turn:
    if prompt.output_format is not None:
        context = "\n".join([question, *(output for _, output in results)])
        return _structured(prompt, question, context)
    names = ", ".join(dict.fromkeys(name for name, _ in results))
    plan = f"The tool results from {names} are in. Use them to answer the question."
    return Turn(reasoning=_reasoning(plan, prompt), text=_based_on(results))


def _based_on(results: Sequence[tuple[str, str]]) -> str:
    return "Based on " + "; ".join(f"{name}: {output}" for name, output in results)


def _structured(prompt: Prompt, question: str, source_text: str) -> Turn:
    output_format = prompt.output_format or {}
    pool = ValuePool(source_text)
    if output_format.get("type") == "json_schema":
        value = synthesize(output_format.get("schema") or {}, pool)
        plan = f'The user wants JSON for the schema "{output_format.get("name", "response")}". Fill it from the prompt.'
    else:
        # json_object has no schema: use the keys the prompt quotes ("... with 'setup' and 'punchline' keys")
        keys = [phrase for phrase in quoted_phrases(question) if _IDENTIFIER.fullmatch(phrase)] or ["answer"]
        properties = {key: {"type": "string"} for key in keys}
        value = synthesize({"type": "object", "properties": properties}, ValuePool(source_text, exclude=keys))
        plan = f"The user wants a JSON object with the keys {', '.join(keys)}."
    return Turn(reasoning=_reasoning(plan, prompt), text=json.dumps(value, ensure_ascii=False))


def _call_tools(prompt: Prompt, question: str) -> Turn:
    plan = plan_calls(prompt.tools, question, forced=prompt.forced_tool, parallel=prompt.parallel_tool_calls)
    calls = tuple(ToolCall(call.tool.name, _arguments(call.tool, call.pool)) for call in plan)
    names = " and ".join(dict.fromkeys(call.name for call in calls))
    plan_text = f'The user asks: "{_preview(question)}". I should call {names}.'
    return Turn(reasoning=_reasoning(plan_text, prompt), text=None, tool_calls=calls)


def _react_conversation(prompt: Prompt) -> ReactConversation | None:
    messages = [
        (str(item.get("role")), content_text(item.get("content")))
        for item in prompt.items
        if item.get("type", "message") == "message"
    ]
    system = "\n".join([prompt.instructions, *(text for role, text in messages if role in ("system", "developer"))])
    return react_conversation(system, messages)


def _react_step(prompt: Prompt, react: ReactConversation) -> Turn:
    """The next ReAct step: the next planned call as an Action, or the Answer once every call was observed."""
    calls = plan_calls(react.tools, react.question)
    if len(react.steps) >= len(calls):
        plan = "Every tool result is in. Answer in the ReAct format."
        thought = "Thought: I can answer without using any more tools. I'll use the user's language to answer"
        return Turn(reasoning=_reasoning(plan, prompt), text=f"{thought}\nAnswer: {_based_on(react.steps)}")
    call = calls[len(react.steps)]
    arguments = json.dumps(synthesize(call.tool.parameters or {}, call.pool), ensure_ascii=False)
    plan = f'The user asks: "{_preview(react.question)}". Per the ReAct format, I should use {call.tool.name}.'
    thought = "Thought: I need to use a tool to help me answer the question."
    return Turn(
        reasoning=_reasoning(plan, prompt),
        text=f"{thought}\nAction: {call.tool.name}\nAction Input: {arguments}",
    )


def _arguments(tool: Tool, pool: ValuePool) -> str:
    schema = tool.parameters or {"type": "object", "properties": {}}
    return json.dumps(synthesize(schema, pool), ensure_ascii=False, separators=(",", ":"))


def _fit_budget(turn: Turn, budget: int, *, forced: bool) -> Turn:
    if turn.reasoning_tokens >= budget:
        reasoning = truncate_tokens(turn.reasoning, budget)
        return replace(turn, reasoning=reasoning, text=None, tool_calls=(), incomplete=True)
    if turn.output_tokens <= budget:
        return turn
    if turn.tool_calls:
        if forced:
            raise CloudflareError(
                400, FORCED_TOOL_BUDGET, "AiError: max_tokens is too small to complete the forced tool call"
            )
        return replace(turn, tool_calls=(), incomplete=True)
    left = budget - turn.reasoning_tokens
    return replace(turn, text=truncate_tokens(turn.text or "", left), incomplete=True)
