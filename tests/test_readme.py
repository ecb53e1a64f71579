"""The README's offline-testing example is code users copy: it must keep passing as written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

README = Path(__file__).parent.parent / "README.md"


def readme_block(marker: str) -> str:
    """The code that follows `marker` inside one fenced block of the README."""
    return README.read_text(encoding="utf-8").split(marker, 1)[1].split("```", 1)[0]


def test_offline_example_passes_against_the_emulator(workers_ai_emulator: Any) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(readme_block("# test_my_chain.py\n"), "README.md", "exec"), namespace)
    tests = {name: value for name, value in namespace.items() if name.startswith("test_")}
    assert len(tests) == 3
    for test in tests.values():
        workers_ai_emulator.reset()
        test(workers_ai_emulator)
