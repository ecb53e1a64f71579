"""The core rate limiter: a token bucket whose reservations hold across threads and asyncio tasks."""

from __future__ import annotations

import asyncio
import pickle
import threading

import pytest

from cfai.rate_limit import RateLimiter, with_both_names


class Clock:
    """Time that passes only when told to; sleeps are recorded, not taken."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, delay: float) -> None:
        with self.lock:
            self.sleeps.append(delay)

    async def async_sleep(self, delay: float) -> None:
        self.sleep(delay)


def limiter(clock: Clock, **options: float) -> RateLimiter:
    return RateLimiter(clock=clock, sleep=clock.sleep, async_sleep=clock.async_sleep, **options)


def test_requests_beyond_the_burst_wait_their_turn_in_order() -> None:
    clock = Clock()
    bucket = limiter(clock, requests_per_minute=60)  # one a second
    for _ in range(3):
        assert bucket.acquire()
    assert clock.sleeps == [1.0, 2.0]  # each reserved the next free second
    clock.now = 10  # time passes: the bucket refills, up to max_burst
    assert bucket.acquire() and clock.sleeps == [1.0, 2.0]


def test_a_burst_is_allowed_up_to_max_burst() -> None:
    clock = Clock()
    bucket = limiter(clock, requests_per_second=2, max_burst=3)
    for _ in range(4):
        bucket.acquire()
    assert clock.sleeps == [0.5]


def test_non_blocking_acquire_says_no_instead_of_waiting() -> None:
    clock = Clock()
    bucket = limiter(clock, requests_per_second=1)
    assert bucket.acquire(blocking=False) is True
    assert bucket.acquire(blocking=False) is False
    clock.now = 1.0
    assert bucket.acquire(blocking=False) is True
    assert clock.sleeps == []


def test_threads_share_one_schedule() -> None:
    clock = Clock()
    bucket = limiter(clock, requests_per_second=10)
    threads = [threading.Thread(target=bucket.acquire) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 19 waits, each for its own slot 0.1 s after the previous one: no two threads were let through together.
    assert sorted(round(delay, 6) for delay in clock.sleeps) == [round(0.1 * n, 6) for n in range(1, 20)]


async def test_tasks_share_one_schedule() -> None:
    clock = Clock()
    bucket = limiter(clock, requests_per_second=4)
    assert all(await asyncio.gather(*(bucket.aacquire() for _ in range(5))))
    assert sorted(clock.sleeps) == [0.25, 0.5, 0.75, 1.0]


async def test_a_real_wait_is_taken_with_the_default_sleeps() -> None:
    bucket = RateLimiter(requests_per_second=200)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(3):
        await bucket.aacquire()
    assert loop.time() - started >= 0.009  # two waits of 5 ms: the limiter cannot be faster than its rate


def test_a_pickled_limiter_is_a_fresh_one_with_the_same_rate() -> None:
    bucket = RateLimiter(requests_per_minute=300, max_burst=2)
    bucket.acquire()
    copy = pickle.loads(pickle.dumps(bucket))
    assert (copy.rate, copy.max_burst) == (5.0, 2.0)
    assert copy.acquire(blocking=False) and copy.acquire(blocking=False)  # a full bucket of its own
    assert repr(copy) == "RateLimiter(requests_per_second=5, max_burst=2)"


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"requests_per_second": 1, "requests_per_minute": 60},
        {"requests_per_second": 0},
        {"requests_per_second": 1, "max_burst": 0.5},
    ],
)
def test_settings_are_checked(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RateLimiter(**options)


def test_either_frameworks_limiter_gets_both_names() -> None:
    assert with_both_names(None) is None
    bucket = RateLimiter(requests_per_second=1)
    assert with_both_names(bucket) is bucket  # has acquire, aacquire and async_acquire itself

    class LangChainShaped:
        def __init__(self) -> None:
            self.calls: list[str] = []

        def acquire(self, *, blocking: bool = True) -> bool:
            self.calls.append("acquire")
            return True

        async def aacquire(self, *, blocking: bool = True) -> bool:
            self.calls.append("aacquire")
            return True

    shaped = LangChainShaped()
    both = with_both_names(shaped)
    both.acquire()
    asyncio.run(both.async_acquire(num_tokens=12))
    asyncio.run(both.aacquire())
    assert shaped.calls == ["acquire", "aacquire", "aacquire"]
    with pytest.raises(ValueError, match="acquire\\(\\) and aacquire\\(\\) or async_acquire\\(\\)"):
        with_both_names(object())
