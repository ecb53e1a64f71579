"""Starting LiteLLM's proxy, serving `/v1/responses` through its Responses-to-Chat-Completions bridge.

The model behind the proxy is the `cfai` emulator's Chat Completions route (`Emulator.v1_url + /chat/completions`,
OpenAI Chat Completions with `reasoning_content`), served in this process on a loopback port. The provider prefix
decides which path LiteLLM takes: it forwards `/v1/responses` as is only for providers that have a Responses API
of their own in LiteLLM (openai, azure, xai, litellm_proxy); for any other it builds the reply from Chat
Completions. `hosted_vllm/` is such a provider, OpenAI-compatible and keeping `reasoning_content`, so the bridge
is what answers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cfai.catalog import DEFAULT_MODEL
from cfai.emulator import Emulator
from conformance.processes import LOOPBACK, ServerProcess, Target, free_port, installed_version

_PROVIDER_PREFIX = "hosted_vllm/"
_START_TIMEOUT = 120.0  # the proxy imports a great deal: 10 to 20 s on a 2-CPU machine


def _write_config(path: Path, emulator: Emulator) -> Path:
    # YAML is a superset of JSON, so the proxy reads this file as written.
    config = {
        "model_list": [
            {
                "model_name": DEFAULT_MODEL,  # the name the adapters send by default
                "litellm_params": {
                    "model": _PROVIDER_PREFIX + DEFAULT_MODEL,
                    "api_base": emulator.v1_url,
                    "api_key": emulator.api_token,
                },
            }
        ]
    }
    path.write_text(json.dumps(config, indent=2))
    return path


@contextmanager
def litellm_server(venv: Path, workdir: Path) -> Iterator[Target]:
    """Runs the emulator and LiteLLM's proxy from `venv` on free loopback ports for the duration of the block."""
    version = installed_version(venv / "bin" / "python", "litellm")
    port = free_port()
    # The proxy would otherwise fetch its model price list at startup; it ships a copy.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    with Emulator() as emulator:
        config = _write_config(workdir / "litellm-config.yaml", emulator)
        command = [str(venv / "bin" / "litellm"), "--config", str(config), "--host", LOOPBACK, "--port", str(port)]
        with ServerProcess(
            f"LiteLLM {version} proxy",
            command,
            env=env,
            cwd=workdir,
            log_path=workdir / "litellm-proxy.log",
            ready_url=f"http://{LOOPBACK}:{port}/health/liveliness",
            start_timeout=_START_TIMEOUT,
        ):
            yield Target(
                key="litellm",
                title=f"LiteLLM proxy {version}, Responses bridge over the emulator's Chat Completions",
                base_url=f"http://{LOOPBACK}:{port}/v1",
                api_token="sk-conformance",  # the proxy runs without a master key and accepts any token
                fixture_prefix=f"litellm-{version}",
                provenance=(
                    f"LiteLLM proxy {version} (`litellm[proxy]`), `/v1/responses` bridged to Chat Completions "
                    f"(`{_PROVIDER_PREFIX}` provider) over the `cfai` emulator's `/ai/v1/chat/completions`"
                ),
            )
