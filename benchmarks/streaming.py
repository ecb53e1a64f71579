"""Section 2: a long reply (4,000 output tokens: 1,000 reasoning, 3,000 answer) through `stream()`.

`buffered` mode fetches the Responses object once and replays it as a few events; `chat_completions` mode parses
Cloudflare's token-by-token SSE (one network chunk per token). langchain-cloudflare streams the same SSE bytes.
Each stream is consumed whole and its answer text checked against the canned one; wall time and CPU time are
measured per stream in interleaved rounds.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from benchmarks.canned import (
    API_TOKEN,
    LONG_REASONING_TOKENS,
    LONG_TEXT_TOKENS,
    MOCK_ROOT,
    MOCK_V1_URL,
    MODEL,
    PROMPT,
    long_responses_reply,
    long_server,
    reply_texts,
)
from benchmarks.contenders import Endpoint, Unavailable, chat_cloudflare, chat_workers_ai, workers_ai
from benchmarks.report import Row, Section, ratio

OUTPUT_TOKENS = LONG_REASONING_TOKENS + LONG_TEXT_TOKENS

RAW_SSE = "raw httpx SSE (iter_lines + json.loads)"
CORE_SSE = "cfai WorkersAIClient.stream, chat_completions"
LC_BUFFERED = "ChatWorkersAI.stream, buffered"
LC_TOKENS = "ChatWorkersAI.stream, chat_completions"
LC_CLOUDFLARE = "ChatCloudflareWorkersAI.stream (Chat Completions SSE)"
LI_BUFFERED = "WorkersAI.stream_chat, buffered"
LI_TOKENS = "WorkersAI.stream_chat, chat_completions"

# A stream function consumes one whole stream and returns (chunks, answer text).
StreamRun = Callable[[], tuple[int, str]]


@dataclass
class StreamSamples:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    chunks: int = 0
    complete: bool = False


def _count(chunks: Iterable[Any], text_of: Callable[[Any], str]) -> tuple[int, str]:
    count = 0
    parts: list[str] = []
    for chunk in chunks:
        count += 1
        parts.append(text_of(chunk))
    return count, "".join(parts)


def _langchain_text(chunk: Any) -> str:
    content = chunk.content
    if isinstance(content, str):
        return content
    texts = (block.get("text", "") for block in content if isinstance(block, dict) and block.get("type") == "text")
    return "".join(texts)


def _raw_sse(endpoint: Endpoint) -> StreamRun:
    client = endpoint.sync_client() or httpx.Client()
    url = f"{endpoint.v1_url}/chat/completions"
    body = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}], "stream": True}

    def run() -> tuple[int, str]:
        import json

        count, parts = 0, []
        with client.stream("POST", url, json=body, headers={"authorization": f"Bearer {API_TOKEN}"}) as response:
            for line in response.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                count += 1
                for choice in json.loads(line[6:]).get("choices") or ():
                    parts.append(choice.get("delta", {}).get("content") or "")
        return count, "".join(parts)

    return run


def _core_sse(endpoint: Endpoint) -> StreamRun:
    from cfai import WorkersAIClient
    from cfai.wire import TextDelta, build_request

    client = WorkersAIClient(api_token=endpoint.api_token, base_url=endpoint.v1_url, http_client=endpoint.sync_client())

    def run() -> tuple[int, str]:
        events = client.stream(build_request(model=MODEL, input=PROMPT), mode="chat_completions")
        return _count(events, lambda event: event.delta if isinstance(event, TextDelta) else "")

    return run


def _langchain_stream(model: Any) -> StreamRun:
    return lambda: _count(model.stream(PROMPT), _langchain_text)


def _llamaindex_stream(llm: Any) -> StreamRun:
    from llama_index.core.llms import ChatMessage

    messages = [ChatMessage(role="user", content=PROMPT)]
    return lambda: _count(llm.stream_chat(messages), lambda response: response.delta or "")


def stream_builders(include_alternatives: bool) -> dict[str, Callable[[Endpoint], StreamRun]]:
    builders: dict[str, Callable[[Endpoint], StreamRun]] = {
        RAW_SSE: _raw_sse,
        CORE_SSE: _core_sse,
        LC_BUFFERED: lambda endpoint: _langchain_stream(chat_workers_ai(endpoint, stream_mode="buffered")),
        LC_TOKENS: lambda endpoint: _langchain_stream(chat_workers_ai(endpoint, stream_mode="chat_completions")),
        LI_BUFFERED: lambda endpoint: _llamaindex_stream(workers_ai(endpoint, stream_mode="buffered")),
        LI_TOKENS: lambda endpoint: _llamaindex_stream(workers_ai(endpoint, stream_mode="chat_completions")),
    }
    if include_alternatives:
        builders[LC_CLOUDFLARE] = lambda endpoint: _langchain_stream(chat_cloudflare(endpoint))
    return builders


def _build(endpoint: Endpoint, include_alternatives: bool) -> tuple[dict[str, StreamRun], dict[str, str]]:
    runs: dict[str, StreamRun] = {}
    missing: dict[str, str] = {}
    for name, builder in stream_builders(include_alternatives).items():
        try:
            runs[name] = builder(endpoint)
        except Unavailable as error:
            missing[name] = str(error)
        except Exception as error:  # a half-written adapter must not stop the other rows
            missing[name] = f"construction failed: {type(error).__name__}: {error}"
    return runs, missing


def measure(runs: dict[str, StreamRun], rounds: int, missing: dict[str, str]) -> dict[str, StreamSamples]:
    expected = reply_texts(long_responses_reply())[1]
    samples: dict[str, StreamSamples] = {}
    for name, run in list(runs.items()):
        try:
            chunks, text = run()
        except Exception as error:
            missing[name] = f"stream failed: {type(error).__name__}: {str(error)[:160]}"
            del runs[name]
            continue
        samples[name] = StreamSamples(chunks=chunks, complete=text == expected)
    names = list(runs)
    for round_number in range(rounds):
        # Rotating order, and a collection before every stream: otherwise whoever runs last in a round pays the
        # garbage collector for the streams before it (a fixed order once made one contender look 2x slower).
        shift = round_number % len(names) if names else 0
        for name in names[shift:] + names[:shift]:
            run = runs[name]
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            samples[name].wall.append(time.perf_counter() - wall)
            samples[name].cpu.append(time.process_time() - cpu)
    return samples


def _row(name: str, sample: StreamSamples) -> Row:
    wall = statistics.median(sample.wall)
    cpu = statistics.median(sample.cpu)
    context = (
        f"{sample.chunks:,} chunks in {wall * 1e3:,.1f} ms; {sample.chunks / wall:,.0f} chunks/s; "
        f"CPU {cpu / sample.chunks * 1e6:,.1f} µs/chunk"
        + ("" if sample.complete else "; answer text incomplete")
    )
    return Row(name, f"{OUTPUT_TOKENS / wall:,.0f} tokens/s", context)


def _ratio_row(slower: str, faster: str, samples: dict[str, StreamSamples]) -> Row | None:
    if slower not in samples or faster not in samples:
        return None
    wall = statistics.median(a / b for a, b in zip(samples[slower].wall, samples[faster].wall, strict=True))
    cpu_per_chunk = statistics.median(samples[slower].cpu) / samples[slower].chunks
    ours = statistics.median(samples[faster].cpu) / samples[faster].chunks
    return Row(
        f"{slower} ÷ {faster}, time per stream",
        ratio(wall),
        f"CPU per chunk {cpu_per_chunk * 1e6:,.1f} µs vs {ours * 1e6:,.1f} µs",
    )


def run(*, rounds: int, include_alternatives: bool = True) -> Section:
    endpoint = Endpoint(MOCK_V1_URL, MOCK_ROOT, API_TOKEN, transport=long_server().transport())
    runs, missing = _build(endpoint, include_alternatives)
    samples = measure(runs, rounds, missing)
    section = Section(f"2. Streaming a long reply ({OUTPUT_TOKENS:,} output tokens: reasoning and text)")
    for name in (LC_CLOUDFLARE, LC_BUFFERED, LI_BUFFERED, RAW_SSE):
        row = _ratio_row(name, LC_TOKENS if name != LI_BUFFERED else LI_TOKENS, samples)
        if row:
            section.add(row)
    section.rows += [_row(name, sample) for name, sample in samples.items()]
    section.notes += [f"- {name} not measured: {why}" for name, why in missing.items()]
    section.notes.append(
        f"- Interleaved rounds: {rounds}, order rotating, a full collection before each stream; wall and CPU "
        "(process) time per whole stream, medians. "
        "langchain-cloudflare passes on only `delta.content`: its reasoning chunks arrive empty (docs/alternatives.md)."
    )
    return section
