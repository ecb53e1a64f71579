"""`cfai models`: the catalog (`cfai.catalog`) as two tables, chat models and embedding models, or as JSON.

Pure formatting: the rows come from the catalog's dataclasses, so a model added there shows here unchanged.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from cfai.catalog import DEFAULT_EMBEDDING_MODEL, DEFAULT_MODEL, EMBEDDING_MODELS, MODELS, EmbeddingModelInfo, ModelInfo

__all__ = ["catalog_json", "catalog_tables", "format_table"]

_CHAT_HEADERS = ("MODEL", "CONTEXT", "INPUT $/M", "OUTPUT $/M", "REASONING (* default)")
_EMBEDDING_HEADERS = ("MODEL", "DIMENSIONS", "TOKENS/TEXT", "TEXTS/REQUEST", "INPUT $/M")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool]) -> list[str]:
    """Lines of a plain-text table: columns as wide as their widest cell, numbers right-aligned, text left."""
    widths = [max(len(line[column]) for line in [headers, *rows]) for column in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = (
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(cells, widths, numeric, strict=True)
        )
        return "  ".join(padded).rstrip()

    return [line(headers), *(line(row) for row in rows)]


def _price(value: float | None) -> str:
    if value is None:
        return "-"
    # Three decimals line prices up (Cloudflare's have at most three); more only when a price needs them.
    return f"{value:.3f}" if round(value, 3) == value else f"{value:g}"


def _name(name: str, default: str) -> str:
    return f"{name} (default)" if name == default else name


def _chat_row(info: ModelInfo) -> list[str]:
    efforts = ", ".join(
        f"{effort}*" if effort == info.default_reasoning_effort else effort for effort in info.reasoning_efforts
    )
    return [
        _name(info.name, DEFAULT_MODEL),
        f"{info.context_window:,}",
        _price(info.input_price_per_m),
        _price(info.output_price_per_m),
        efforts or "-",
    ]


def _embedding_row(info: EmbeddingModelInfo) -> list[str]:
    return [
        _name(info.name, DEFAULT_EMBEDDING_MODEL),
        str(info.dimensions),
        f"{info.max_input_tokens:,}",
        str(info.max_batch_size),
        _price(info.input_price_per_m),
    ]


def catalog_tables() -> str:
    chat = format_table(_CHAT_HEADERS, [_chat_row(info) for info in MODELS.values()], (False, True, True, True, False))
    embedding_rows = [_embedding_row(info) for info in EMBEDDING_MODELS.values()]
    embedding = format_table(_EMBEDDING_HEADERS, embedding_rows, (False, True, True, True, True))
    return "\n".join(
        [
            "Chat models (Responses API; prices in USD per million tokens)",
            *chat,
            "",
            "Embedding models (/ai/v1/embeddings; prices in USD per million input tokens)",
            *embedding,
        ]
    )


def catalog_json() -> str:
    return json.dumps(
        {
            "chat_models": [dataclasses.asdict(info) for info in MODELS.values()],
            "embedding_models": [dataclasses.asdict(info) for info in EMBEDDING_MODELS.values()],
            "default_model": DEFAULT_MODEL,
            "default_embedding_model": DEFAULT_EMBEDDING_MODEL,
        },
        indent=2,
    )
