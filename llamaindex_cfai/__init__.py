"""LlamaIndex adapter: Cloudflare Workers AI's gpt-oss models as a LlamaIndex `FunctionCallingLLM`, and its
embedding models as a `BaseEmbedding`.

from llamaindex_cfai import WorkersAI, WorkersAIEmbedding
from llama_index.core import Settings
Settings.llm, Settings.embed_model = WorkersAI(), WorkersAIEmbedding()
"""

from llamaindex_cfai.embedding import WorkersAIEmbedding
from llamaindex_cfai.llm import DEFAULT_NUM_OUTPUT, WorkersAI

__all__ = ["DEFAULT_NUM_OUTPUT", "WorkersAI", "WorkersAIEmbedding"]
