"""cfai: Cloudflare Workers AI's gpt-oss models over the Responses API, shared by the LangChain and LlamaIndex adapters.

    from cfai import WorkersAIClient, get_model_info

Names load on first use: importing `cfai` (which the adapters and the emulator's pytest plugin do) costs nothing
until a client or the catalog is actually needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cfai.lazy_exports import lazy_exports
from cfai.version import __version__ as __version__

if TYPE_CHECKING:
    from cfai.catalog import DEFAULT_MODEL as DEFAULT_MODEL
    from cfai.catalog import ModelInfo as ModelInfo
    from cfai.catalog import get_model_info as get_model_info
    from cfai.config import ConfigurationError as ConfigurationError
    from cfai.config import StreamMode as StreamMode
    from cfai.transport import AsyncWorkersAIClient as AsyncWorkersAIClient
    from cfai.transport import WorkersAIClient as WorkersAIClient

_EXPORTS = {
    "DEFAULT_MODEL": "cfai.catalog",
    "ModelInfo": "cfai.catalog",
    "get_model_info": "cfai.catalog",
    "ConfigurationError": "cfai.config",
    "StreamMode": "cfai.config",
    "AsyncWorkersAIClient": "cfai.transport",
    "WorkersAIClient": "cfai.transport",
}

__all__ = sorted(
    [
        *_EXPORTS,
        "__version__",
    ]
)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
