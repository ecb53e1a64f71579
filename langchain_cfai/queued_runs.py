"""LangChain runs for the batch queue: one chat-model run per queued input, as `generate` starts one per prompt.

`ChatWorkersAI.batch_queued` starts every run before its submission and ends each with its own item's outcome once
the batch is back, or all of them with the error that stopped the batch (a failed submission, a batch still
pending when the wait ran out). So callbacks and tracers (LangSmith among them) see a queued call as they see a
direct one: its messages, invocation params, tags and metadata, then its answer or its error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import (
    AsyncCallbackManager,
    AsyncCallbackManagerForLLMRun,
    CallbackManager,
    CallbackManagerForLLMRun,
)
from langchain_core.load import dumpd
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.runnables import RunnableConfig, ensure_config

if TYPE_CHECKING:
    from langchain_cfai.chat_models import ChatWorkersAI

__all__ = ["AsyncQueuedRuns", "QueuedRuns", "astart_runs", "start_runs"]


def _configure(
    manager: type[CallbackManager] | type[AsyncCallbackManager],
    model: ChatWorkersAI,
    config: RunnableConfig | None,
    stop: list[str] | None,
    options: Mapping[str, Any],
) -> tuple[CallbackManager | AsyncCallbackManager, dict[str, Any]]:
    """The callback manager `generate` would configure for these calls, and the arguments of their runs' start."""
    config = ensure_config(config)  # also inherits the run this batch is called from, if any
    configured = manager.configure(
        config.get("callbacks"),
        model.callbacks,
        model.verbose,
        config.get("tags"),
        model.tags,
        {**config.get("metadata", {}), **model._get_ls_params(stop=stop, **options)},
        model.metadata,
    )
    start = {
        "invocation_params": model._get_invocation_params(stop=stop, **options),
        "options": {"stop": stop},
        "name": config.get("run_name"),
    }
    return configured, start


def _result(output: AIMessage) -> LLMResult:
    return LLMResult(generations=[[ChatGeneration(message=output)]])


class QueuedRuns:
    """The runs of one queued batch, in input order."""

    def __init__(self, runs: Sequence[CallbackManagerForLLMRun]) -> None:
        self.runs = runs

    def end(self, outputs: Sequence[AIMessage | BaseException]) -> None:
        """Ends each run with its item's message, or its item's error."""
        for run, output in zip(self.runs, outputs, strict=True):
            if isinstance(output, BaseException):
                run.on_llm_error(output)
            else:
                run.on_llm_end(_result(output))

    def fail(self, error: BaseException) -> None:
        """Ends every run with the error that stopped the whole batch."""
        for run in self.runs:
            run.on_llm_error(error)


class AsyncQueuedRuns:
    """The mirror of `QueuedRuns` for `abatch_queued`."""

    def __init__(self, runs: Sequence[AsyncCallbackManagerForLLMRun]) -> None:
        self.runs = runs

    async def end(self, outputs: Sequence[AIMessage | BaseException]) -> None:
        for run, output in zip(self.runs, outputs, strict=True):
            if isinstance(output, BaseException):
                await run.on_llm_error(output)
            else:
                await run.on_llm_end(_result(output))

    async def fail(self, error: BaseException) -> None:
        for run in self.runs:
            await run.on_llm_error(error)


def start_runs(
    model: ChatWorkersAI,
    conversations: list[list[BaseMessage]],
    config: RunnableConfig | None,
    stop: list[str] | None,
    options: Mapping[str, Any],
) -> QueuedRuns:
    """Starts one run per conversation, as `generate` does for a batch of prompts."""
    manager, start = _configure(CallbackManager, model, config, stop, options)
    assert isinstance(manager, CallbackManager)
    runs = manager.on_chat_model_start(dumpd(model), conversations, batch_size=len(conversations), **start)
    return QueuedRuns(runs)


async def astart_runs(
    model: ChatWorkersAI,
    conversations: list[list[BaseMessage]],
    config: RunnableConfig | None,
    stop: list[str] | None,
    options: Mapping[str, Any],
) -> AsyncQueuedRuns:
    manager, start = _configure(AsyncCallbackManager, model, config, stop, options)
    assert isinstance(manager, AsyncCallbackManager)
    runs = await manager.on_chat_model_start(dumpd(model), conversations, batch_size=len(conversations), **start)
    return AsyncQueuedRuns(runs)
