"""What we know about each model: context window, prices, reasoning efforts, capabilities.

Facts from Cloudflare's model pages and pricing (WIRE.md, Limits and prices). A model not listed here still works:
it gets `UNKNOWN_MODEL_DEFAULTS`, a deliberately cautious profile (a 32,768-token window, no price, tools and
structured output assumed), which callers can override where their framework allows (`context_window=` in
LlamaIndex, `profile=` in LangChain). Looking up a name never raises.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cfai.wire.types import Usage

DEFAULT_MODEL = "@cf/openai/gpt-oss-120b"


@dataclass(frozen=True, slots=True)
class ModelInfo:
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
        if isinstance(usage, Usage):
            input_tokens, output_tokens = usage.input_tokens, usage.output_tokens
        else:
            input_tokens = int(usage.get("input_tokens", usage.get("prompt_tokens", 0)) or 0)
            output_tokens = int(usage.get("output_tokens", usage.get("completion_tokens", 0)) or 0)
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


def get_model_info(model: str) -> ModelInfo:
    """Facts for `model`; names are matched with or without the `@cf/` prefix, unknown names get the defaults."""
    name = model.strip()
    info = MODELS.get(name) or MODELS.get(f"@cf/{name.removeprefix('/')}")
    if info is None and "/" not in name:
        info = MODELS.get(f"@cf/openai/{name}")
    return info or dataclasses.replace(UNKNOWN_MODEL_DEFAULTS, name=name)
