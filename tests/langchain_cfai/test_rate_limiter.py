"""LangChain's `rate_limiter` on ChatWorkersAI: honoured by every entry point, once per request, across threads."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from langchain_core.rate_limiters import InMemoryRateLimiter
from support.limiters import Counting

from cfai.batch import Polling
from cfai.emulator import Emulator
from langchain_cfai import ChatWorkersAI


class CountingLimiter(Counting, InMemoryRateLimiter):
    pass


def make_llm(emulator: Emulator, limiter: InMemoryRateLimiter) -> ChatWorkersAI:
    return ChatWorkersAI(base_url=emulator.v1_url, api_token=emulator.api_token, rate_limiter=limiter)


async def test_every_entry_point_waits_once_per_request(workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.configure(batch_pending_polls=0)
    limiter = CountingLimiter(requests_per_second=1000, check_every_n_seconds=0.001, max_bucket_size=100)
    llm = make_llm(workers_ai_emulator, limiter)
    llm.invoke("a")
    await llm.ainvoke("b")
    list(llm.stream("c"))
    [chunk async for chunk in llm.astream("d")]
    llm.batch_queued(["e", "f", "g"], polling=Polling(interval=0.0))  # one submission: one request
    await llm.abatch_queued(["h", "i"], polling=Polling(interval=0.0))
    assert limiter.acquired == 6


def test_the_limit_holds_across_threads(workers_ai_emulator: Emulator) -> None:
    # 20 requests per second with an empty bucket: 6 calls from 6 threads cannot all go in less than 5/20 s.
    limiter = InMemoryRateLimiter(requests_per_second=20, check_every_n_seconds=0.005, max_bucket_size=1)
    llm = make_llm(workers_ai_emulator, limiter)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda n: llm.invoke(f"q{n}").content, range(6)))
    assert answers == [f"You asked: q{n}" for n in range(6)]
    assert time.monotonic() - started >= 0.25
