"""Starting OpenAI's reference gpt-oss Responses server (package `gpt-oss`) with the scripted token source.

The server needs Python >= 3.12, so it runs from its own virtual environment, as
`python -m conformance.harmony_script` with this repository on its path (see that module for the token source).
Its harmony tokenizer loads the o200k vocabulary from the folder named by `TIKTOKEN_ENCODINGS_BASE`, as
`o200k_base.tiktoken`; with no network, that folder is made here and given the copy llama-index-core ships.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conformance.processes import LOOPBACK, ServerProcess, ServerStartError, Target, free_port, installed_version

REPOSITORY = Path(__file__).resolve().parent.parent
# llama-index-core keeps tiktoken's download cache in its package; tiktoken names a cached file by the SHA-1 of the
# vocabulary's download address, and this is the name of o200k_base's.
_O200K_CACHE_NAME = "fb374d419588a4632f3f557e76b4b70aebbca790"
_START_TIMEOUT = 60.0


def o200k_vocabulary() -> Path:
    """The o200k vocabulary file that llama-index-core ships (checked for its hash by the harmony library)."""
    spec = importlib.util.find_spec("llama_index.core")
    locations = list(spec.submodule_search_locations or ()) if spec else []
    for location in locations:
        candidate = Path(location) / "_static" / "tiktoken_cache" / _O200K_CACHE_NAME
        if candidate.is_file():
            return candidate
    raise ServerStartError("llama-index-core's o200k vocabulary was not found: install the project's dev extra")


def _vocabulary_folder(workdir: Path) -> Path:
    folder = workdir / "harmony-vocabulary"
    folder.mkdir(exist_ok=True)
    shutil.copyfile(o200k_vocabulary(), folder / "o200k_base.tiktoken")
    return folder


@contextmanager
def gpt_oss_server(venv: Path, workdir: Path) -> Iterator[Target]:
    """Runs the reference server from `venv` on a free loopback port for the duration of the block."""
    python = venv / "bin" / "python"
    version = installed_version(python, "gpt-oss")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPOSITORY),
        "TIKTOKEN_ENCODINGS_BASE": str(_vocabulary_folder(workdir)),
        "TIKTOKEN_RS_CACHE_DIR": str(workdir / "tiktoken-cache"),
    }
    command = [str(python), "-m", "conformance.harmony_script", "--port", str(port)]
    with ServerProcess(
        f"gpt-oss {version} reference server",
        command,
        env=env,
        cwd=REPOSITORY,
        log_path=workdir / "gpt-oss-server.log",
        ready_url=f"http://{LOOPBACK}:{port}/",
        start_timeout=_START_TIMEOUT,
    ):
        yield Target(
            key="gpt-oss",
            title=f"OpenAI reference gpt-oss server (gpt-oss {version})",
            base_url=f"http://{LOOPBACK}:{port}/v1",
            api_token="conformance-token",  # the server checks no token; the adapters need one to send
            fixture_prefix=f"gpt-oss-{version}",
            provenance=(
                f"OpenAI's reference gpt-oss Responses server (`gpt_oss.responses_api`, package `gpt-oss` {version}) "
                "with the scripted token source `conformance/harmony_script.py`"
            ),
        )
