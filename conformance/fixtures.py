"""Turning recorded traffic into test fixtures: reply bytes as received, the request body beside them, a README line.

Per server, the first successful `/responses` exchange of each kind is kept, taken from the LangChain adapter's
runs (both adapters send the same requests): a plain question, a question with `get_weather` offered, and the tool
result sent back, each as a JSON reply and as an SSE stream. Reply bytes are written unedited; the request body
(never its headers, where the token is) goes to `<name>.request.json`. Rows in `tests/fixtures/README.md` for
files of the same name prefix are replaced, so a new capture of the same server version supersedes the old one.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conformance.processes import Target
from conformance.recording import Exchange

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
_ADAPTER = "langchain"
_KINDS = {
    "text": "a plain question (`What is 2 + 2?`), answered with reasoning",
    "tool-call": "a question with `get_weather` offered, answered with reasoning and a call to it",
    "tool-result": "the `get_weather` result sent back, answered with reasoning and an answer quoting it",
}


def kind_of(body: Any) -> str:
    items = body.get("input") if isinstance(body, dict) else None
    if isinstance(items, list) and any(
        isinstance(item, dict) and item.get("type") == "function_call_output" for item in items
    ):
        return "tool-result"
    return "tool-call" if isinstance(body, dict) and body.get("tools") else "text"


def chosen(target: Target, exchanges: Sequence[Exchange]) -> dict[str, Exchange]:
    """File stem -> exchange: the first successful one of each kind and framing for `target`."""
    picked: dict[str, Exchange] = {}
    for exchange in exchanges:
        if not exchange.label.startswith(f"{target.key} {_ADAPTER} ") or exchange.status != 200:
            continue
        if not exchange.path.endswith("/responses"):
            continue
        stem = f"{target.fixture_prefix}-{kind_of(exchange.request_json())}" + ("-stream" if exchange.streamed else "")
        picked.setdefault(stem, exchange)
    return picked


def write_captures(target: Target, exchanges: Sequence[Exchange], folder: Path = FIXTURES) -> list[Path]:
    """Writes the chosen captures for `target` and their README rows; returns the files written."""
    today = datetime.date.today().isoformat()
    written, rows = [], []
    for stem, exchange in sorted(chosen(target, exchanges).items()):
        reply = folder / (stem + (".sse" if exchange.streamed else ".json"))
        request = folder / f"{stem}.request.json"
        reply.write_bytes(bytes(exchange.reply))
        request.write_text(json.dumps(exchange.request_json(), indent=1, ensure_ascii=False) + "\n")
        written += [reply, request]
        framing = "Responses SSE stream" if exchange.streamed else "Responses JSON reply"
        what = f"{framing} to {_KINDS[kind_of(exchange.request_json())]}"
        provenance = (
            f"captured from {target.provenance}, on loopback, by `python -m conformance --capture` on {today} "
            f"(scenario `{exchange.label.split(' ', 1)[1]}`); unedited"
        )
        rows.append(f"| `{reply.name}` (+ `{request.name}`) | {what} | {provenance} |")
    if rows:
        _update_readme(folder / "README.md", f"| `{target.fixture_prefix}-", rows)
    return written


def _update_readme(path: Path, replaced_prefix: str, rows: list[str]) -> None:
    lines = [line for line in path.read_text().splitlines() if not line.startswith(replaced_prefix)]
    last_row = max(index for index, line in enumerate(lines) if line.startswith("|"))
    lines[last_row + 1 : last_row + 1] = rows
    path.write_text("\n".join(lines) + "\n")
