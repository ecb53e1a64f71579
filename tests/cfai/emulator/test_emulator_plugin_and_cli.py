"""The pytest plugin (as users get it, through the entry point) and the `cfai emulator` command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

from cfai.cli import main
from cfai.emulator import Emulator, Fault

pytestmark = pytest.mark.long
_SEEN: list[int] = []


@pytest.mark.parametrize("round_", [1, 2])
def test_fixture_is_one_server_reset_for_every_test(workers_ai_emulator: Emulator, kit: Any, round_: int) -> None:
    assert workers_ai_emulator.requests == [] and workers_ai_emulator.pending_scripts == 0
    _SEEN.append(id(workers_ai_emulator))
    assert len(set(_SEEN)) == 1
    workers_ai_emulator.enqueue(Fault.rate_limited(), times=5)  # left behind on purpose: the next round must not see it
    reply = httpx.post(
        workers_ai_emulator.v1_url + "/responses",
        json=kit.body(),
        headers={"Authorization": f"Bearer {workers_ai_emulator.api_token}"},
    )
    assert reply.status_code == 429


def test_env_fixture_points_cloudflare_variables_at_the_emulator(workers_ai_env: Emulator) -> None:
    assert os.environ["CLOUDFLARE_AI_BASE_URL"] == workers_ai_env.v1_url
    assert os.environ["CLOUDFLARE_API_TOKEN"] == workers_ai_env.api_token
    assert os.environ["CLOUDFLARE_ACCOUNT_ID"] == workers_ai_env.account_id


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)


def test_plugin_and_package_import_neither_starlette_nor_uvicorn() -> None:
    result = _python(
        "import sys\n"
        "sys.modules['starlette'] = None; sys.modules['uvicorn'] = None  # as if the extra were not installed\n"
        "import cfai.emulator.pytest_plugin\n"
        "from cfai.emulator import Emulator, Fault, Reply\n"
        "Emulator().enqueue(Fault.rate_limited())\n"
        "try:\n"
        "    Emulator().start()\n"
        "except ImportError:\n"
        "    print('needs the extra only to start')\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "needs the extra only to start"


def _without(plugins: tuple[str, ...]) -> list[str]:
    return [argument for plugin in plugins for argument in ("-p", f"no:{plugin}")]


def test_users_get_the_fixture_from_the_entry_point(tmp_path: Path) -> None:
    (tmp_path / "test_user_code.py").write_text(
        textwrap.dedent(
            """
            import httpx
            from cfai.emulator import Fault

            def test_my_code(workers_ai_emulator):
                workers_ai_emulator.enqueue(Fault.server_error(503))
                url = workers_ai_emulator.v1_url + "/responses"
                headers = {"Authorization": "Bearer " + workers_ai_emulator.api_token}
                body = {"model": "@cf/openai/gpt-oss-20b", "input": "Hi"}
                assert httpx.post(url, json=body, headers=headers).status_code == 503
                assert httpx.post(url, json=body, headers=headers).json()["status"] == "completed"
            """
        )
    )
    # Plugins still autoload, as in a user's project; those of other installed packages that pytest would load and
    # assert-rewrite for nothing (a second or more on every run) are turned off by name.
    others = ("langsmith_plugin", "hypothesispytest", "anyio", "recording", "codspeed", "benchmark", "syrupy")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *_without(others), str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_cli_serves_until_terminated(kit: Any) -> None:
    command = [sys.executable, "-m", "cfai.cli", "emulator", "--port", "0", "--token", "cli-token"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        banner = []
        for line in process.stdout:
            banner.append(line)
            if line.startswith("Press Ctrl+C"):
                break
        fields = dict(line.split(None, 1) for line in banner if line.startswith("  ") and "=" not in line)
        v1_url, token = fields["base_url"].split()[-1], fields["api_token"].strip()
        assert token == "cli-token" and v1_url.startswith("http://127.0.0.1:") and v1_url.endswith("/ai/v1")
        assert f"  export CLOUDFLARE_AI_BASE_URL={v1_url}\n" in banner
        reply = httpx.post(v1_url + "/responses", json=kit.body("Hi"), headers={"Authorization": f"Bearer {token}"})
        assert reply.json()["output"][-1]["content"][0]["text"] == "You asked: Hi"
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=10)
        assert process.returncode == 0 and "stopped" in out
    finally:
        process.kill()
        process.wait(timeout=5)


def test_cli_refuses_remote_hosts_and_needs_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["emulator", "--host", "0.0.0.0"])
    assert exited.value.code == 2 and "--allow-remote" in capsys.readouterr().err
    assert main([]) == 2
    with pytest.raises(SystemExit):
        main(["emulator", "--stream-mode", "maybe"])
