"""A canned HTTP/1.1 server on a loopback socket, in a child process, whose own CPU time is measured.

Every POST gets the same prebuilt answer, chosen by the end of the path, over kept-alive connections:

- any path: the Responses object of `tests/fixtures/responses-text.json` (JSON, with a content length);
- `.../stream`: a Chat Completions SSE reply of `--events` events, chunked, one chunk written per event;
- `.../cut`: the JSON reply's headers and half its body, then the connection is closed (a cut reply);
- `.../stream-cut`: the first half of the SSE events, then the connection is closed (a cut stream);
- `.../hang`: nothing, ever (a server that does not answer: the client's read timeout).

The server does the least an HTTP server can (an `asyncio.Protocol` that finds the header block, reads the body by
its content length and writes prebuilt bytes), so that the clients measured against it, not the server, are the
bottleneck; `stats` reports the server's CPU time since the last `reset`, which the benchmark prints beside the
clients' figures to show it. Commands, one per line on stdin: `stats` (a JSON line: connections opened, connections
that served a request, requests, CPU seconds), `reset`, `quit`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TypeVar

from benchmarks.canned import dump, load_responses_reply, sse_events

_START_SECONDS = 30
SSE_EVENTS = 300
T = TypeVar("T")


def _json_answer(body: bytes) -> bytes:
    head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


_SSE_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
_LAST_CHUNK = b"0\r\n\r\n"


@dataclass
class Counters:
    opened: int = 0
    used: int = 0
    requests: int = 0
    generation: int = 0
    cpu_start: float = 0.0

    def reset(self) -> None:
        self.opened = self.used = self.requests = 0
        self.generation += 1  # connections that serve a request from now on count as used again
        self.cpu_start = time.process_time()

    def stats(self) -> dict[str, float]:
        cpu = time.process_time() - self.cpu_start
        return {"opened": self.opened, "used": self.used, "requests": self.requests, "cpu": cpu}


@dataclass(frozen=True)
class Answers:
    json: bytes
    cut: bytes
    sse: tuple[bytes, ...]


def answers(events: int) -> Answers:
    whole = _json_answer(dump(load_responses_reply()))
    return Answers(
        json=whole, cut=whole[: len(whole) - len(whole) // 4], sse=tuple(_chunk(e) for e in sse_events(events))
    )


class _Connection(asyncio.Protocol):
    """One client connection: requests parsed as they arrive, answered in order."""

    def __init__(self, counters: Counters, canned: Answers) -> None:
        self._counters = counters
        self._canned = canned
        self._buffer = bytearray()
        self._path = b""
        self._expected: int | None = None
        self._generation = -1
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._counters.opened += 1

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while self._transport is not None:
            if self._expected is None:
                end = self._buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(self._buffer[:end]).lower()
                del self._buffer[: end + 4]
                self._path = head.split(b" ", 2)[1].split(b"?", 1)[0]
                self._expected = _content_length(head)
            if len(self._buffer) < self._expected:
                return
            del self._buffer[: self._expected]
            self._expected = None
            self._answer(self._path)

    def _answer(self, path: bytes) -> None:
        assert self._transport is not None
        counters = self._counters
        counters.requests += 1
        if self._generation != counters.generation:
            self._generation = counters.generation
            counters.used += 1
        if path.endswith(b"/hang"):
            return
        if path.endswith(b"/cut"):
            self._transport.write(self._canned.cut)
            self._transport.close()
            return
        if path.endswith(b"/stream") or path.endswith(b"/stream-cut"):
            self._stream(cut=path.endswith(b"-cut"))
            return
        self._transport.write(self._canned.json)

    def _stream(self, *, cut: bool) -> None:
        assert self._transport is not None
        events = self._canned.sse[: len(self._canned.sse) // 2] if cut else self._canned.sse
        self._transport.write(_SSE_HEAD)
        for event in events:  # one write per event, as a streaming server sends them
            self._transport.write(event)
        if cut:
            self._transport.close()
        else:
            self._transport.write(_LAST_CHUNK)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None


def _content_length(head: bytes) -> int:
    start = head.find(b"\r\ncontent-length:")
    if start < 0:
        return 0
    end = head.find(b"\r\n", start + 2)
    return int(head[start + 17 : end if end >= 0 else None])


def _in_loop(loop: asyncio.AbstractEventLoop, function: Callable[[], T]) -> T:
    """Runs `function` in the server's loop thread, between two requests, and waits for its result."""

    async def call() -> T:
        return function()

    return asyncio.run_coroutine_threadsafe(call(), loop).result()


def serve(events: int) -> None:
    counters = Counters()
    canned = answers(events)
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(lambda: _Connection(counters, canned), "127.0.0.1", 0, backlog=1024)
    )
    port = server.sockets[0].getsockname()[1]
    threading.Thread(target=loop.run_forever, daemon=True).start()
    print(json.dumps({"base_url": f"http://127.0.0.1:{port}"}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "stats":
            print(json.dumps(_in_loop(loop, counters.stats)), flush=True)
        elif command == "reset":
            _in_loop(loop, counters.reset)
            print("ok", flush=True)
        elif command == "quit":
            break
    loop.call_soon_threadsafe(loop.stop)


@dataclass(frozen=True)
class ServerStats:
    opened: int
    used: int
    requests: int
    cpu: float


class SocketServer:
    """`with SocketServer() as server:` starts the child; `.base_url` is `http://127.0.0.1:PORT`."""

    def __init__(self, events: int = SSE_EVENTS) -> None:
        self._events = events
        self._child: subprocess.Popen[str] | None = None
        # A file, not a pipe: a chatty child must never block on a full stderr pipe nobody reads.
        self._errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in __exit__, it outlives a block
        self.base_url = ""

    def __enter__(self) -> SocketServer:
        self._child = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.socket_server", "--events", str(self._events)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            text=True,
        )
        first = self._readline()
        try:
            self.base_url = json.loads(first)["base_url"]
        except (ValueError, KeyError):
            self._errors.seek(0)
            detail = first or self._errors.read().strip()[-300:] or "no output"
            self.__exit__(None, None, None)
            raise RuntimeError(f"the canned socket server did not start: {detail}") from None
        return self

    def _readline(self) -> str:
        assert self._child is not None and self._child.stdout is not None
        return self._child.stdout.readline().strip()

    def _ask(self, command: str) -> str:
        assert self._child is not None and self._child.stdin is not None
        self._child.stdin.write(command + "\n")
        self._child.stdin.flush()
        return self._readline()

    def reset(self) -> None:
        self._ask("reset")

    def stats(self) -> ServerStats:
        values = json.loads(self._ask("stats"))
        return ServerStats(int(values["opened"]), int(values["used"]), int(values["requests"]), values["cpu"])

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        child, self._child = self._child, None
        try:
            if child is not None:
                try:
                    if child.poll() is None and child.stdin is not None:
                        child.stdin.write("quit\n")
                        child.stdin.flush()
                    child.wait(timeout=_START_SECONDS)
                except (OSError, subprocess.TimeoutExpired):
                    child.kill()
                    child.wait()
        finally:
            self._errors.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.socket_server", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=SSE_EVENTS, help="events in the SSE reply")
    serve(parser.parse_args().events)
