"""LangChain runs for the batch queue: one chat-model run per queued input, as `generate` starts one per prompt.

`ChatWorkersAI.batch_queued` starts every run before its submission and ends each with its own item's outcome once
the batch is back, or all of them with the error that stopped the batch (a failed submission, a batch still
pending when the wait ran out). So callbacks and tracers (LangSmith among them) see a queued call as they see a
direct one: its messages, invocation params, tags and metadata, then its answer or its error.
"""

from __future__ import annotations

from collections import deque
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
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import get_config_list

if TYPE_CHECKING:
    from langchain_cfai.chat_models import ChatWorkersAI

__all__ = ["AsyncQueuedRuns", "QueuedRuns", "astart_runs", "start_runs"]


def _run_starts(
    manager: type[CallbackManager] | type[AsyncCallbackManager],
    model: ChatWorkersAI,
    conversations: list[list[BaseMessage]],
    config: RunnableConfig | Sequence[RunnableConfig] | None,
    stop: list[str] | None,
    options: Mapping[str, Any],
) -> list[tuple[Any, dict[str, Any]]]:
    """For each conversation, the callback manager `generate` would configure for it and the arguments that start
    its run. `config` is one for all or one each, as `batch` takes it (`get_config_list`, which also inherits the run
    this batch is called from, if any)."""
    serialized, params = dumpd(model), model._get_invocation_params(stop=stop, **options)
    langsmith = model._get_ls_params(stop=stop, **options)  # the same for every input
    starts = []
    for conversation, one in zip(conversations, get_config_list(config, len(conversations)), strict=True):
        configured = manager.configure(
            one.get("callbacks"),
            model.callbacks,
            model.verbose,
            one.get("tags"),
            model.tags,
            {**one.get("metadata", {}), **langsmith},
            model.metadata,
        )
        start = {
            "serialized": serialized,
            "messages": [conversation],
            "run_id": one.get("run_id"),
            "invocation_params": params,
            "options": {"stop": stop},
            "name": one.get("run_name"),
            "batch_size": len(conversations),
        }
        starts.append((configured, start))
    return starts


def _result(output: AIMessage) -> LLMResult:
    return LLMResult(generations=[[ChatGeneration(message=output)]])


class QueuedRuns:
    """The runs of one queued batch, in input order; `end` or `fail` ends those still open."""

    def __init__(self, runs: Sequence[CallbackManagerForLLMRun]) -> None:
        self._open = deque(runs)

    def end(self, outputs: Sequence[AIMessage | BaseException]) -> None:
        """Ends each run with its item's message, or its item's error."""
        _check_counts(outputs, self._open)
        try:
            for output in outputs:
                # Taken off before it is ended: should a handler raise (`raise_error`), the others end with its error.
                run = self._open.popleft()
                if isinstance(output, BaseException):
                    run.on_llm_error(output)
                else:
                    run.on_llm_end(_result(output))
        except BaseException as error:
            self.fail(error)
            raise

    def fail(self, error: BaseException) -> None:
        """Ends every run still open with the error that stopped the whole batch."""
        while self._open:
            self._open.popleft().on_llm_error(error)


class AsyncQueuedRuns:
    """The mirror of `QueuedRuns` for `abatch_queued`."""

    def __init__(self, runs: Sequence[AsyncCallbackManagerForLLMRun]) -> None:
        self._open = deque(runs)

    async def end(self, outputs: Sequence[AIMessage | BaseException]) -> None:
        _check_counts(outputs, self._open)
        try:
            for output in outputs:
                run = self._open.popleft()
                if isinstance(output, BaseException):
                    await run.on_llm_error(output)
                else:
                    await run.on_llm_end(_result(output))
        except BaseException as error:
            await self.fail(error)
            raise

    async def fail(self, error: BaseException) -> None:
        while self._open:
            await self._open.popleft().on_llm_error(error)


def _check_counts(outputs: Sequence[object], runs: Sequence[object]) -> None:
    if len(outputs) != len(runs):
        raise ValueError(f"{len(outputs)} outcomes for {len(runs)} open runs")


def start_runs(
    model: ChatWorkersAI,
    conversations: list[list[BaseMessage]],
    config: RunnableConfig | Sequence[RunnableConfig] | None,
    stop: list[str] | None,
    options: Mapping[str, Any],
) -> QueuedRuns:
    """Starts one run per conversation, as `batch` does for its inputs."""
    runs: list[CallbackManagerForLLMRun] = []
    for manager, start in _run_starts(CallbackManager, model, conversations, config, stop, options):
        runs += manager.on_chat_model_start(**start)
    return QueuedRuns(runs)


async def astart_runs(
    model: ChatWorkersAI,
    conversations: list[list[BaseMessage]],
    config: RunnableConfig | Sequence[RunnableConfig] | None,
    stop: list[str] | None,
    options: Mapping[str, Any],
) -> AsyncQueuedRuns:
    runs: list[AsyncCallbackManagerForLLMRun] = []
    for manager, start in _run_starts(AsyncCallbackManager, model, conversations, config, stop, options):
        runs += await manager.on_chat_model_start(**start)
    return AsyncQueuedRuns(runs)
