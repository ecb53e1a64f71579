"""The embeddings surfaces: OpenAI-compatible `/ai/v1/embeddings` and the native `/ai/run/@cf/baai/bge-...`.

Requests are checked like Cloudflare checks them (docs/wire.md, "Embeddings"): non-empty strings only (token-id
arrays are refused), at most the model's `max_batch_size` texts per call, at most its `max_input_tokens` per text;
the numbers come from `cfai.catalog`. Replies: OpenAI's `{"object": "list", "data": [...], "usage"}`, or the native
`{"shape": [n, d], "data": [[...]], "pooling"}` (which carries no usage). Vectors come from `embedding_model.py`.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from cfai.catalog import EMBEDDING_MODELS, EmbeddingModelInfo
from cfai.emulator.embedding_model import POOLINGS, Pooling, embed
from cfai.emulator.envelope import NO_SUCH_MODEL, CloudflareError, bad_input
from cfai.emulator.tokens import count_tokens

_ENCODINGS = ("float", "base64")


@dataclass(frozen=True)
class EmbeddingRequest:
    """A checked request: the model's facts, its texts, and how vectors are pooled."""

    info: EmbeddingModelInfo
    texts: tuple[str, ...]
    pooling: Pooling = "mean"

    @property
    def input_tokens(self) -> int:
        return sum(count_tokens(text) for text in self.texts)

    def vectors(self) -> list[list[float]]:
        return [embed(text, self.info.dimensions, self.pooling) for text in self.texts]


def model_info(name: Any, served: Collection[str]) -> EmbeddingModelInfo:
    """The catalog's facts for an embedding model the emulator serves; else 400/5007 like an unknown chat model."""
    if not isinstance(name, str) or not name:
        raise bad_input("Error: required properties at '/' are 'model'")
    info = EMBEDDING_MODELS.get(name)
    if info is None or name not in served:
        raise CloudflareError(400, NO_SUCH_MODEL, f"No such model {name} or task")
    return info


def openai_request(body: Mapping[str, Any], served: Collection[str]) -> tuple[EmbeddingRequest, str]:
    """(the request, its `encoding_format`) from an OpenAI-style body `{"model", "input", ...}`."""
    info = model_info(body.get("model"), served)
    if "input" not in body:
        raise bad_input("Error: required properties at '/' are 'input'")
    encoding = body.get("encoding_format", "float")
    if encoding not in _ENCODINGS:
        raise bad_input(f"Error: enum at '/encoding_format' not met: must be one of {', '.join(_ENCODINGS)}")
    dimensions = body.get("dimensions")
    if dimensions is not None and dimensions != info.dimensions:
        raise bad_input(f"Error: '/dimensions' not met: {info.name} returns {info.dimensions} dimensions only")
    return EmbeddingRequest(info, check_texts(body["input"], "/input", info)), str(encoding)


def native_request(body: Mapping[str, Any], info: EmbeddingModelInfo, where: str = "") -> EmbeddingRequest:
    """The request from a native body `{"text": str | [str], "pooling"?}` (`where`: its place in a batch)."""
    if "text" not in body:
        raise bad_input(f"Error: required properties at '{where or '/'}' are 'text'")
    pooling = body.get("pooling", "mean")
    if pooling not in POOLINGS:
        raise bad_input(f"Error: enum at '{where}/pooling' not met: must be one of {', '.join(POOLINGS)}")
    return EmbeddingRequest(info, check_texts(body["text"], f"{where}/text", info), pooling)


def check_texts(value: Any, where: str, info: EmbeddingModelInfo) -> tuple[str, ...]:
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list):
        raise bad_input(f"Error: oneOf at '{where}' not met: must be a string or an array of strings")
    if not texts:
        raise bad_input(f"Error: minItems at '{where}' not met: at least one text is required")
    if any(not isinstance(text, str) for text in texts):
        raise bad_input(
            f"Error: oneOf at '{where}' not met: must be a string or an array of strings "
            "(token ids are not accepted: send the texts themselves)"
        )
    if len(texts) > info.max_batch_size:
        raise bad_input(
            f"Error: maxItems at '{where}' not met: {info.name} takes at most {info.max_batch_size} texts per "
            f"request, got {len(texts)}"
        )
    for index, text in enumerate(texts):
        place = where if isinstance(value, str) else f"{where}/{index}"
        if not text:
            raise bad_input(f"Error: minLength at '{place}' not met: a text must not be empty")
        tokens = count_tokens(text)
        if tokens > info.max_input_tokens:
            raise bad_input(
                f"Error: maxLength at '{place}' not met: the text has {tokens} tokens, {info.name} takes at most "
                f"{info.max_input_tokens}"
            )
    return tuple(texts)


def openai_reply(request: EmbeddingRequest, encoding: str = "float") -> dict[str, Any]:
    data = [
        {"object": "embedding", "index": index, "embedding": _encoded(vector, encoding)}
        for index, vector in enumerate(request.vectors())
    ]
    tokens = request.input_tokens
    return {
        "object": "list",
        "data": data,
        "model": request.info.name,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def native_result(request: EmbeddingRequest) -> dict[str, Any]:
    vectors = request.vectors()
    return {"shape": [len(vectors), request.info.dimensions], "data": vectors, "pooling": request.pooling}


def _encoded(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "base64":  # little-endian float32, as OpenAI's clients decode it
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector
