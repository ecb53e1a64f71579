"""cfai: Cloudflare Workers AI's gpt-oss models over the Responses API, shared by the LangChain and LlamaIndex adapters.

    from cfai import WorkersAIClient, get_model_info

Names load on first use: importing `cfai` (which the adapters and the emulator's pytest plugin do) costs nothing
until a client or the catalog is actually needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cfai.lazy_exports import lazy_exports
from cfai.version import __version__

if TYPE_CHECKING:
    from cfai.catalog import DEFAULT_MODEL, ModelInfo, get_model_info
    from cfai.config import ConfigurationError, StreamMode
    from cfai.transport import AsyncWorkersAIClient, WorkersAIClient

_EXPORTS = {
    "DEFAULT_MODEL": "cfai.catalog",
    "ModelInfo": "cfai.catalog",
    "get_model_info": "cfai.catalog",
    "ConfigurationError": "cfai.config",
    "StreamMode": "cfai.config",
    "AsyncWorkersAIClient": "cfai.transport",
    "WorkersAIClient": "cfai.transport",
}

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


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
