"""LangChain integration for Cloudflare Workers AI: gpt-oss over the Responses API, and its embedding models.

from langchain_cfai import ChatWorkersAI, WorkersAIEmbeddings
"""

from langchain_cfai.chat_models import ChatWorkersAI, ReasoningBudgetWarning
from langchain_cfai.embeddings import WorkersAIEmbeddings

__all__ = ["ChatWorkersAI", "ReasoningBudgetWarning", "WorkersAIEmbeddings"]
