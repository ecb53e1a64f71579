"""LlamaIndex adapter: Cloudflare Workers AI's gpt-oss models as a LlamaIndex `FunctionCallingLLM`, and its
embedding models as a `BaseEmbedding`.

from llamaindex_cfai import WorkersAI, WorkersAIEmbedding
from llama_index.core import Settings
Settings.llm, Settings.embed_model = WorkersAI(), WorkersAIEmbedding()

Names load on first use, so importing one class does not import the other's module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cfai.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from llamaindex_cfai.embedding import WorkersAIEmbedding as WorkersAIEmbedding
    from llamaindex_cfai.llm import DEFAULT_NUM_OUTPUT as DEFAULT_NUM_OUTPUT
    from llamaindex_cfai.llm import WorkersAI as WorkersAI

_EXPORTS = {
    "DEFAULT_NUM_OUTPUT": "llamaindex_cfai.llm",
    "WorkersAI": "llamaindex_cfai.llm",
    "WorkersAIEmbedding": "llamaindex_cfai.embedding",
}
# Public names, from the one table above.
__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
