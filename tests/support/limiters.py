"""A rate limiter that counts what it was asked for: mixed in before either framework's limiter class."""

from __future__ import annotations


class Counting:
    """Counts `acquire`/`aacquire` calls, then waits as the limiter it is mixed into would."""

    acquired = 0

    def acquire(self, *, blocking: bool = True) -> bool:
        self.acquired += 1
        result: bool = super().acquire(blocking=blocking)  # type: ignore[misc]
        return result

    async def aacquire(self, *, blocking: bool = True) -> bool:
        self.acquired += 1
        result: bool = await super().aacquire(blocking=blocking)  # type: ignore[misc]
        return result


__all__ = ["Counting"]
