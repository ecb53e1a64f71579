"""What a worker process runs in the fan-out tests: importable by name, as `spawn` and Ray need it to be."""

from __future__ import annotations

import os
from typing import Any


def ask(model: Any, prompt: str) -> tuple[int, str]:
    """The answer of a model that travelled to this process (pickled), with the process id that got it."""
    if hasattr(model, "invoke"):  # LangChain
        return os.getpid(), str(model.invoke(prompt).content)
    return os.getpid(), str(model.complete(prompt).text)  # LlamaIndex
