"""`cfai emulator`: serve the local Workers AI emulator until Ctrl+C or SIGTERM, after printing how to reach it.

A port out of range, a port in use or an address that cannot be bound is one line, not a traceback.
"""

from __future__ import annotations

import argparse
import errno
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from cfai.commands import CommandError, emulator_extra_missing

if TYPE_CHECKING:
    from cfai.emulator.server import Emulator

__all__ = ["serve"]

_HIGHEST_PORT = 65_535


def serve(args: argparse.Namespace, out: TextIO) -> int:
    if not 0 <= args.port <= _HIGHEST_PORT:
        raise CommandError(f"--port {args.port} is not a TCP port: use 1 to {_HIGHEST_PORT}, or 0 for any free one", 2)
    try:
        from cfai.emulator.server import Emulator
        from cfai.emulator.state import DEFAULT_ACCOUNT_ID, DEFAULT_MODELS

        emulator = Emulator(
            api_token=args.token,
            account_id=args.account_id or DEFAULT_ACCOUNT_ID,
            port=args.port,
            host=args.host,
            models=args.models or DEFAULT_MODELS,
            stream_mode=args.stream_mode,
            allow_remote=args.allow_remote,
        )
        emulator.start()
    except ImportError as error:
        raise emulator_extra_missing(error) from None
    except OSError as error:
        raise CommandError(_bind_problem(args.host, args.port, error)) from None
    with _stop_on_sigterm() as stop:  # before the banner: a script may send SIGTERM as soon as it reads it
        try:
            _print_banner(emulator, out)
            while not stop.wait(0.5):  # a timed wait, so Ctrl+C interrupts it on every platform
                pass
        except KeyboardInterrupt:
            pass
        finally:
            emulator.stop()
    print("cfai emulator stopped", file=out, flush=True)
    return 0


def _bind_problem(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use; choose another with --port, or --port 0 for any free one"
    if error.errno == errno.EACCES:
        return f"not allowed to listen on port {port} (ports below 1024 need privileges); choose another with --port"
    return f"cannot listen on {host}:{port}: {error.strerror or error}"


@contextmanager
def _stop_on_sigterm() -> Iterator[threading.Event]:
    """An event SIGTERM sets (in the main thread, where signal handlers can be installed), for a clean stop."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print_banner(emulator: Emulator, out: TextIO) -> None:
    lines = [
        f"cfai Workers AI emulator listening on {emulator.base_url}",
        f"  base_url (v1)  {emulator.v1_url}",
        f"  api_token      {emulator.api_token}",
        f"  account_id     {emulator.account_id}",
        f"  run route      {emulator.run_url('@cf/openai/gpt-oss-120b')}",
        "To point cfai, ChatWorkersAI or WorkersAI at it:",
        f"  export CLOUDFLARE_AI_BASE_URL={emulator.v1_url}",
        f"  export CLOUDFLARE_API_TOKEN={emulator.api_token}",
        f"  export CLOUDFLARE_ACCOUNT_ID={emulator.account_id}",
        "Press Ctrl+C to stop.",
    ]
    print("\n".join(lines), file=out, flush=True)
