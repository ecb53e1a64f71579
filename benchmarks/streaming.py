"""Section 2: a long reply (4,000 output tokens: 1,000 reasoning, 3,000 answer) through `stream()`.

`buffered` mode fetches the Responses object once and replays it as a few events; `chat_completions` mode parses
Cloudflare's token-by-token SSE (one network chunk per token). langchain-cloudflare streams the same SSE bytes.
Each stream is consumed whole; its answer text and its reasoning are checked against the canned ones. Wall time and
CPU time are measured per stream in rounds whose order rotates, with a full collection before every stream.

Targets (issue 12): `ChatWorkersAI` in `chat_completions` mode spends no more CPU per chunk than langchain-cloudflare
on the same bytes, and keeps the reasoning (which langchain-cloudflare drops).
"""

from __future__ import annotations

import gc
import json
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

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
    reply_texts,
)
from benchmarks.contenders import Endpoint, Unavailable, chat_cloudflare, chat_workers_ai, workers_ai
from benchmarks.mock_transport import long_server
from benchmarks.report import TIMES, Row, Section, ratio, spread
from benchmarks.timing import rotated

RAW_SSE = "raw httpx SSE (iter_lines + json.loads)"
CORE_SSE = "cfai WorkersAIClient.stream, chat_completions"
LC_BUFFERED = "ChatWorkersAI.stream, buffered"
LC_TOKENS = "ChatWorkersAI.stream, chat_completions"
LC_CLOUDFLARE = "ChatCloudflareWorkersAI.stream (Chat Completions SSE)"
LI_BUFFERED = "WorkersAI.stream_chat, buffered"
LI_TOKENS = "WorkersAI.stream_chat, chat_completions"

WITHIN_CLOUDFLARE = 1.0


class Streamed(NamedTuple):
    """What one whole stream delivered."""

    chunks: int
    text: str
    reasoning: str


# A stream function consumes one whole stream.
StreamRun = Callable[[], Streamed]


@dataclass
class StreamSamples:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    first: Streamed = field(default_factory=lambda: Streamed(0, "", ""))

    def cpu_per_chunk(self) -> list[float]:
        return [cpu / max(self.first.chunks, 1) for cpu in self.cpu]


def _consume(chunks: Iterable[Any], text_of: Callable[[Any], str], reasoning_of: Callable[[Any], str]) -> Streamed:
    count = 0
    texts: list[str] = []
    reasoning: list[str] = []
    for chunk in chunks:
        count += 1
        texts.append(text_of(chunk))
        reasoning.append(reasoning_of(chunk))
    return Streamed(count, "".join(texts), "".join(reasoning))


def _blocks(content: Any, kind: str, key: str) -> str:
    if isinstance(content, str):
        return content if kind == "text" else ""
    return "".join(block.get(key, "") for block in content if isinstance(block, dict) and block.get("type") == kind)


def _langchain_text(chunk: Any) -> str:
    return _blocks(chunk.content, "text", "text")


def _langchain_reasoning(chunk: Any) -> str:
    # cfai puts it in additional_kwargs["reasoning_content"]; with output_version="v1" it is a content block.
    found = chunk.additional_kwargs.get("reasoning_content")
    return found if isinstance(found, str) else _blocks(chunk.content, "reasoning", "reasoning")


def _raw_sse(endpoint: Endpoint) -> StreamRun:
    client = endpoint.sync_client() or httpx.Client()
    url = f"{endpoint.v1_url}/chat/completions"
    body = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}], "stream": True}

    def run() -> Streamed:
        count, texts, reasoning = 0, [], []
        with client.stream("POST", url, json=body, headers={"authorization": f"Bearer {API_TOKEN}"}) as response:
            for line in response.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                count += 1
                for choice in json.loads(line[6:]).get("choices") or ():
                    delta = choice.get("delta", {})
                    texts.append(delta.get("content") or "")
                    reasoning.append(delta.get("reasoning_content") or "")
        return Streamed(count, "".join(texts), "".join(reasoning))

    return run


