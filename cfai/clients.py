"""The core clients of one framework model: created on first use under a lock, rebuilt when its settings change.

Both adapters keep one `ModelClients` per model instance. The clients themselves are cheap (settings, headers,
parsed URLs); the connections behind them come from `cfai.pools`, shared by every model with the same process or
event loop, so nothing here opens sockets of its own. A copy or an unpickled model starts with no clients at all,
so a model can be copied, deep-copied and pickled before and after use (nothing live travels in the pickle).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cfai.config import ClientSettings

if TYPE_CHECKING:
    import httpx

    from cfai.transport import AsyncWorkersAIClient, WorkersAIClient

__all__ = ["ModelClients"]


class ModelClients:
    """One sync and one async client, each built on its first request from the model's settings.

    The model calls `settings_changed` when one of its connection fields is assigned: the clients built from the old
    settings let go of their pools, and the next request builds new ones. Checking on every request instead would
    cost each call the gathering and comparing of all its settings (about 5 µs, benchmarks/).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sync: WorkersAIClient | None = None
        self._async: AsyncWorkersAIClient | None = None

    def __copy__(self) -> ModelClients:
        return ModelClients()

    def __deepcopy__(self, memo: dict[int, Any]) -> ModelClients:
        return ModelClients()

    def __reduce__(self) -> tuple[type[ModelClients], tuple[()]]:
        return (ModelClients, ())

    @property
    def created(self) -> bool:
        return self._sync is not None or self._async is not None

    def sync(self, settings: Callable[[], ClientSettings], http_client: httpx.Client | None) -> WorkersAIClient:
        built = self._sync
        if built is None:
            with self._lock:
                built = self._sync
                if built is None:
                    from cfai.transport import WorkersAIClient  # httpx loads with the first client

                    built = self._sync = WorkersAIClient(http_client=http_client, **settings())
        return built

    def async_(
        self, settings: Callable[[], ClientSettings], http_client: httpx.AsyncClient | None
    ) -> AsyncWorkersAIClient:
        built = self._async
        if built is None:
            with self._lock:
                built = self._async
                if built is None:
                    from cfai.transport import AsyncWorkersAIClient  # httpx loads with the first client

                    built = self._async = AsyncWorkersAIClient(http_client=http_client, **settings())
        return built

    def settings_changed(self) -> None:
        """Lets go of the clients built from the settings before: the next request builds new ones."""
        with self._lock:
            replaced_sync, self._sync = self._sync, None
            replaced_async, self._async = self._async, None
        if replaced_sync is not None:
            replaced_sync.close()
        if replaced_async is not None:
            replaced_async.release()

    def close(self) -> None:
        """Lets go of the synchronous pool (a pool closes with its last user); a caller's own client stays open."""
        with self._lock:
            built, self._sync = self._sync, None
        if built is not None:
            built.close()

    async def aclose(self) -> None:
        """`close`, and the same for the asynchronous pool of the running loop."""
        self.close()
        with self._lock:
            built, self._async = self._async, None
        if built is not None:
            await built.aclose()
