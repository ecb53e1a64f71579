"""`cfai demo`: a tour of both adapters on Workers AI, against the emulator unless credentials are set.

LangChain first: one question with its reasoning, usage and cost, a chain whose model calls a tool and answers from
its result, and a structured answer. Then LlamaIndex: a RAG query over an index built with Workers AI embeddings,
answered by gpt-oss, and an agent that calls a tool. `examples/demo.py` runs the same tour.

Each adapter writes its own part (`langchain_cfai.tour`, `llamaindex_cfai.tour`) and registers it under the
`cfai.tours` entry point group; the command runs what is registered, in name order. The core names no adapter and
no framework: it only asks the package metadata.
"""

from __future__ import annotations

import importlib.util
from importlib.metadata import entry_points
from typing import TextIO

from cfai.commands import CommandError
from cfai.commands.target import target

__all__ = ["TOURS", "WARRANTY_FACTS", "demo", "show"]

# The documents the RAG step indexes; the question shares words with the first only.
WARRANTY_FACTS = (
    "The warranty covers manufacturing defects for two years from purchase.",
    "Returns are accepted within 30 days with the original receipt.",
    "Shipping within the European Union takes three to five business days.",
)
_NEEDED = {"langchain_core": "langchain", "llama_index.core": "llamaindex"}
TOURS = "cfai.tours"  # entry point group: name -> a function (settings, out) that prints one adapter's tour


def demo(*, use_emulator: bool, out: TextIO) -> int:
    missing = [extra for module, extra in _NEEDED.items() if not _installed(module)]
    if missing:
        raise CommandError(f"cfai demo needs LangChain and LlamaIndex: pip install 'cfai[{','.join(missing)}]'")
    tours = sorted(entry_points(group=TOURS), key=lambda entry: entry.name)
    if not tours:
        raise CommandError(f"No {TOURS} entry points: reinstall cfai (pip install -e .) so its metadata lists them")
    with target(use_emulator) as where:
        print(where.first_line, file=out, flush=True)
        for tour in tours:
            tour.load()(where.settings, out)
    return 0


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is missing
        return False


def show(out: TextIO, label: str, value: object, width: int = 200) -> None:
    """One labelled line of the tour, whitespace folded and cut at `width`."""
    text = " ".join(str(value).split())
    print(f"  {label:<10} {text if len(text) <= width else text[: width - 3] + '...'}", file=out, flush=True)
