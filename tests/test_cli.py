"""The `cfai` command: `--version`, `models`, `ask`, the one-line errors of `emulator`, and the spinner.

The commands a newcomer types first run as fresh processes (`python -m cfai ...`) with no Cloudflare variable set;
the rest run in-process through `main`, against the emulator. `cfai demo` is in tests/test_demo.py.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cfai.catalog import DEFAULT_MODEL, EMBEDDING_MODELS, MODELS
from cfai.cli import EFFORTS, main
from cfai.commands.ask import ask, reply_text
from cfai.commands.spinner import Spinner
from cfai.emulator import Emulator, Fault
from cfai.version import __version__
from cfai.wire import REASONING_EFFORTS
from cfai.wire.types import Reply, Usage

# The command serves or calls the emulator on loopback, in this process or a child.
pytestmark = pytest.mark.loopback

ROOT = Path(__file__).resolve().parent.parent
HELLO = "What is the origin of the phrase Hello, World?"
EMULATOR_LINE = "Using the local Workers AI emulator, not Cloudflare"


def cfai(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m cfai ARGS` in a fresh process running this checkout, with no Cloudflare variable set."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "cfai", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, check=False)


class Terminal(io.StringIO):
    """What a terminal would show: a text stream that says it is a TTY."""

    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


# Fresh processes: what a new install runs.


def test_version_is_printed_without_loading_any_client() -> None:
    assert cfai("--version").stdout == f"cfai {__version__}\n"
    code = "import sys, cfai.cli; print(sorted({'httpx', 'pydantic', 'cfai.catalog'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert loaded.stdout.strip() == "[]"


def test_models_lists_the_catalog() -> None:
    result = cfai("models")
    lines = result.stdout.splitlines()

    assert result.returncode == 0
    assert "@cf/openai/gpt-oss-120b (default)  128,000      0.350       0.750  low, medium*, high" in lines
    assert "@cf/openai/gpt-oss-20b             128,000      0.200       0.300  low, medium*, high" in lines
    assert "@cf/baai/bge-m3 (default)             1024       60,000            100      0.012" in lines
    assert "@cf/qwen/qwen3-embedding-0.6b         1024        8,192             32      0.012" in lines
    assert all(any(line.startswith(name) for line in lines) for name in [*MODELS, *EMBEDDING_MODELS])


def test_ask_the_emulator_shows_reasoning_apart_then_answer_usage_and_cost() -> None:
    result = cfai("ask", "--emulator", HELLO)
    blocks = result.stdout.split("\n\n")

    assert result.returncode == 0 and result.stderr == ""  # no spinner: stderr is not a terminal
    assert blocks[0].startswith(EMULATOR_LINE)
    assert blocks[1].startswith("Reasoning:\n  The user asks: ") and HELLO in blocks[1]
    assert blocks[2] == f"Answer:\nYou asked: {HELLO}"
    assert blocks[3].startswith("Usage: ") and "reasoning" in blocks[3] and "cost $0.0000" in blocks[3]
    assert blocks[3].rstrip().endswith(f"({DEFAULT_MODEL})")


def test_emulator_port_out_of_range_is_one_line() -> None:
    result = cfai("emulator", "--port", "99999")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "cfai emulator: error: --port 99999 is not a TCP port: use 1 to 65535, or 0 for any free one\n"
    )


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_emulator_on_a_port_in_use_is_one_line(busy_port: int) -> None:
    result = cfai("emulator", "--port", str(busy_port))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"cfai emulator: error: port {busy_port} on 127.0.0.1 is already in use; choose another with --port, "
        "or --port 0 for any free one\n"
    )


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "cfai", "models"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # as `cfai models | head -0` would, before the table is written
        assert (process.wait(timeout=60), process.stderr.read()) == (1, "")


# In-process: the options and the errors.


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_ask_without_credentials_uses_the_emulator_and_says_so_first(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "ask", "--effort", "low", "--model", "@cf/openai/gpt-oss-20b", "Hi")
    assert status == 0 and out.startswith(EMULATOR_LINE)
    assert "Answer:\nYou asked: Hi" in out and "(@cf/openai/gpt-oss-20b)" in out


def test_ask_json_is_only_json_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "ask", "--json", "--emulator", "--effort", "high", HELLO)
    reply = json.loads(out)

    assert status == 0 and err.startswith(EMULATOR_LINE)
    assert (reply["answer"], reply["model"], reply["status"]) == (f"You asked: {HELLO}", DEFAULT_MODEL, "completed")
    assert reply["reasoning"] and reply["usage"]["reasoning_tokens"] > 0 and reply["cost_usd"] > 0
    assert reply["emulator"] is True and reply["finish_reason"] == "stop"


def test_with_credentials_ask_goes_where_they_point(
    workers_ai_env: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "ask", "--effort", "low", "Hi")

    assert status == 0 and not out.startswith(EMULATOR_LINE) and "Answer:\nYou asked: Hi" in out
    (request,) = workers_ai_env.requests
    assert request.json["reasoning"] == {"effort": "low"} and request.json["model"] == DEFAULT_MODEL

    status, out, _ = run(capsys, "ask", "--emulator", "Hi")  # its own emulator, even with credentials
    assert out.startswith(EMULATOR_LINE) and len(workers_ai_env.requests) == 1


def test_workers_ai_errors_are_one_line(workers_ai_env: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    workers_ai_env.enqueue(Fault.daily_limit_exceeded())
    status, out, err = run(capsys, "ask", "Hi")
    assert (status, out) == (1, "")
    assert err.startswith("cfai ask: error: ") and err.count("\n") == 1 and "3036" in err

    status, _, err = run(capsys, "ask", "--model", "@cf/acme/no-such-model", "Hi")
    assert status == 1 and err.startswith("cfai ask: error: ") and "No such model" in err


def test_configuration_errors_are_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "a-token-but-no-account")
    status, out, err = run(capsys, "ask", "Hi")
    assert (status, out) == (1, "")
    assert err.startswith("cfai ask: error: No Cloudflare account id") and err.count("\n") == 1
    assert "a-token-but-no-account" not in err


def test_an_empty_question_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "ask", "--emulator", "")
    assert status == 2 and err.startswith("cfai ask: error: The conversation is empty")


def test_models_json_is_the_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "models", "--json")
    catalog = json.loads(out)
    assert status == 0 and catalog["default_model"] == DEFAULT_MODEL
    assert [model["name"] for model in catalog["chat_models"]] == list(MODELS)
    assert {model["name"]: model["dimensions"] for model in catalog["embedding_models"]} == {
        name: info.dimensions for name, info in EMBEDDING_MODELS.items()
    }


def test_help_agrees_with_the_catalog_and_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["ask", "--help"])
    assert f"(default: {DEFAULT_MODEL})" in capsys.readouterr().out
    assert EFFORTS == REASONING_EFFORTS  # written out in cfai.cli so that parsing imports nothing
    assert main([]) == 2
    assert "models" in capsys.readouterr().out


# The spinner, and the reply as text.


def test_the_spinner_turns_on_a_terminal_then_erases_itself() -> None:
    terminal = Terminal()
    with Spinner("Thinking", terminal, interval=0.001) as spinner:
        while terminal.getvalue().count("Thinking") < 3:
            pass
    shown = terminal.getvalue()
    assert shown.startswith("\r⠋ Thinking...\r⠙ Thinking...") and shown.endswith("\r\x1b[K")
    assert spinner.frames == "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def test_the_spinner_is_ascii_where_the_terminal_is_and_silent_off_a_terminal() -> None:
    class AsciiTerminal(Terminal):
        encoding = "ascii"

    assert Spinner("Thinking", AsciiTerminal()).frames == "|/-\\"
    not_a_terminal = io.StringIO()
    with Spinner("Thinking", not_a_terminal, interval=0.001):
        pass
    assert not_a_terminal.getvalue() == ""


def test_ask_spins_on_the_terminal_while_waiting(capsys: pytest.CaptureFixture[str]) -> None:
    terminal, out = Terminal(), io.StringIO()
    options: dict[str, Any] = {"model": None, "effort": None, "as_json": False, "use_emulator": True}
    assert ask("Hi", **options, out=out, err=terminal) == 0
    assert "Thinking..." in terminal.getvalue() and terminal.getvalue().endswith("\r\x1b[K")
    assert "Thinking" not in out.getvalue()


def make_reply(**fields: Any) -> Reply:
    return Reply(**{"id": "resp_1", "model": DEFAULT_MODEL, "status": "completed", **fields})


def test_reply_text_dims_the_reasoning_on_a_terminal() -> None:
    reply = make_reply(text="42", reasoning="Think.\nThen answer.", usage=Usage(10, 5, 15, 0, 3), cost_usd=7.25e-06)
    assert reply_text(reply, styled=True) == (
        "Reasoning:\n\x1b[2m  Think.\n  Then answer.\x1b[0m\n\nAnswer:\n42\n\n"
        f"Usage: 10 input + 5 output tokens (3 of them reasoning); cost $0.000007 ({DEFAULT_MODEL})"
    )


def test_reply_text_says_why_there_is_no_answer() -> None:
    spent = make_reply(reasoning="...", status="incomplete", incomplete_reason="max_output_tokens", usage=Usage(9, 64))
    assert "Answer:\n(none) Workers AI spent all 64 output tokens on reasoning" in reply_text(spent)
    refused = reply_text(make_reply(refusal="I can't help with that."))
    assert refused == f"Refusal:\nI can't help with that.\n\nUsage: not reported ({DEFAULT_MODEL})"
