"""The cfai clients of one WorkersAI instance: created on first use, one sync and one async, closed on request.

Never process-global (a shared async client breaks across event loops, ANCHORS.md); the core's async client itself
starts a fresh httpx client when called from a new loop. A user-supplied httpx client is used but never closed.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from cfai.config import ClientSettings

if TYPE_CHECKING:
    import httpx

    from cfai.transport import AsyncWorkersAIClient, WorkersAIClient


class InstanceClients:
    """Holds the clients, each with the settings it was built from.

    Changed settings (a field assigned after the first request, or `model_copy(update=...)`, which shares this holder
    with the original) get a new client on the next request; the old one is left to its other users and the garbage
    collector rather than closed under them. A deep copy or an unpickled LLM starts with no clients at all.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sync: tuple[WorkersAIClient, tuple[ClientSettings, Any]] | None = None
        self._async: tuple[AsyncWorkersAIClient, tuple[ClientSettings, Any]] | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> InstanceClients:
        return InstanceClients()

    def __reduce__(self) -> tuple[type[InstanceClients], tuple[()]]:
        return (InstanceClients, ())

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

                    built = self._sync = (WorkersAIClient(http_client=http_client, **settings), wanted)
        return built[0]

    def async_(self, settings: ClientSettings, http_client: httpx.AsyncClient | None) -> AsyncWorkersAIClient:
        wanted = (settings, http_client)
        built = self._async
        if built is None or built[1] != wanted:
            with self._lock:
                built = self._async
                if built is None or built[1] != wanted:
                    from cfai.transport import AsyncWorkersAIClient  # httpx loads with the first client

                    built = self._async = (AsyncWorkersAIClient(http_client=http_client, **settings), wanted)
        return built[0]

    def close(self) -> None:
        built, self._sync = self._sync, None
        if built is not None:
            built[0].close()

    async def aclose(self) -> None:
        self.close()
        built, self._async = self._async, None
        if built is not None:
            await built[0].aclose()
