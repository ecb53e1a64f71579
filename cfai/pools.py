"""The connection pools behind every client this package creates: one per process for synchronous calls (an
httpx.Client), one per event loop for asynchronous calls (an aiohttp session: `cfai.aiohttp_io` says why), shared
by all clients.

Sharing is safe because nothing but sockets is pooled: every request carries its own URL, headers and timeout
(`cfai.transport` builds it), and the pools keep no cookies, so one account's session can never ride along with
another's requests. Twenty short-lived models then reuse one connection instead of opening twenty. A client the
caller passes in is never pooled here, shared or closed.

Lifetimes:

- A pool counts the clients using it; the last one to release it closes it (a model's `close()`, `with`).
- The synchronous pool belongs to the process that made it; a forked child opens its own.
- An asynchronous pool belongs to its event loop and is closed on that loop when the loop shuts down: a suspended
  async generator registered with the loop closes it from its `finally` block, which `asyncio.run`,
  `asyncio.Runner` and Jupyter's or pytest's loops run through `loop.shutdown_asyncgens()`. A later loop gets a
  pool of its own, and no pool outlives its loop (no "Event loop is closed", no unclosed-socket warnings).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import http.cookiejar
import os
import threading
import weakref
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from cfai.config import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT

if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "POOL_LIMITS",
    "AsyncPool",
    "SyncPool",
    "acquire_async",
    "acquire_sync",
    "forget_async",
    "release_async",
    "release_sync",
]

# httpx keeps only 20 idle connections by default, so a burst of 100 concurrent calls would open new connections
# for most of the calls after it; keeping as many idle as may be open lets a burst reuse what it opened.
POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)
# Requests carry their own timeouts; this only applies to a request built without one.
_DEFAULT_TIMEOUT = httpx.Timeout(DEFAULT_READ_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT)


def _no_cookies() -> http.cookiejar.CookieJar:
    return http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


@dataclass(eq=False)
class SyncPool:
    client: httpx.Client
    pid: int
    users: int = 0


@dataclass(eq=False)
class AsyncPool:
    session: aiohttp.ClientSession
    users: int = 0
    closer: AsyncGenerator[None, None] | None = None


_lock = threading.Lock()
_sync: SyncPool | None = None
_async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncPool] = weakref.WeakKeyDictionary()


def acquire_sync() -> SyncPool:
    """The process's synchronous pool, counted for one more user."""
    global _sync
    with _lock:
        pool = _sync
        if pool is None or pool.pid != os.getpid() or pool.client.is_closed:
            client = httpx.Client(timeout=_DEFAULT_TIMEOUT, limits=POOL_LIMITS, cookies=_no_cookies())
            pool = _sync = SyncPool(client, os.getpid())
        pool.users += 1
        return pool


def release_sync(pool: SyncPool) -> None:
    """One user fewer; the last one closes the pool (only in the process that opened it)."""
    global _sync
    with _lock:
        pool.users -= 1
        if pool.users > 0 or pool.pid != os.getpid():
            return
        if _sync is pool:
            _sync = None
    pool.client.close()


def _close_at_exit() -> None:
    pool = _sync
    if pool is not None and pool.pid == os.getpid():
        pool.client.close()


# Models are often never closed: the process's pool closes its sockets when the process exits.
atexit.register(_close_at_exit)


def acquire_async() -> AsyncPool:
    """The running event loop's pool, counted for one more user; call it from inside the loop."""
    from cfai.aiohttp_io import new_session  # aiohttp loads with the first asynchronous client

    loop = asyncio.get_running_loop()
    with _lock:
        pool = _async.get(loop)
        if pool is None or pool.session.closed:
            pool = _async[loop] = AsyncPool(new_session(POOL_LIMITS.max_connections or 100))
            pool.closer = _close_when_the_loop_shuts_down(loop, pool)
            # Run it to its first `yield`: the loop has now registered it (its first-iteration hook) and will
            # close it, running the `finally` below, when it shuts down its async generators.
            with contextlib.suppress(StopIteration):
                pool.closer.asend(None).send(None)
        pool.users += 1
        return pool


async def release_async(pool: AsyncPool) -> None:
    """One user fewer; the last one closes the pool. A pool whose loop has shut down is already closed."""
    with _lock:
        pool.users -= 1
        if pool.users > 0 or pool.session.closed:
            return
        for loop, known in list(_async.items()):
            if known is pool:
                del _async[loop]
    await pool.session.close()


async def _close_when_the_loop_shuts_down(
    loop: asyncio.AbstractEventLoop, pool: AsyncPool
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        with _lock:
            if _async.get(loop) is pool:
                del _async[loop]
        if not pool.session.closed:
            await pool.session.close()


def forget_async(pool: AsyncPool) -> None:
    """One user fewer, from outside the pool's loop: the loop closes the pool when it shuts down."""
    with _lock:
        pool.users -= 1