def _core_sse(endpoint: Endpoint) -> StreamRun:
    from cfai import WorkersAIClient
    from cfai.wire import ReasoningDelta, TextDelta, build_request

    client = WorkersAIClient(api_token=endpoint.api_token, base_url=endpoint.v1_url, http_client=endpoint.sync_client())

    def run() -> Streamed:
        events = client.stream(build_request(model=MODEL, input=PROMPT), mode="chat_completions")
        return _consume(
            events,
            lambda event: event.delta if isinstance(event, TextDelta) else "",
            lambda event: event.delta if isinstance(event, ReasoningDelta) else "",
        )

    return run


def _langchain_stream(model: Any) -> StreamRun:
    return lambda: _consume(model.stream(PROMPT), _langchain_text, _langchain_reasoning)


def _llamaindex_stream(llm: Any) -> StreamRun:
    from llama_index.core.llms import ChatMessage

    messages = [ChatMessage(role="user", content=PROMPT)]
    return lambda: _consume(
        llm.stream_chat(messages),
        lambda response: response.delta or "",
        lambda response: response.additional_kwargs.get("thinking_delta") or "",
    )


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
    samples: dict[str, StreamSamples] = {}
    for name, run in list(runs.items()):
        try:
            samples[name] = StreamSamples(first=run())
        except Exception as error:
            missing[name] = f"stream failed: {type(error).__name__}: {str(error)[:160]}"
            del runs[name]
    for round_number in range(rounds):
        for name in rotated(list(runs), round_number):
            # A collection before every stream: otherwise whoever runs last in a round pays the garbage collector
            # for the streams before it (a fixed order once made one contender look 2x slower).
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            runs[name]()
            samples[name].wall.append(time.perf_counter() - wall)
            samples[name].cpu.append(time.process_time() - cpu)
    return samples


@dataclass(frozen=True)
class Expected:
    reasoning_tokens: int
    text_tokens: int
    reasoning: str
    text: str

    @classmethod
    def of(cls, reasoning_tokens: int, text_tokens: int) -> Expected:
        reasoning, text = reply_texts(long_responses_reply(reasoning_tokens, text_tokens))
        return cls(reasoning_tokens, text_tokens, reasoning, text)

    @property
    def tokens(self) -> int:
        return self.reasoning_tokens + self.text_tokens


def _row(name: str, sample: StreamSamples, expected: Expected) -> Row:
    reasoning, text = expected.reasoning, expected.text
    wall = statistics.median(sample.wall)
    per_chunk = sample.cpu_per_chunk()
    checks = [
        "answer complete" if sample.first.text == text else "answer text INCOMPLETE",
        "reasoning kept" if sample.first.reasoning == reasoning else "reasoning DROPPED",
    ]
    context = (
        f"{sample.first.chunks:,} chunks in {wall * 1e3:,.1f} ms ({expected.tokens / wall:,.0f} tokens/s); "
        + ", ".join(checks)
    )
    return Row(f"{name}: CPU per chunk", _micro(statistics.median(per_chunk)), context, spread(per_chunk, _micro))


def _micro(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f} µs"


def _ratio_row(subject: str, baseline: str, samples: dict[str, StreamSamples], bound: float | None = None) -> Row:
    label = f"{subject} ÷ {baseline}, CPU per chunk"
    target = f"≤ {bound:.1f}{TIMES}" if bound is not None else ""
    if subject not in samples or baseline not in samples:
        return Row(label, "n/a", "not measured", target=target, passed=False if target else None)
    ratios = [
        mine / theirs
        for mine, theirs in zip(samples[subject].cpu_per_chunk(), samples[baseline].cpu_per_chunk(), strict=True)
    ]
    value = statistics.median(ratios)
    context = (
        f"{_micro(statistics.median(samples[subject].cpu_per_chunk()))} vs "
        f"{_micro(statistics.median(samples[baseline].cpu_per_chunk()))}"
    )
    return Row(label, ratio(value), context, spread(ratios), target, None if bound is None else value <= bound)


def _reasoning_row(name: str, samples: dict[str, StreamSamples], missing: dict[str, str], expected: Expected) -> Row:
    reasoning = expected.reasoning
    label = f"{name}: reasoning kept across the stream"
    target = f"all {expected.reasoning_tokens:,} reasoning tokens"
    if name not in samples:
        return Row(label, "n/a", missing.get(name, "not run"), target=target, passed=False)
    got = samples[name].first.reasoning
    return Row(
        label,
        "yes" if got == reasoning else "no",
        f"{len(got):,} of {len(reasoning):,} characters",
        target=target,
        passed=got == reasoning,
    )


