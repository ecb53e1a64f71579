"""The README's batch-queue example is code users copy: it must keep passing as written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

README = Path(__file__).parent.parent / "README.md"


def readme_block(marker: str) -> str:
    return README.read_text(encoding="utf-8").split(marker, 1)[1].split("```", 1)[0]


def test_batch_queue_example_passes_against_the_emulator(workers_ai_emulator: Any) -> None:
    workers_ai_emulator.configure(batch_pending_polls=1)
    namespace: dict[str, Any] = {}
    exec(compile(readme_block("# test_batch_queued.py\n"), "README.md", "exec"), namespace)
    namespace["test_batch_queued"](workers_ai_emulator)
    assert [request.query.get("queueRequest") for request in workers_ai_emulator.requests] == ["true", None, None]
