"""What we know about each model: context window, prices, reasoning efforts, capabilities.

Facts from Cloudflare's model pages and pricing (docs/wire.md, Limits and prices). A model not listed here still works:
it gets `UNKNOWN_MODEL_DEFAULTS`, a deliberately cautious profile (a 32,768-token window, no price, tools and
structured output assumed), which callers can override where their framework allows (`context_window=` in
LlamaIndex, `profile=` in LangChain). Looking up a name never raises.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cfai.wire.types import Usage

DEFAULT_MODEL = "@cf/openai/gpt-oss-120b"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A chat model: context window, output cap, prices per million tokens, reasoning efforts, capabilities."""

    name: str
    context_window: int
    # Cloudflare documents no separate output cap: output shares the window with the input.
    max_output_tokens: int
    input_price_per_m: float | None
    output_price_per_m: float | None
    reasoning_efforts: tuple[str, ...] = ("low", "medium", "high")
    default_reasoning_effort: str | None = "medium"
    supports_tools: bool = True
    supports_structured_output: bool = True
    supports_parallel_tool_calls: bool = True
    input_modalities: tuple[str, ...] = ("text",)
    known: bool = True

    @property
    def supports_reasoning(self) -> bool:
        return bool(self.reasoning_efforts)

    def cost(self, usage: Usage | Mapping[str, Any] | None) -> float | None:
        """USD for one reply's usage, or None when the price is unknown. Cached input is billed as input."""
        if usage is None or self.input_price_per_m is None or self.output_price_per_m is None:
            return None
        if isinstance(usage, Mapping):
            input_tokens = int(usage.get("input_tokens", usage.get("prompt_tokens", 0)) or 0)
            output_tokens = int(usage.get("output_tokens", usage.get("completion_tokens", 0)) or 0)
        else:
            input_tokens, output_tokens = usage.input_tokens, usage.output_tokens
        return (input_tokens * self.input_price_per_m + output_tokens * self.output_price_per_m) / 1_000_000


_GPT_OSS_WINDOW = 128_000

MODELS: Mapping[str, ModelInfo] = {
    info.name: info
    for info in (
        ModelInfo("@cf/openai/gpt-oss-120b", _GPT_OSS_WINDOW, _GPT_OSS_WINDOW, 0.35, 0.75),
        ModelInfo("@cf/openai/gpt-oss-20b", _GPT_OSS_WINDOW, _GPT_OSS_WINDOW, 0.20, 0.30),
    )
}

UNKNOWN_MODEL_DEFAULTS = ModelInfo(
    name="",
    context_window=32_768,
    max_output_tokens=4_096,
    input_price_per_m=None,
    output_price_per_m=None,
    default_reasoning_effort=None,
    known=False,
)


@dataclass(frozen=True, slots=True)
class EmbeddingModelInfo:
    """An embedding model: vector size, per-text and per-request input limits, and price."""

    name: str
    dimensions: int
    max_input_tokens: int
    # Texts per request Cloudflare accepts; longer lists are split into several requests.
    max_batch_size: int
    input_price_per_m: float | None
    known: bool = True

    def cost(self, input_tokens: int) -> float | None:
        """USD for embedding `input_tokens` tokens, or None when the price is unknown."""
        return None if self.input_price_per_m is None else input_tokens * self.input_price_per_m / 1_000_000


DEFAULT_EMBEDDING_MODEL = "@cf/baai/bge-m3"

# Dimensions and limits from Cloudflare's model pages (bge-*: 512 tokens per text for the English models, 100 texts
# per call); bge-m3's window is Cloudflare's, the rest follow the model cards. Prices per million input tokens.
EMBEDDING_MODELS: Mapping[str, EmbeddingModelInfo] = {
    info.name: info
    for info in (
        EmbeddingModelInfo("@cf/baai/bge-small-en-v1.5", 384, 512, 100, 0.020),
        EmbeddingModelInfo("@cf/baai/bge-base-en-v1.5", 768, 512, 100, 0.067),
        EmbeddingModelInfo("@cf/baai/bge-large-en-v1.5", 1024, 512, 100, 0.204),
        EmbeddingModelInfo("@cf/baai/bge-m3", 1024, 60_000, 100, 0.012),
        EmbeddingModelInfo("@cf/google/embeddinggemma-300m", 768, 2_048, 100, 0.012),
        EmbeddingModelInfo("@cf/qwen/qwen3-embedding-0.6b", 1024, 8_192, 32, 0.012),
        EmbeddingModelInfo("@cf/pfnet/plamo-embedding-1b", 2048, 4_096, 100, 0.019),
    )
}


def _lookup(table: Mapping[str, Any], model: str) -> Any:
    name = model.strip()
    info = table.get(name) or table.get(f"@cf/{name.removeprefix('/')}")
    if info is None and "/" not in name:
        info = next((known for key, known in table.items() if key.rsplit("/", 1)[-1] == name), None)
    return info


def get_embedding_model_info(model: str) -> EmbeddingModelInfo | None:
    """Facts for an embedding model, matched like `get_model_info`; None for a name not in the catalog."""
    info: EmbeddingModelInfo | None = _lookup(EMBEDDING_MODELS, model)
    return info


def get_model_info(model: str) -> ModelInfo:
    """Facts for `model`; names are matched with or without the `@cf/` prefix, unknown names get the defaults."""
    info: ModelInfo | None = _lookup(MODELS, model)
    return info or dataclasses.replace(UNKNOWN_MODEL_DEFAULTS, name=model.strip())
