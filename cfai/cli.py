"""The `cfai` command (also `python -m cfai`): argument parsing, and errors reported as one line.

    cfai --version
    cfai models [--json]
    cfai ask "question" [--model NAME] [--effort low|medium|high] [--json] [--emulator]
    cfai demo [--emulator]
    cfai emulator [--host 127.0.0.1] [--port 8787] [--token test-token] [--account-id HEX]
                  [--stream-mode ignore|sse|reject] [--model NAME ...] [--allow-remote]

Each subcommand lives in `cfai.commands` and is imported only when it runs, so `cfai --version` loads neither
httpx nor pydantic. A Workers AI error, a configuration error or a `CommandError` ends the command with one line on
stderr and a non-zero status; Ctrl+C ends it with status 130, and a closed pipe on stdout with status 1, without a
traceback either way.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from cfai.commands import CommandError
from cfai.version import __version__

__all__ = ["main"]

_EMULATOR_HELP = "use the local emulator even with credentials"
EFFORTS = ("low", "medium", "high")  # what gpt-oss accepts (cfai.wire.REASONING_EFFORTS, heavier to import)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "emulator" and not args.allow_remote:
        from cfai.emulator.server import is_loopback  # light: the server itself loads only when started

        if not is_loopback(args.host):
            parser.error(f"--host {args.host} is not a loopback address; add --allow-remote to serve it anyway")
    try:
        return _run(args)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`cfai models | head`). Python's documented remedy: point stdout at devnull, so that
        # the flush at exit does not fail again, and end quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as error:
        message, status = _one_line(error)
        if message is None:
            raise
        print(f"cfai {args.command}: error: {message}", file=sys.stderr)
        return status


def _run(args: argparse.Namespace) -> int:
    if args.command == "models":
        from cfai.commands.models import catalog_json, catalog_tables

        print(catalog_json() if args.json else catalog_tables())
        return 0
    if args.command == "ask":
        from cfai.commands.ask import ask

        options = {"model": args.model, "effort": args.effort, "as_json": args.json, "use_emulator": args.emulator}
        return ask(args.question, **options, out=sys.stdout, err=sys.stderr)
    if args.command == "demo":
        from cfai.commands.demo import demo

        return demo(use_emulator=args.emulator, out=sys.stdout)
    from cfai.commands.serve import serve

    return serve(args, sys.stdout)


def _one_line(error: Exception) -> tuple[str | None, int]:
    """The message and exit status of an error worth one line, or (None, 0) for a bug (shown with its traceback)."""
    from cfai.config import ConfigurationError
    from cfai.errors import WorkersAIError

    if isinstance(error, CommandError):
        return " ".join(str(error).split()), error.status
    if isinstance(error, (WorkersAIError, ConfigurationError)):
        # The message already says what to check; it never contains the token (cfai.errors).
        return " ".join(str(error).split()) or type(error).__name__, 1
    return None, 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cfai", description="Cloudflare Workers AI's gpt-oss models, for LangChain and LlamaIndex."
    )
    parser.add_argument("--version", action="version", version=f"cfai {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    models = commands.add_parser("models", help="list the models cfai knows, with limits and prices")
    models.add_argument("--json", action="store_true", help="print the catalog as JSON")
    _add_ask(commands)
    demo = commands.add_parser(
        "demo",
        help="a tour of both adapters (the local emulator unless Cloudflare credentials are set)",
        description="A tour of ChatWorkersAI, WorkersAI and the embeddings: the local emulator unless "
        "CLOUDFLARE_API_TOKEN is set.",
    )
    demo.add_argument("--emulator", action="store_true", help=_EMULATOR_HELP)
    _add_emulator(commands)
    return parser


def _add_ask(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ask = commands.add_parser(
        "ask",
        help="ask gpt-oss one question",
        description="Ask gpt-oss one question: its reasoning, then the answer, usage and cost. Uses Cloudflare "
        "when CLOUDFLARE_API_TOKEN is set, else the local emulator.",
    )
    ask.add_argument("question", help="the question")
    # No default here: the catalog's is looked up when the command runs (tests/test_cli.py checks this help).
    ask.add_argument("--model", help="the model (default: @cf/openai/gpt-oss-120b)")
    ask.add_argument("--effort", choices=EFFORTS, help="reasoning effort (default: the server's, medium)")
    ask.add_argument("--json", action="store_true", help="print the reply as one JSON object")
    ask.add_argument("--emulator", action="store_true", help=_EMULATOR_HELP)


def _add_emulator(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    emulator = commands.add_parser(
        "emulator",
        help="serve a local Workers AI emulator",
        description="Serve a local Workers AI emulator (Responses, run, Chat Completions and embeddings routes) "
        "until Ctrl+C.",
    )
    emulator.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    emulator.add_argument("--port", type=int, default=8787, help="port to bind, 0 for any free port (default: 8787)")
    emulator.add_argument("--token", default="test-token", help="the only API token accepted (default: test-token)")
    emulator.add_argument("--account-id", help="the only account id served (default: 0123456789abcdef...)")
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


if __name__ == "__main__":
    sys.exit(main())
