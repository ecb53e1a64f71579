"""`cfai ask "question"`: one question to gpt-oss through the core client, with no framework loaded.

The reasoning is shown apart from the answer (dimmed on a terminal), then usage and cost from the catalog's prices;
`--json` prints the same facts as one JSON object instead. The formatting functions are pure; `ask` is the shell
that picks the target, shows the spinner while the request is under way and prints.
"""

from __future__ import annotations

import dataclasses
import json
import os
import textwrap
from typing import TYPE_CHECKING, Any, TextIO

from cfai.commands import CommandError
from cfai.commands.spinner import Spinner
from cfai.commands.target import target

if TYPE_CHECKING:
    from cfai.wire.types import Reply

__all__ = ["ask", "reply_json", "reply_text"]

_DIM, _RESET = "\x1b[2m", "\x1b[0m"


def ask(
    question: str, *, model: str | None, effort: str | None, as_json: bool, use_emulator: bool, out: TextIO, err: TextIO
) -> int:
    from cfai.catalog import DEFAULT_MODEL
    from cfai.transport import WorkersAIClient  # httpx loads here, not for `cfai --version`
    from cfai.wire import build_request

    try:
        body = build_request(model=model or DEFAULT_MODEL, input=question, reasoning_effort=effort)
    except ValueError as error:  # an empty question or model name, checked before anything starts
        raise CommandError(str(error), status=2) from None
    with target(use_emulator) as where:
        if where.emulator:  # with --json, stdout carries only the JSON
            print(where.first_line, end="\n" if as_json else "\n\n", file=err if as_json else out, flush=True)
        with WorkersAIClient(**where.settings) as client, Spinner("Thinking", err):
            reply = client.create(body)
    if as_json:
        print(reply_json(reply, emulator=where.emulator), file=out)
    else:
        print(reply_text(reply, styled=_styled(out)), file=out)
    return 0


def _styled(out: TextIO) -> bool:
    # https://no-color.org: any non-empty NO_COLOR turns styling off.
    return out.isatty() and not os.environ.get("NO_COLOR")


def reply_text(reply: Reply, *, styled: bool = False) -> str:
    """The reply for a reader: reasoning, answer (or why there is none), then usage and cost."""
    from cfai.wire import missing_answer

    blocks: list[str] = []
    if reply.reasoning:
        reasoning = textwrap.indent(reply.reasoning.strip(), "  ")
        blocks.append("Reasoning:\n" + (f"{_DIM}{reasoning}{_RESET}" if styled else reasoning))
    if reply.refusal:
        blocks.append(f"Refusal:\n{reply.refusal}")
    else:
        blocks.append(f"Answer:\n{reply.text or '(none) ' + (missing_answer(reply) or '')}".rstrip())
    blocks.append(_usage_line(reply))
    return "\n\n".join(blocks)


def _usage_line(reply: Reply) -> str:
    usage = reply.usage
    if usage is None:
        return f"Usage: not reported ({reply.model})"
    tokens = f"{usage.input_tokens} input + {usage.output_tokens} output tokens"
    if usage.reasoning_tokens:
        tokens += f" ({usage.reasoning_tokens} of them reasoning)"
    cost = "cost unknown" if reply.cost_usd is None else f"cost ${reply.cost_usd:.6f}"
    return f"Usage: {tokens}; {cost} ({reply.model})"


def reply_json(reply: Reply, *, emulator: bool) -> str:
    document: dict[str, Any] = {
        "model": reply.model,
        "answer": reply.text,
        "reasoning": reply.reasoning,
        "refusal": reply.refusal or None,
        "status": reply.status,
        "finish_reason": reply.finish_reason,
        "usage": dataclasses.asdict(reply.usage) if reply.usage else None,
        "cost_usd": reply.cost_usd,
        "emulator": emulator,
    }
    return json.dumps(document, ensure_ascii=False, indent=2)
