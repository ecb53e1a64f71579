"""Third-party servers as child processes: started on a free loopback port, waited for, and always stopped.

A server runs in its own session (process group), so that Ctrl-C in the terminal reaches the harness alone, which
then stops the whole group itself: first politely, then by force after a bounded wait. Startup is bounded too: the
harness polls the server's URL until it answers, the process dies, or the deadline passes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

LOOPBACK = "127.0.0.1"
_POLL_SECONDS = 0.2
_STOP_SECONDS = 10.0
_LOG_TAIL_LINES = 25


@dataclass(frozen=True)
class Target:
    """A running server, as the scenarios see it: where to send requests, and what to say about captures."""

    key: str
    title: str
    base_url: str
    api_token: str
    fixture_prefix: str
    provenance: str


class ServerStartError(RuntimeError):
    """A server did not come up; the message ends with the last lines of its log."""


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def installed_version(python: Path, distribution: str) -> str:
    """The version of `distribution` installed in the environment of `python` (another virtual environment)."""
    script = "import importlib.metadata, sys; print(importlib.metadata.version(sys.argv[1]))"
    if not python.exists():
        raise ServerStartError(f"{python} does not exist: create the environment first (conformance/README.md)")
    done = subprocess.run(
        [str(python), "-c", script, distribution], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise ServerStartError(f"{distribution} is not installed for {python}: {done.stderr.strip()[-300:]}")
    return done.stdout.strip()


def log_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class ServerProcess:
    """`with ServerProcess(...):` runs `command` until the block ends, however it ends.

    `ready_url` is any URL of the server: the first HTTP answer, whatever its status, means it is serving.
    """

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str],
        log_path: Path,
        ready_url: str,
        start_timeout: float,
        cwd: Path | None = None,
    ) -> None:
        if httpx.URL(ready_url).host != LOOPBACK:
            raise ValueError(f"{name}: refusing to poll {ready_url}, which is not on {LOOPBACK}")
        self.name = name
        self.command = list(command)
        self.env = dict(env)
        self.log_path = log_path
        self.ready_url = ready_url
        self.start_timeout = start_timeout
        self.cwd = cwd
        self.startup_seconds = 0.0
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServerProcess:
        started = time.monotonic()
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_until_ready(started + self.start_timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_until_ready(self, deadline: float) -> None:
        assert self._process is not None
        while True:
            code = self._process.poll()
            if code is not None:
                raise ServerStartError(f"{self.name} exited with status {code}:\n{log_tail(self.log_path)}")
            try:
                httpx.get(self.ready_url, timeout=1.0)
                return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"{self.name} did not answer within {self.start_timeout:.0f} s:\n{log_tail(self.log_path)}"
                )
            time.sleep(_POLL_SECONDS)

    def stop(self) -> None:
        """Stops the server's process group: SIGTERM, then SIGKILL if it is still there after a bounded wait."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        for signal_number in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, signal_number)  # the group this Popen created (start_new_session)
            except ProcessLookupError:
                return
            try:
                process.wait(timeout=_STOP_SECONDS)
                return
            except subprocess.TimeoutExpired:
                continue
