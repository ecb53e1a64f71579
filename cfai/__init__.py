"""cfai: Cloudflare Workers AI's gpt-oss models over the Responses API, shared by the LangChain and LlamaIndex adapters.

    from cfai import WorkersAIClient, get_model_info
"""

from cfai.catalog import DEFAULT_MODEL, ModelInfo, get_model_info
from cfai.config import ConfigurationError, StreamMode
from cfai.transport import AsyncWorkersAIClient, WorkersAIClient
from cfai.version import __version__

__all__ = [
    "DEFAULT_MODEL",
    "AsyncWorkersAIClient",
    "ConfigurationError",
    "ModelInfo",
    "StreamMode",
    "WorkersAIClient",
    "__version__",
    "get_model_info",
]
