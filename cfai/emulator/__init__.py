"""A local, faithful Workers AI for tests, demos, benchmarks and offline development (the `emulator` extra).

    from cfai.emulator import Emulator, Fault

    with Emulator() as emulator:                    # uvicorn on 127.0.0.1, a free port
        client = WorkersAIClient(base_url=emulator.v1_url, api_token=emulator.api_token, ...)
        emulator.enqueue(Fault.rate_limited(retry_after=1))
        ...
        assert emulator.requests[-1].json["model"] == "@cf/openai/gpt-oss-120b"

Modules: `app` (routes, Cloudflare gatekeeping, delivery), `responses_api` / `chat_api` / `embeddings_api` (request
checks and reply shapes per surface), `streams` (SSE framings), `model` (the deterministic rule-based model),
`tool_plan` (which tools it calls, with which part of the prompt), `binding` (the emulator as a Worker's `env.AI`),
`schema_check` (malformed schemas are 400s), `schema_synth` and `prompt_facts` (JSON from a schema, filled from the
prompt), `embedding_model` (deterministic vectors), `queue` (the async batch queue), `tokens` (token arithmetic),
`faults` (scripts), `state` (settings, records, scripts, batch jobs), `envelope` (Cloudflare's v4 envelope and codes),
`server` (`Emulator`), `pytest_plugin` (the `workers_ai_emulator` fixture).

Importing this package loads nothing; Starlette and uvicorn load when an app is built or a server starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cfai.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from cfai.emulator.app import create_app as create_app
    from cfai.emulator.faults import CannedReply as CannedReply
    from cfai.emulator.faults import Fault as Fault
    from cfai.emulator.faults import Reply as Reply
    from cfai.emulator.faults import Route as Route
    from cfai.emulator.faults import Script as Script
    from cfai.emulator.server import Emulator as Emulator
    from cfai.emulator.state import DEFAULT_ACCOUNT_ID as DEFAULT_ACCOUNT_ID
    from cfai.emulator.state import DEFAULT_MODELS as DEFAULT_MODELS
    from cfai.emulator.state import EmulatorSettings as EmulatorSettings
    from cfai.emulator.state import EmulatorState as EmulatorState
    from cfai.emulator.state import RecordedRequest as RecordedRequest
    from cfai.emulator.state import ResponsesStreaming as ResponsesStreaming

# Exports load on first use, so that the pytest plugin (a submodule) costs nothing until its fixtures run.
_EXPORTS = {
    "create_app": "cfai.emulator.app",
    "Fault": "cfai.emulator.faults",
    "CannedReply": "cfai.emulator.faults",
    "Reply": "cfai.emulator.faults",
    "Route": "cfai.emulator.faults",
    "Script": "cfai.emulator.faults",
    "Emulator": "cfai.emulator.server",
    "DEFAULT_ACCOUNT_ID": "cfai.emulator.state",
    "DEFAULT_MODELS": "cfai.emulator.state",
    "EmulatorSettings": "cfai.emulator.state",
    "EmulatorState": "cfai.emulator.state",
    "RecordedRequest": "cfai.emulator.state",
    "ResponsesStreaming": "cfai.emulator.state",
}
# Public names, from the one table above.
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
