"""Where one contender's time goes: cProfile over many calls through the canned mock, top functions printed.

    python -m benchmarks.profile_calls ChatWorkersAI                  # sync invoke, by cumulative time
    python -m benchmarks.profile_calls WorkersAI --async --sort tottime
    python -m benchmarks.profile_calls "ChatWorkersAI.stream, chat_completions" --calls 5

A name is any contender of the overhead section (`benchmarks.contenders`) or any stream of the streaming section
(`benchmarks.streaming`); for streams, `--calls` counts whole 4,000-token streams. cProfile inflates the cost of
small functions, so read it for where time goes, and the benchmark itself for how much.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
from collections.abc import Callable, Sequence

from benchmarks import streaming
from benchmarks.canned import API_TOKEN, MOCK_ROOT, MOCK_V1_URL
from benchmarks.contenders import BUILDERS, Endpoint
from benchmarks.mock_transport import long_server
from benchmarks.overhead import mock_endpoint

WARM_UP_CALLS = 100


def _workload(name: str, asynchronous: bool) -> Callable[[int], None]:
    if name in BUILDERS:
        contender = BUILDERS[name](mock_endpoint())
        if asynchronous:

            async def many(count: int) -> None:
                for _ in range(count):
                    await contender.ainvoke()

            return lambda count: asyncio.run(many(count))

        def calls(count: int) -> None:
            for _ in range(count):
                contender.invoke()

        return calls
    endpoint = Endpoint(MOCK_V1_URL, MOCK_ROOT, API_TOKEN, transport=long_server().transport())
    stream = streaming.stream_builders(include_alternatives=True)[name](endpoint)

    def streams(count: int) -> None:
        for _ in range(count):
            stream()

    return streams


def main(argv: Sequence[str] | None = None) -> None:
    names = [*BUILDERS, *streaming.stream_builders(include_alternatives=True)]
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_calls", description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=names, metavar="NAME", help=f"one of: {', '.join(names)}")
    parser.add_argument("--async", dest="asynchronous", action="store_true", help="profile ainvoke/achat")
    parser.add_argument("--calls", type=int, default=3_000)
    parser.add_argument("--sort", default="cumulative", help="pstats sort key: cumulative, tottime, ncalls")
    parser.add_argument("--limit", type=int, default=40)
    arguments = parser.parse_args(argv)
    workload = _workload(arguments.name, arguments.asynchronous)
    workload(min(WARM_UP_CALLS, arguments.calls))
    profiler = cProfile.Profile()
    profiler.enable()
    workload(arguments.calls)
    profiler.disable()
    pstats.Stats(profiler).strip_dirs().sort_stats(arguments.sort).print_stats(arguments.limit)


if __name__ == "__main__":
    main()
