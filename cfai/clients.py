"""The core clients of one framework model: created on first use under a lock, rebuilt when its settings change.

Both adapters keep one `ModelClients` per model instance. The clients themselves are cheap (settings, headers,
parsed URLs); the connections behind them come from `cfai.pools`, shared by every model with the same process or
event loop, so nothing here opens sockets of its own. A copy or an unpickled model starts with no clients at all,
so a model can be copied, deep-copied and pickled before and after use (nothing live travels in the pickle).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from cfai.config import ClientSettings

if TYPE_CHECKING:
    import httpx

    from cfai.transport import AsyncWorkersAIClient, WorkersAIClient

__all__ = ["ModelClients"]


class ModelClients:
    """One sync and one async client, each kept with the settings it was built from.

    Settings that changed since (a field assigned after the first request, or a `model_copy(update=...)` that shares
    this holder) get a new client on the next request; the replaced one lets go of its pool.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sync: tuple[WorkersAIClient, tuple[ClientSettings, Any]] | None = None
        self._async: tuple[AsyncWorkersAIClient, tuple[ClientSettings, Any]] | None = None

    def __copy__(self) -> ModelClients:
        return ModelClients()

    def __deepcopy__(self, memo: dict[int, Any]) -> ModelClients:
        return ModelClients()

    def __reduce__(self) -> tuple[type[ModelClients], tuple[()]]:
        return (ModelClients, ())

    @property
    def created(self) -> bool:
        return self._sync is not None or self._async is not None

    def sync(self, settings: ClientSettings, http_client: httpx.Client | None) -> WorkersAIClient:
        wanted = (settings, http_client)
        built = self._sync
        if built is None or built[1] != wanted:
            with self._lock:
                built = self._sync
                if built is None or built[1] != wanted:
                    from cfai.transport import WorkersAIClient  # httpx loads with the first client

                    replaced = built
                    built = self._sync = (WorkersAIClient(http_client=http_client, **settings), wanted)
                    if replaced is not None:
                        replaced[0].close()
        return built[0]

    def async_(self, settings: ClientSettings, http_client: httpx.AsyncClient | None) -> AsyncWorkersAIClient:
        wanted = (settings, http_client)
        built = self._async
        if built is None or built[1] != wanted:
            with self._lock:
                built = self._async
                if built is None or built[1] != wanted:
                    from cfai.transport import AsyncWorkersAIClient  # httpx loads with the first client

                    replaced = built
                    built = self._async = (AsyncWorkersAIClient(http_client=http_client, **settings), wanted)
                    if replaced is not None:
                        replaced[0].release()
        return built[0]

    def close(self) -> None:
        """Lets go of the synchronous pool (a pool closes with its last user); a caller's own client stays open."""
        with self._lock:
            built, self._sync = self._sync, None
        if built is not None:
            built[0].close()

    async def aclose(self) -> None:
        """`close`, and the same for the asynchronous pool of the running loop."""
        self.close()
        with self._lock:
            built, self._async = self._async, None
        if built is not None:
            await built[0].aclose()
