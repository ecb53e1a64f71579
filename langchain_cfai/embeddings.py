"""WorkersAIEmbeddings: Cloudflare Workers AI's embedding models as a LangChain `Embeddings`.

The class holds settings and four one-line shells; batching, request bodies and reply parsing are `cfai.embeddings`,
the wire work is `cfai`'s clients. The connection settings, the clients behind them and `close`/`with` come from
`cfai.model_fields.ConnectionFields`, shared with `ChatWorkersAI` and the LlamaIndex adapter.
"""

from __future__ import annotations

from langchain_core.embeddings import Embeddings
from pydantic import ConfigDict, Field

from cfai.catalog import DEFAULT_EMBEDDING_MODEL
from cfai.embeddings import DEFAULT_MAX_CONCURRENCY, aembed, embed
from cfai.model_fields import ConnectionFields

__all__ = ["WorkersAIEmbeddings"]


class WorkersAIEmbeddings(ConnectionFields, Embeddings):
    """Cloudflare Workers AI text embeddings (`/ai/v1/embeddings`), for vector stores and retrievers.

    ```python
    from langchain_core.vectorstores import InMemoryVectorStore
    from langchain_cfai import WorkersAIEmbeddings

    embeddings = WorkersAIEmbeddings()              # @cf/baai/bge-m3, 1024 dimensions
    store = InMemoryVectorStore.from_texts(["The warranty lasts two years."], embeddings)
    store.similarity_search("How long is the warranty?", k=1)
    ```

    Credentials and every connection setting are those of `ChatWorkersAI` (`api_token=`/`api_key=`, `account_id=`,
    `base_url=`, `gateway_id=`, `timeout=`, `max_retries=`, ...), with the same environment defaults. Long lists
    are sent in requests of at most the model's texts per request (100 for the bge models, from `cfai.catalog`);
    `aembed_documents` sends up to `max_concurrency` of them at once. An empty text is a `ValueError`, before any
    request: Workers AI refuses empty texts. Inside a Python Worker, `binding=self.env.AI` embeds through the
    Worker's AI binding instead, with the async methods (`cfai.binding`).
    """

    model: str = Field(default=DEFAULT_EMBEDDING_MODEL, alias="model_name", min_length=1)
    """Workers AI embedding model, e.g. `@cf/baai/bge-m3` or `@cf/baai/bge-base-en-v1.5`."""
    batch_size: int | None = Field(default=None, gt=0, strict=True)
    """Texts per request; by default, and never more than, what Cloudflare accepts for the model."""
    max_concurrency: int = Field(default=DEFAULT_MAX_CONCURRENCY, gt=0, strict=True)
    """Requests in flight at once when `aembed_documents` needs several."""

    # Unknown arguments are refused (never sent); their values are kept out of the error, where a token could be.
    model_config = ConfigDict(
        populate_by_name=True, extra="forbid", arbitrary_types_allowed=True, hide_input_in_errors=True
    )
    binding_async_methods = "`await embeddings.aembed_documents(...)`, `aembed_query`"

    @property
    def model_name(self) -> str:
        return self.model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return embed(self.client, self.model, texts, self.batch_size)

    def embed_query(self, text: str) -> list[float]:
        return embed(self.client, self.model, [text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return await aembed(self.async_client, self.model, texts, self.batch_size, self.max_concurrency)

    async def aembed_query(self, text: str) -> list[float]:
        return (await aembed(self.async_client, self.model, [text]))[0]
