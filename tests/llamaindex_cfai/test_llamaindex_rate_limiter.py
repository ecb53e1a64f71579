"""WorkersAI's `rate_limiter`: waited on once per request by every entry point, queued and streamed ones too."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.llms import ChatMessage
from pydantic import ValidationError
from support.limiters import Counting

from cfai.batch import Polling
from cfai.emulator import Emulator
from cfai.rate_limit import RateLimiter
from llamaindex_cfai import WorkersAI

pytestmark = pytest.mark.loopback
HI = [ChatMessage(role="user", content="hi")]


class CountingLimiter(Counting, RateLimiter):
    pass


def make_llm(emulator: Emulator, limiter: Any) -> WorkersAI:
    return WorkersAI(base_url=emulator.v1_url, api_token=emulator.api_token, rate_limiter=limiter)


async def test_every_entry_point_waits_once_per_request(workers_ai_emulator: Emulator) -> None:
    workers_ai_emulator.configure(batch_pending_polls=0)
    limiter = CountingLimiter(requests_per_second=1000, max_burst=100)
    llm = make_llm(workers_ai_emulator, limiter)
    llm.chat(HI)
    await llm.achat(HI)
    llm.complete("hi")
    await llm.acomplete("hi")
    list(llm.stream_chat(HI))
    [chunk async for chunk in await llm.astream_chat(HI)]
    list(llm.stream_complete("hi"))
    llm.chat_queued([HI, HI, HI], polling=Polling(interval=0.0))  # one submission: one request
    await llm.achat_queued([HI, HI], polling=Polling(interval=0.0))
    assert limiter.acquired == 9


async def test_without_llamaindexs_own_waits_the_entry_points_wait(
    workers_ai_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As with a LlamaIndex that has no `rate_limiter` of its own; the installed one still waits in its decorators,
    # so each call here waits twice: once there, once in WorkersAI.
    monkeypatch.setattr("llamaindex_cfai.llm._LLAMAINDEX_LIMITS", False)
    limiter = CountingLimiter(requests_per_second=1000, max_burst=100)
    llm = make_llm(workers_ai_emulator, limiter)
    llm.chat(HI)
    await llm.achat(HI)
    list(llm.stream_chat(HI))
    [chunk async for chunk in await llm.astream_chat(HI)]
    assert limiter.acquired == 8


def test_langchains_in_memory_rate_limiter_works_too(workers_ai_emulator: Emulator) -> None:
    from langchain_core.rate_limiters import InMemoryRateLimiter

    limiter = InMemoryRateLimiter(requests_per_second=1000, check_every_n_seconds=0.001, max_bucket_size=10)
    assert make_llm(workers_ai_emulator, limiter).chat(HI).message.content == "You asked: hi"


def test_llamaindexs_own_limiter_works_too(workers_ai_emulator: Emulator) -> None:
    rate_limiter = pytest.importorskip("llama_index.core.rate_limiter")
    limiter = rate_limiter.TokenBucketRateLimiter(requests_per_minute=6000)
    llm = make_llm(workers_ai_emulator, limiter)
    assert llm.rate_limiter is limiter
    assert llm.chat(HI).message.content == "You asked: hi"
    assert llm.chat_queued([HI], polling=Polling(interval=0.0))[0].message.content == "You asked: hi"  # type: ignore[union-attr]


def test_something_else_is_refused(workers_ai_emulator: Emulator) -> None:
    with pytest.raises(ValidationError, match="acquire"):
        make_llm(workers_ai_emulator, object())


def test_the_limiter_stays_out_of_the_serialized_model(workers_ai_emulator: Emulator) -> None:
    llm = make_llm(workers_ai_emulator, RateLimiter(requests_per_second=5))
    assert "rate_limiter" not in llm.to_dict()