LONG_EVENT_BYTES = 16_000_000
LONG_EVENT_CHUNK = 4_096


def _decode_seconds(chunks: list[bytes]) -> float:
    from cfai.wire.sse import SSEDecoder

    decoder = SSEDecoder()
    start = time.process_time()
    events = [event for chunk in chunks for event in decoder.feed(chunk)] + decoder.close()
    seconds = time.process_time() - start
    assert len(events) == 1, "the long event must come out whole, once"
    return seconds


def long_event_rows(rounds: int, size: int = LONG_EVENT_BYTES) -> list[Row]:
    """One event of `size` bytes (one line, then many) decoded from chunks of 4 KB against from one piece: the
    decoder's time must grow with the event, not with its square (a server may trickle a large final object)."""
    rows = []
    for shape, body in (
        ("one line", b"data: " + b"x" * size + b"\n\n"),
        ("lines of 100 bytes", b"".join(b"data: " + b"y" * 94 + b"\n" for _ in range(size // 100)) + b"\n"),
    ):
        chunked = [body[start : start + LONG_EVENT_CHUNK] for start in range(0, len(body), LONG_EVENT_CHUNK)]
        ratios, chunked_seconds, whole_seconds = [], [], []
        for _ in range(rounds):
            gc.collect()
            chunked_seconds.append(_decode_seconds(chunked))
            whole_seconds.append(_decode_seconds([body]))
            ratios.append(chunked_seconds[-1] / max(whole_seconds[-1], 1e-9))
        context = (
            f"{statistics.median(chunked_seconds) * 1e3:,.0f} ms in {len(chunked):,} chunks, "
            f"{statistics.median(whole_seconds) * 1e3:,.0f} ms in one"
        )
        label = f"cfai SSE decoder, a {size / 1e6:,.1f} MB event ({shape}) in {LONG_EVENT_CHUNK:,} B chunks ÷ whole"
        rows.append(Row(label, ratio(statistics.median(ratios)), context, spread(ratios)))
    return rows


def run(
    *,
    rounds: int,
    include_alternatives: bool = True,
    reasoning_tokens: int = LONG_REASONING_TOKENS,
    text_tokens: int = LONG_TEXT_TOKENS,
    long_event_bytes: int = LONG_EVENT_BYTES,
) -> Section:
    expected = Expected.of(reasoning_tokens, text_tokens)
    server = long_server(reasoning_tokens, text_tokens)
    endpoint = Endpoint(MOCK_V1_URL, MOCK_ROOT, API_TOKEN, transport=server.transport())
    runs, missing = _build(endpoint, include_alternatives)
    samples = measure(runs, rounds, missing)
    section = Section(f"2. Streaming a long reply ({expected.tokens:,} output tokens: reasoning and text)")
    if include_alternatives:
        section.add(_ratio_row(LC_TOKENS, LC_CLOUDFLARE, samples, WITHIN_CLOUDFLARE))
    section.add(_reasoning_row(LC_TOKENS, samples, missing, expected))
    section.add(_reasoning_row(LI_TOKENS, samples, missing, expected))
    for subject, baseline in ((LI_TOKENS, LC_TOKENS), (LC_TOKENS, CORE_SSE), (CORE_SSE, RAW_SSE)):
        if subject in samples and baseline in samples:
            section.add(_ratio_row(subject, baseline, samples))
    section.rows += [_row(name, sample, expected) for name, sample in samples.items()]
    section.rows += long_event_rows(rounds, long_event_bytes)
    section.notes += [f"- {name} not measured: {why}" for name, why in missing.items()]
    section.notes.append(
        f"- Rounds: {rounds}, order rotating, a full collection before each stream; CPU (process) time per whole "
        "stream divided by its chunks, median (min to max) of rounds. langchain-cloudflare passes on only "
        "`delta.content`: its reasoning chunks arrive empty (docs/alternatives.md). The buffered rows replay one "
        "reply as a few chunks, so their CPU per chunk is the whole call's. The long-event rows time the decoder "
        "alone (CPU), chunked and whole in turn each round; a decoder that rescans what it holds would grow with the "
        "square of the event."
    )
    return section
