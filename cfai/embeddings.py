"""Embeddings over Workers AI's OpenAI-compatible `/ai/v1/embeddings` route (or, inside a Worker, its AI binding),
for both adapters' embedding classes.

Pure decisions first: which texts go in which request (at most the catalog's texts per request for the model, see
docs/wire.md "Embeddings"), what each body carries, and how a reply becomes vectors. Then the two short I/O shells
the adapters call, `embed` and `aembed`, which send those bodies with a core client, so authentication, retries,
errors and secret handling are the transport's, exactly as for chat.

Texts are checked before anything is sent: Cloudflare refuses an empty string (400/5006) and the whole request with
it, so an empty text is a `ValueError` naming its position rather than a failed request in the middle of a corpus.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import struct
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from cfai.catalog import EMBEDDING_MODELS, get_embedding_model_info
from cfai.errors import ResponseFormatError

if TYPE_CHECKING:
    from cfai.transport import WorkersAIClient


class AsyncPoster(Protocol):
    """What the async path needs of a client: the core's AsyncWorkersAIClient, or a Workers binding's client (which
    runs the model with `run_inputs` of each body)."""

    async def post(self, path: str, body: Mapping[str, Any]) -> Any: ...


__all__ = [
    "DEFAULT_MAX_CONCURRENCY",
    "EMBEDDINGS_PATH",
    "FALLBACK_TEXTS_PER_REQUEST",
    "aembed",
    "check_texts",
    "embed",
    "request_bodies",
    "run_inputs",
    "texts_per_request",
    "vectors_from_reply",
]

EMBEDDINGS_PATH = "embeddings"
# A model the catalog does not know gets the smallest limit of the models it does know: a request that small is
# accepted by every embedding model Cloudflare documents.
FALLBACK_TEXTS_PER_REQUEST = min(info.max_batch_size for info in EMBEDDING_MODELS.values())
# Requests in flight at once when one async call needs several: enough to overlap round trips on a large corpus,
# few enough to stay far below Workers AI's per-minute rate limit (a 429 would still be retried by the transport).
DEFAULT_MAX_CONCURRENCY = 4


def texts_per_request(model: str, batch_size: int | None = None) -> int:
    """How many texts one request for `model` carries: `batch_size` when given, never more than Cloudflare takes."""
    info = get_embedding_model_info(model)
    limit = info.max_batch_size if info is not None else FALLBACK_TEXTS_PER_REQUEST
    if batch_size is None:
        return limit
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive whole number of texts; got {batch_size!r}.")
    return min(batch_size, limit)


def check_texts(texts: Sequence[str]) -> list[str]:
    """The texts as a list, or a ValueError for anything Workers AI would refuse: a non-string or an empty text."""
    if isinstance(texts, str):
        raise ValueError("Expected a list of texts, got one string; wrap it in a list (or embed it as a query).")
    checked = list(texts)
    for position, text in enumerate(checked):
        if not isinstance(text, str):
            raise ValueError(f"Text {position} is a {type(text).__name__}, not a string; Workers AI embeds strings.")
        if not text:
            raise ValueError(
                f"Text {position} is empty; Workers AI refuses empty texts (and the whole request with them). "
                "Leave it out, or embed a placeholder of your choice."
            )
    return checked


def request_bodies(model: str, texts: Sequence[str], batch_size: int | None = None) -> list[dict[str, Any]]:
    """The bodies of the requests that embed `texts`, in order; none for no texts."""
    if not isinstance(model, str) or not model.strip():
        raise ValueError("model must be a non-empty embedding model name, such as '@cf/baai/bge-m3'.")
    checked = check_texts(texts)
    size = texts_per_request(model, batch_size)
    # Strings only, never token ids, and no `dimensions`: Cloudflare's models have one size each (docs/wire.md).
    return [{"model": model, "input": checked[start : start + size]} for start in range(0, len(checked), size)]


def run_inputs(body: Mapping[str, Any]) -> dict[str, Any]:
    """A request body as a Workers binding's `run` takes it: the model, and the texts as `text`.

    A binding runs the model itself, not the OpenAI-compatible route: every Workers AI embedding model reads its
    texts from `text`. No `pooling` is sent, so each model pools as it does by default, as on the REST route
    (docs/wire.md, "Embeddings"); the reply's `{"shape", "data": [[...]]}` is read by `vectors_from_reply`.
    """
    return {"model": body["model"], "text": list(body["input"])}


def vectors_from_reply(reply: Any, expected: int) -> list[list[float]]:
    """The vectors of one embeddings reply, in the order of the texts sent.

    OpenAI's shape (`{"data": [{"index", "embedding"}]}`) is what the route is documented to send; the shape inside
    Cloudflare's envelope (`{"result": ...}`) and the native run shape (`{"data": [[...]]}`) are read as well, since
    the reply format of this route is not documented (docs/wire.md, "Embeddings").
    """
    if isinstance(reply, Mapping) and "data" not in reply and isinstance(reply.get("result"), Mapping):
        reply = reply["result"]
    items = reply.get("data") if isinstance(reply, Mapping) else None
    if not isinstance(items, list):
        raise ResponseFormatError(f"Workers AI sent an embeddings reply without a data list: {_preview(reply)}")
    if all(isinstance(item, Mapping) for item in items):
        ordered = sorted(enumerate(items), key=lambda pair: _index(pair[1], pair[0]))
        vectors = [_vector(item.get("embedding")) for _, item in ordered]
    else:
        vectors = [_vector(item) for item in items]
    if len(vectors) != expected:
        raise ResponseFormatError(f"Workers AI sent {len(vectors)} embeddings for {expected} texts.")
    return vectors


def _index(item: Mapping[str, Any], position: int) -> int:
    index = item.get("index", position)
    return index if isinstance(index, int) and not isinstance(index, bool) else position


def _vector(value: Any) -> list[float]:
    if isinstance(value, str):  # base64 little-endian float32, should a server choose that encoding
        try:
            raw = base64.b64decode(value, validate=True)
        except binascii.Error:
            raw = b""
        if raw and len(raw) % 4 == 0:
            return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    elif isinstance(value, list) and value:
        try:
            return [float(number) for number in value]
        except (TypeError, ValueError):
            pass
    raise ResponseFormatError(f"Workers AI sent an embedding that is not a list of numbers: {_preview(value)}")


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


# The I/O shells: the same bodies, sent one after another, or a few at a time.


def embed(
    client: WorkersAIClient, model: str, texts: Sequence[str], batch_size: int | None = None
) -> list[list[float]]:
    """The vectors of `texts`, one request per batch, in order."""
    vectors: list[list[float]] = []
    for body in request_bodies(model, texts, batch_size):
        vectors.extend(vectors_from_reply(client.post(EMBEDDINGS_PATH, body), len(body["input"])))
    return vectors


async def aembed(
    client: AsyncPoster,
    model: str,
    texts: Sequence[str],
    batch_size: int | None = None,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
) -> list[list[float]]:
    """The vectors of `texts`; up to `max_concurrency` requests in flight, the first failure cancels the others."""
    bodies = request_bodies(model, texts, batch_size)
    if max_concurrency < 1:
        raise ValueError(f"max_concurrency must be 1 or more; got {max_concurrency!r}.")
    gate = asyncio.Semaphore(max_concurrency)

    async def one(body: dict[str, Any]) -> list[list[float]]:
        async with gate:
            reply = await client.post(EMBEDDINGS_PATH, body)
        return vectors_from_reply(reply, len(body["input"]))

    if len(bodies) <= 1:
        return await one(bodies[0]) if bodies else []
    tasks = [asyncio.ensure_future(one(body)) for body in bodies]
    try:
        batches = await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return [vector for batch in batches for vector in batch]
