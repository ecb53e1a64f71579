"""A tour of cfai: gpt-oss and Workers AI embeddings through LangChain and LlamaIndex, the same as `cfai demo`.

    python examples/demo.py              # the local emulator on 127.0.0.1, unless CLOUDFLARE_API_TOKEN is set
    python examples/demo.py --emulator   # the emulator even with credentials

Against the emulator, answers are deterministic stand-ins (they echo the question and use tool results), so the
output shows the plumbing (reasoning, tool calls, retrieval, usage, cost), not model quality. The tour itself is
`langchain_cfai.tour` and `llamaindex_cfai.tour`, run by `cfai.commands.demo`.
"""

from __future__ import annotations

import sys

from cfai.cli import main as cfai


def main(argv: list[str] | None = None) -> int:
    return cfai(["demo", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
