"""LlamaIndex adapter: Cloudflare Workers AI's gpt-oss models as a LlamaIndex `FunctionCallingLLM`.

from llamaindex_cfai import WorkersAI
from llama_index.core import Settings
Settings.llm = WorkersAI()
"""

from llamaindex_cfai.llm import DEFAULT_NUM_OUTPUT, WorkersAI

__all__ = ["DEFAULT_NUM_OUTPUT", "WorkersAI"]
