"""LangChain integration for Cloudflare Workers AI's gpt-oss models, over the Responses API.

from langchain_cfai import ChatWorkersAI
"""

from langchain_cfai.chat_models import ChatWorkersAI, ReasoningBudgetWarning

__all__ = ["ChatWorkersAI", "ReasoningBudgetWarning"]
