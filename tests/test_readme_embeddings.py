"""The README's embeddings example is code users copy: run as written, with only the environment pointing it at the
emulator, it must embed, retrieve the right fact, and answer from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfai.emulator import Emulator

README = Path(__file__).parent.parent / "README.md"


def test_embeddings_example_runs_against_the_emulator(workers_ai_env: Emulator) -> None:
    block = README.read_text(encoding="utf-8").split("# rag_on_cloudflare.py\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}

    exec(compile(block, "README.md", "exec"), namespace)

    facts = namespace["facts"]
    assert [len(vector) for vector in namespace["vectors"]] == [1024, 1024] and len(namespace["query"]) == 1024
    assert namespace["best"] == facts[0] == "The warranty covers defects for two years."
    answer = namespace["answer"]
    assert answer.source_nodes[0].node.get_content() == facts[0] and facts[0] in str(answer)
    routes = [request.path.rsplit("/", 1)[-1] for request in workers_ai_env.requests]
    assert routes.count("embeddings") == 6 and routes[-1] == "responses"
