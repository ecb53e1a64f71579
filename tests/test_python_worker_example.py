"""The example Python Worker (examples/python_worker) runs its handler once, with a stand-in `workers` module.

The `workers` module exists only inside Cloudflare's runtime; the stand-in has what the example uses of it
(`WorkerEntrypoint` holding `env`, `Response.json`). The binding is the emulator's (`Emulator.binding()`), as a
Worker's own tests would use it.
"""

from __future__ import annotations

import json
import runpy
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from cfai.emulator import Emulator

EXAMPLE = Path(__file__).parent.parent / "examples" / "python_worker"


class WorkerEntrypoint:
    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env


class Response:
    def __init__(self, body: str, *, headers: dict[str, str] | None = None) -> None:
        self.body = body
        self.headers = headers or {}

    @classmethod
    def json(cls, data: Any) -> Response:
        return cls(json.dumps(data), headers={"content-type": "application/json"})


@pytest.fixture
def entry(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    workers = types.ModuleType("workers")
    workers.WorkerEntrypoint = WorkerEntrypoint  # type: ignore[attr-defined]
    workers.Response = Response  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "workers", workers)
    return runpy.run_path(str(EXAMPLE / "src" / "entry.py"))


async def test_the_worker_answers_through_its_ai_binding(entry: dict[str, Any]) -> None:
    emulator = Emulator()  # its binding serves in-process: no server runs
    binding = emulator.binding()
    worker = entry["Default"](ctx=None, env=types.SimpleNamespace(AI=binding))
    request = types.SimpleNamespace(url="https://cfai-gpt-oss.example.workers.dev/?q=Why+is+the+sky+blue%3F")
    response = await worker.fetch(request)
    body = json.loads(response.body)
    assert body["answer"] == "You asked: Why is the sky blue?"
    assert body["reasoning"] and body["usage"]["total_tokens"] > 0
    ((model, inputs, options),) = binding.calls
    assert model == "@cf/openai/gpt-oss-120b" and options == {}
    assert inputs["input"] == [{"role": "user", "content": "Why is the sky blue?"}]
    (request,) = emulator.requests
    assert request.path.endswith("/ai/run/@cf/openai/gpt-oss-120b") and request.json == inputs


def test_the_wrangler_config_declares_the_ai_binding_and_the_entry_point() -> None:
    text = (EXAMPLE / "wrangler.jsonc").read_text()
    config = json.loads("\n".join(line for line in text.splitlines() if not line.strip().startswith("//")))
    assert config["ai"] == {"binding": "AI"}
    assert (EXAMPLE / config["main"]).is_file()
    assert "python_workers" in config["compatibility_flags"]
    assert 'dependencies = ["cfai[langchain]"]' in (EXAMPLE / "pyproject.toml").read_text()
