"""The `cfai` command.

    cfai emulator [--host 127.0.0.1] [--port 8787] [--token test-token] [--account-id HEX]
                  [--stream-mode ignore|sse|reject] [--model NAME ...] [--allow-remote]

`cfai emulator` serves the local Workers AI emulator until interrupted and prints the base URL and token to use.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from cfai.emulator.server import Emulator, is_loopback
from cfai.emulator.state import DEFAULT_ACCOUNT_ID, DEFAULT_MODELS


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command != "emulator":
        parser.print_help()
        return 2
    if not args.allow_remote and not is_loopback(args.host):
        parser.error(f"--host {args.host} is not a loopback address; add --allow-remote to serve it anyway")
    return _serve(args, sys.stdout)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cfai", description="Cloudflare Workers AI gpt-oss tools.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    emulator = commands.add_parser(
        "emulator",
        help="serve a local Workers AI emulator",
        description="Serve a local Workers AI emulator (Responses, run and Chat Completions routes) until Ctrl+C.",
    )
    emulator.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    emulator.add_argument("--port", type=int, default=8787, help="port to bind, 0 for any free port (default: 8787)")
    emulator.add_argument("--token", default="test-token", help="the only API token accepted (default: test-token)")
    emulator.add_argument("--account-id", default=DEFAULT_ACCOUNT_ID, help="the only account id served")
    emulator.add_argument(
        "--stream-mode",
        choices=["ignore", "sse", "reject"],
        default="ignore",
        help="what stream: true on /responses does: answer JSON like Cloudflare today (ignore), "
        "OpenAI's Responses SSE (sse), or 400 (reject)",
    )
    emulator.add_argument(
        "--model",
        action="append",
        dest="models",
        metavar="NAME",
        help="a model name to serve (repeatable; default: the gpt-oss models)",
    )
    emulator.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (plain HTTP, protected only by the token)",
    )
    return parser


def _serve(args: argparse.Namespace, out: TextIO) -> int:
    emulator = Emulator(
        api_token=args.token,
        account_id=args.account_id,
        port=args.port,
        host=args.host,
        models=args.models or DEFAULT_MODELS,
        stream_mode=args.stream_mode,
        allow_remote=args.allow_remote,
    )
    stop = threading.Event()
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set()) if in_main_thread else None
    try:
        with emulator:
            _print_banner(emulator, out)
            try:
                while not stop.wait(0.5):  # a timed wait, so Ctrl+C interrupts it on every platform
                    pass
            except KeyboardInterrupt:
                pass
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    print("cfai emulator stopped", file=out, flush=True)
    return 0


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


if __name__ == "__main__":
    sys.exit(main())
