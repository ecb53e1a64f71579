"""Answer a dataset of prompts with gpt-oss across a Ray cluster: Ray Data's `map_batches`, one model per task.

    pip install 'cfai[langchain,ray]'
    python examples/ray_batch.py            # against the bundled emulator on 127.0.0.1: no account, no network
    python examples/ray_batch.py --live     # against Cloudflare, with CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN

The model is built once on the driver and shipped to every task with the batch function (it pickles: settings
only, never connections); each task sends its batch with LangChain's thread-pooled `batch`. Workers AI allows
300 requests per minute by default: `max_concurrency` bounds each task, and `num_tasks * max_concurrency` bounds
the cluster. For jobs that can wait minutes, Workers AI's own batch queue (`llm.batch_queued`) needs no cluster.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any

import ray
import ray.data

from langchain_cfai import ChatWorkersAI


def answer_batch(batch: dict[str, Any], llm: ChatWorkersAI, max_concurrency: int) -> dict[str, Any]:
    """One Ray Data batch: its prompts answered in order, next to their row numbers."""
    replies = llm.batch([str(prompt) for prompt in batch["prompt"]], config={"max_concurrency": max_concurrency})
    return {"row": batch["row"], "answer": [reply.content for reply in replies]}


def answer_prompts(
    prompts: list[str], llm: ChatWorkersAI, *, batch_size: int = 32, max_concurrency: int = 8
) -> list[str]:
    """The answers to `prompts`, in their order (Ray Data may finish batches in any order)."""
    dataset = ray.data.from_items([{"row": row, "prompt": prompt} for row, prompt in enumerate(prompts)])
    answered = dataset.map_batches(
        answer_batch, fn_kwargs={"llm": llm, "max_concurrency": max_concurrency}, batch_size=batch_size
    )
    rows = sorted(answered.take_all(), key=lambda row: int(row["row"]))
    return [str(row["answer"]) for row in rows]


@contextlib.contextmanager
def connection(live: bool) -> Iterator[dict[str, Any]]:
    if live:
        yield {}
        return
    from cfai.emulator import Emulator

    with Emulator() as emulator:
        yield {"base_url": emulator.v1_url, "api_token": emulator.api_token}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live", action="store_true", help="call Cloudflare instead of the local emulator")
    parser.add_argument("--prompts", type=int, default=100, help="how many prompts to answer")
    args = parser.parse_args(argv)
    with connection(args.live) as settings:
        llm = ChatWorkersAI(reasoning_effort="low", max_retries=4, **settings)
        ray.init(include_dashboard=False, ignore_reinit_error=True)
        try:
            answers = answer_prompts([f"Give one fact about the number {n}." for n in range(args.prompts)], llm)
        finally:
            ray.shutdown()
    for answer in answers[:5]:
        print(answer)
    print(f"... {len(answers)} answers")


if __name__ == "__main__":
    main()
