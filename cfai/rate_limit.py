"""Client-side rate limiting that holds across the threads and asyncio tasks of one process.

Workers AI allows 300 requests per minute for text generation by default (docs/wire.md, "Limits and prices");
a burst of `abatch` calls or a thread pool can go past it and get 429s. A limiter spaces requests out before
they are sent.

The two frameworks name the waits differently: LangChain's limiters (`InMemoryRateLimiter`) have `acquire()` and
`async aacquire()`, LlamaIndex's (`TokenBucketRateLimiter`) `acquire()` and `async async_acquire()`. `RateLimiter`
here has all three, for users of either or neither: a token bucket that hands out reservations, so waiting callers
are served in turn and none polls. `with_both_names` lets a limiter of one framework serve the other. One limiter
object limits whoever shares it; separate processes (a spawn pool, Ray workers) each hold their own copy, so give
each its share of the rate.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["RateLimiter", "aacquire", "acquire", "with_both_names"]


class RateLimiter:
    """At most `requests_per_second` on average, with bursts of up to `max_burst` requests.

        limiter = RateLimiter(requests_per_minute=300)
        llm = WorkersAI(rate_limiter=limiter)

    Thread-safe and shared by every event loop of the process; a pickled copy starts with a full bucket of its own.
    """

    def __init__(
        self,
        requests_per_second: float | None = None,
        *,
        requests_per_minute: float | None = None,
        max_burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if (requests_per_second is None) == (requests_per_minute is None):
            raise ValueError("Give exactly one of requests_per_second and requests_per_minute.")
        rate = requests_per_second if requests_per_second is not None else float(requests_per_minute or 0) / 60
        if not rate > 0 or max_burst < 1:
            raise ValueError("The rate must be positive and max_burst at least 1.")
        self.rate = float(rate)
        self.max_burst = float(max_burst)
        self.clock = clock
        self.sleep = sleep
        self.async_sleep = async_sleep
        self._setup()

    def _setup(self) -> None:
        self._lock = threading.Lock()
        self._tokens = self.max_burst
        self._updated = self.clock()

    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if not key.startswith("_")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._setup()

    def __repr__(self) -> str:
        return f"RateLimiter(requests_per_second={self.rate:g}, max_burst={self.max_burst:g})"

    def _reserve(self, blocking: bool) -> float | None:
        """Seconds until the caller's turn (its place is taken now), or None when not blocking and not free now."""
        with self._lock:
            now = self.clock()
            self._tokens = min(self.max_burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens < 1 and not blocking:
                return None
            self._tokens -= 1
            # A negative balance is the queue of reservations ahead: each waits for its own token to be earned.
            return max(0.0, -self._tokens / self.rate)

    def acquire(self, *, blocking: bool = True) -> bool:
        wait = self._reserve(blocking)
        if wait is None:
            return False
        if wait:
            self.sleep(wait)
        return True

    async def aacquire(self, *, blocking: bool = True) -> bool:
        wait = self._reserve(blocking)
        if wait is None:
            return False
        if wait:
            await self.async_sleep(wait)
        return True

    async def async_acquire(self, num_tokens: int = 0) -> None:
        """LlamaIndex's name for `aacquire` (token counts are not limited here, only requests)."""
        await self.aacquire()


class _BothNames:
    """A limiter with only LangChain's `aacquire`, also answering to LlamaIndex's `async_acquire`."""

    def __init__(self, limiter: Any) -> None:
        self.limiter = limiter

    def __repr__(self) -> str:
        return repr(self.limiter)

    def acquire(self, *args: Any, **kwargs: Any) -> Any:
        return self.limiter.acquire(*args, **kwargs)

    async def aacquire(self, *args: Any, **kwargs: Any) -> Any:
        return await self.limiter.aacquire(*args, **kwargs)

    async def async_acquire(self, num_tokens: int = 0) -> None:
        await self.limiter.aacquire()


def _has(value: Any, name: str) -> bool:
    return callable(getattr(value, name, None))


def with_both_names(value: Any) -> Any:
    """A limiter setting made usable under both frameworks' method names; None stays None.

    Raises ValueError for an object that has neither framework's shape.
    """
    if value is None or (_has(value, "acquire") and _has(value, "async_acquire")):
        return value
    if _has(value, "acquire") and _has(value, "aacquire"):
        return _BothNames(value)
    raise ValueError(
        "rate_limiter must have acquire() and aacquire() or async_acquire() (cfai.rate_limit.RateLimiter, "
        f"LangChain's InMemoryRateLimiter, LlamaIndex's TokenBucketRateLimiter); got {type(value).__name__}."
    )


def acquire(limiter: Any) -> None:
    """Waits for the limiter's permission to send one request (nothing to wait for without a limiter)."""
    if limiter is not None:
        limiter.acquire()


async def aacquire(limiter: Any) -> None:
    if limiter is not None:
        await (limiter.aacquire() if _has(limiter, "aacquire") else limiter.async_acquire())
