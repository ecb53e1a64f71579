"""The README's batch-queue example is code users copy: it must keep passing as written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfai.emulator import Emulator

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_batch_queue_example_passes_against_the_emulator(workers_ai_emulator: Emulator) -> None:
    block = README.read_text(encoding="utf-8").split("# test_batch_queue.py\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    (test,) = (value for name, value in namespace.items() if name.startswith("test_"))
    test(workers_ai_emulator)
    assert len(workers_ai_emulator.requests) == 2
