"""LangChain integration for Cloudflare Workers AI: gpt-oss over the Responses API, and its embedding models.

from langchain_cfai import ChatWorkersAI, WorkersAIEmbeddings

Names load on first use, so importing one class does not import the other's module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cfai.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from langchain_cfai.chat_models import ChatWorkersAI as ChatWorkersAI
    from langchain_cfai.chat_models import ReasoningBudgetWarning as ReasoningBudgetWarning
    from langchain_cfai.embeddings import WorkersAIEmbeddings as WorkersAIEmbeddings

_EXPORTS = {
    "ChatWorkersAI": "langchain_cfai.chat_models",
    "ReasoningBudgetWarning": "langchain_cfai.chat_models",
    "WorkersAIEmbeddings": "langchain_cfai.embeddings",
}
# Public names, from the one table above.
__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
