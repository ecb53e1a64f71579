"""Fair turns at an async httpx connection pool, so that no request loses its connection to a later one.

httpcore 1.x gives a waiting request an idle connection without reserving it (encode/httpcore#822): until that
request's task runs again, the same connection is offered to every request that arrives, all but one of them fail
inside the pool with ConnectionNotAvailable, and they try again from the back. Under steady load some requests keep
losing that race for seconds. With 100 callers over 100 kept-alive connections to the emulator on loopback, plain
httpx served 200-260 calls/s with a p99 near 4 s, and opened more connections than the pool holds (connections
left idle during the scramble expire); the same pool taking turns served 600-1,000 calls/s with a p99 of 0.1-0.45 s
through fewer than 50 connections (benchmarks/RESULTS.md, section 4).

A turn lasts from asking the pool for a connection until httpcore's first trace event for the request. httpcore
emits it only once the connection is the request's own: a new connection starting to connect, or a reused one
starting to send. Turns are granted in arrival order; the rest of the request (sending, waiting for the answer,
reading it) runs outside the turn, concurrently with everything else.

Only clients this package creates take turns. A caller's own client may have a transport that emits no trace events
(httpx.MockTransport, for one), and there a turn would last the whole request and serialise every call. The sync
client takes none: threads sharing one httpx.Client under the same load showed no such stalls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx

__all__ = ["PoolTurns"]


class PoolTurns:
    """One per httpx.AsyncClient and event loop: `await turns.send(client, request)` in place of `client.send`."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    async def send(self, client: httpx.AsyncClient, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        await self._wait_for_turn(request)
        turn = _Turn(self._lock)
        # A new dict: the request's extensions may be a mapping shared by every request of a client.
        request.extensions = {**request.extensions, "trace": turn.trace}
        try:
            return await client.send(request, stream=stream)
        finally:
            turn.end()

    async def _wait_for_turn(self, request: httpx.Request) -> None:
        if not self._lock.locked():
            await self._lock.acquire()  # free: taken without suspending
            return
        # Waiting for a turn is waiting for the pool, so httpx's pool timeout bounds it.
        timeout = request.extensions.get("timeout", {}).get("pool")
        try:
            await asyncio.wait_for(self._lock.acquire(), timeout)
        except asyncio.TimeoutError:
            raise httpx.PoolTimeout("Timed out waiting for a connection from the pool.", request=request) from None


class _Turn:
    """Ends at the first trace event of the request, or when sending ends without one (an error, a cancellation)."""

    __slots__ = ("_lock",)

    def __init__(self, lock: asyncio.Lock) -> None:
        self._lock: asyncio.Lock | None = lock

    def end(self) -> None:
        if self._lock is not None:
            lock, self._lock = self._lock, None
            lock.release()

    async def trace(self, name: str, info: Mapping[str, Any]) -> None:
        self.end()
