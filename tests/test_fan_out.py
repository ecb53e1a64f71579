"""Models travel to other processes: a `multiprocessing` spawn pool and Ray tasks, and the Ray Data example.

Each worker process gets the model pickled (settings only) and calls the emulator on this machine's loopback. The
Ray tests are skipped only when Ray is not installed (the `ray` extra, part of `dev`); they share one small local
Ray instance: one CPU, no dashboard, shut down after the module.
"""

from __future__ import annotations

import multiprocessing
import os
import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.fan_out import ask

from cfai.emulator import Emulator
from langchain_cfai import ChatWorkersAI
from llamaindex_cfai import WorkersAI

pytestmark = pytest.mark.long
TESTS = Path(__file__).parent
RAY_EXAMPLE = TESTS.parent / "examples" / "ray_batch.py"


def models(emulator: Emulator) -> list[Any]:
    settings = {"base_url": emulator.v1_url, "api_token": emulator.api_token, "max_retries": 0}
    return [ChatWorkersAI(**settings), WorkersAI(**settings)]


def test_models_work_from_a_spawn_pool(workers_ai_emulator: Emulator) -> None:
    chat, llm = models(workers_ai_emulator)
    chat.invoke("warm up")  # a model that already holds clients still pickles (without them)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        # One job each, so that each process imports one framework (imports are most of the time this takes).
        results = pool.starmap(ask, [(chat, "one"), (llm, "two")], chunksize=1)
    assert [answer for _, answer in results] == ["You asked: one", "You asked: two"]
    assert os.getpid() not in {pid for pid, _ in results}
    assert len(workers_ai_emulator.requests) == 3


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as patch:
        # Read when Ray is imported: a single-machine Ray on loopback (else it addresses its own processes by the
        # machine's network address), and no usage report leaving the machine.
        patch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        patch.setenv("RAY_USAGE_STATS_ENABLED", "0")
        # Ray's workers import `support.fan_out` by name, as a spawn pool's do.
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])))
        ray = pytest.importorskip("ray")
        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
        try:
            assert ray.nodes()[0]["NodeManagerAddress"] == "127.0.0.1"
            yield ray
        finally:
            ray.shutdown()


def test_models_work_from_ray_tasks(ray_instance: Any, workers_ai_emulator: Emulator) -> None:
    # ChatWorkersAI only: WorkersAI pickles the same way (the spawn pool shows it), and importing LlamaIndex in the
    # Ray worker would cost seconds for nothing new.
    chat = models(workers_ai_emulator)[0]
    remote_ask = ray_instance.remote(ask)
    results = ray_instance.get([remote_ask.remote(chat, f"question {n}") for n in range(3)])
    assert [answer for _, answer in results] == [f"You asked: question {n}" for n in range(3)]
    assert os.getpid() not in {pid for pid, _ in results}


def test_the_ray_data_example_answers_in_order(ray_instance: Any, workers_ai_emulator: Emulator) -> None:
    pytest.importorskip("ray.data")
    example = runpy.run_path(str(RAY_EXAMPLE))
    chat = models(workers_ai_emulator)[0]
    prompts = [f"prompt {n}" for n in range(40)]
    answers = example["answer_prompts"](prompts, chat, batch_size=8, max_concurrency=4)
    assert answers == [f"You asked: prompt {n}" for n in range(40)]
    assert len(workers_ai_emulator.requests) == 40
