"""The emulator in a child process, so its CPU time and memory never count against the client being measured.

The child serves `cfai.emulator.Emulator` on 127.0.0.1, prints its addresses as one JSON line, then answers commands
read line by line from stdin: `count` (TCP connections accepted since the last reset), `reset`, `quit`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from types import TracebackType
from typing import Any

from benchmarks.canned import API_TOKEN

_START_SECONDS = 30


def serve() -> None:
    from cfai.emulator import Emulator

    with Emulator(api_token=API_TOKEN) as emulator:
        address = {
            "v1_url": emulator.v1_url,
            "root_url": f"{emulator.base_url}/client/v4",
            "api_token": emulator.api_token,
            "account_id": emulator.account_id,
        }
        print(json.dumps(address), flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "count":
                print(emulator.connections_opened, flush=True)
            elif command == "reset":
                emulator.reset()
                print("ok", flush=True)
            elif command == "quit":
                break


class EmulatorProcess:
    """`with EmulatorProcess() as emulator:` starts the child; `.address` holds v1_url, root_url, token, account."""

    def __init__(self) -> None:
        self._child: subprocess.Popen[str] | None = None
        # A file, not a pipe: a chatty child must never block on a full stderr pipe nobody reads.
        self._errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in __exit__, it outlives a block
        self.address: dict[str, Any] = {}

    def __enter__(self) -> EmulatorProcess:
        self._child = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.emulator_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            text=True,
        )
        first = self._readline()
        try:
            self.address = json.loads(first)
        except ValueError:
            detail = first or self._stderr()
            self.__exit__(None, None, None)
            raise RuntimeError(f"the emulator did not start: {detail}") from None
        return self

    def _readline(self) -> str:
        assert self._child is not None and self._child.stdout is not None
        return self._child.stdout.readline().strip()

    def _stderr(self) -> str:
        self._errors.seek(0)
        lines = self._errors.read().strip().splitlines()
        return lines[-1] if lines else "no output"

    def _ask(self, command: str) -> str:
        assert self._child is not None and self._child.stdin is not None
        self._child.stdin.write(command + "\n")
        self._child.stdin.flush()
        return self._readline()

    def connections_opened(self) -> int:
        return int(self._ask("count"))

    def reset(self) -> None:
        self._ask("reset")

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        child, self._child = self._child, None
        if child is None:
            self._errors.close()
            return
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
    serve()
