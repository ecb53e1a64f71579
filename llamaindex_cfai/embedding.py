"""`WorkersAIEmbedding`: Cloudflare Workers AI's embedding models as a LlamaIndex `BaseEmbedding`.

The class holds settings and the thin sync/async shells LlamaIndex calls; batching, request bodies and reply parsing
are `cfai.embeddings`, the wire work is `cfai`'s clients. The connection settings, the clients behind them and
`close`/`with` come from `cfai.model_fields.ConnectionFields`, shared with `WorkersAI` and the LangChain adapter.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.bridge.pydantic import ConfigDict, Field, model_validator
from pydantic import AliasChoices

from cfai.catalog import DEFAULT_EMBEDDING_MODEL
from cfai.config import resolve_config
from cfai.embeddings import DEFAULT_MAX_CONCURRENCY, aembed, embed, texts_per_request
from cfai.model_fields import ConnectionFields

__all__ = ["WorkersAIEmbedding"]


class WorkersAIEmbedding(ConnectionFields, BaseEmbedding):
    """Cloudflare Workers AI text embeddings (`/ai/v1/embeddings`), for indexes and retrievers.

        from llama_index.core import Settings, VectorStoreIndex
        from llamaindex_cfai import WorkersAI, WorkersAIEmbedding

        Settings.llm, Settings.embed_model = WorkersAI(), WorkersAIEmbedding()   # @cf/baai/bge-m3
        index = VectorStoreIndex.from_documents(documents)

    Credentials and every connection setting are those of `WorkersAI`, with the same environment defaults, checked
    at construction. `embed_batch_size` defaults to the model's texts per request (100 for the bge models, from
    `cfai.catalog`); a larger one is split into requests Cloudflare accepts, `max_concurrency` of them at once on
    the async path. An empty text is a `ValueError`, before any request: Workers AI refuses empty texts. Inside a
    Python Worker, `binding=self.env.AI` embeds through the Worker's AI binding instead, with the async methods
    (`cfai.binding`).
    """

    # Unknown arguments are refused rather than dropped; their values stay out of the error (a token could be one).
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, hide_input_in_errors=True)
    binding_async_methods = "`await embed_model.aget_text_embedding_batch(...)`, `aget_query_embedding`"

    model_name: str = Field(
        default=DEFAULT_EMBEDDING_MODEL,
        min_length=1,
        validation_alias=AliasChoices("model_name", "model"),
        description="Workers AI embedding model, e.g. @cf/baai/bge-m3 (also accepted as model=).",
    )
    max_concurrency: int = Field(
        default=DEFAULT_MAX_CONCURRENCY, gt=0, strict=True, description="Requests in flight at once (async)."
    )

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        # Fail at construction, as WorkersAI does, when the token or account id is missing or invalid; a Workers
        # binding needs neither.
        if self.binding is None:
            resolve_config(**self.client_settings())

    @model_validator(mode="before")
    @classmethod
    def _batch_size_from_catalog(cls, data: Any) -> Any:
        # LlamaIndex's default of 10 texts per call would send ten times the requests Cloudflare needs.
        if not isinstance(data, dict) or data.get("embed_batch_size") is not None:
            return data
        model = data.get("model_name") or data.get("model") or DEFAULT_EMBEDDING_MODEL
        return {**data, "embed_batch_size": texts_per_request(model)} if isinstance(model, str) else data

    @classmethod
    def class_name(cls) -> str:
        return "WorkersAIEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return embed(self.client, self.model_name, [query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return (await aembed(self.async_client, self.model_name, [query]))[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return embed(self.client, self.model_name, [text])[0]

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return (await aembed(self.async_client, self.model_name, [text]))[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return embed(self.client, self.model_name, texts, self.embed_batch_size)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return await aembed(self.async_client, self.model_name, texts, self.embed_batch_size, self.max_concurrency)
