"""LangChain's own standard integration suite (`langchain-tests`) for ChatWorkersAI, against the cfai emulator.

The emulator serves over real loopback HTTP and is reached only through `base_url`, as any Responses-compatible
server would be. Skipped: image, audio and PDF inputs, which gpt-oss on Workers AI cannot take. `test_stream_time`
replays a cassette recorded from the emulator (tests/langchain_cfai/cassettes), so it measures only our overhead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from langchain_core.messages import AIMessage
from langchain_tests.integration_tests import ChatModelIntegrationTests

from cfai.emulator import Emulator
from langchain_cfai import ChatWorkersAI

CASSETTES = Path(__file__).resolve().parent / "cassettes"


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    # The emulator's port changes from run to run, so requests match on path and body, never on the full URL.
    return {
        "record_mode": "once",
        "match_on": ["method", "path", "body"],
        "allow_playback_repeats": True,
        "filter_headers": [("authorization", "PLACEHOLDER")],
        "cassette_library_dir": str(CASSETTES),
    }


class TestChatWorkersAIIntegration(ChatModelIntegrationTests):
    emulator: ClassVar[Emulator]

    @pytest.fixture(autouse=True)
    def _serve(self, workers_ai_emulator: Emulator) -> None:
        # The emulator streams Responses SSE here (as vLLM does), so `stream()` exercises true incremental parsing.
        workers_ai_emulator.configure(stream_mode="sse")
        type(self).emulator = workers_ai_emulator

    @property
    def chat_model_class(self) -> type[ChatWorkersAI]:
        return ChatWorkersAI

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {
            "model": "@cf/openai/gpt-oss-120b",
            "base_url": self.emulator.v1_url,
            "api_key": self.emulator.api_token,
        }

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_anthropic_inputs(self) -> bool:
        return True

    @property
    def supported_usage_metadata_details(self) -> dict[Any, list[Any]]:
        details = ["reasoning_output", "cache_read_input"]
        return {"invoke": details, "stream": details}

    @property
    def enable_vcr_tests(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return "@cf/openai/gpt-oss-20b"

    def _model(self, **fields: Any) -> ChatWorkersAI:
        return ChatWorkersAI(**{**self.chat_model_params, **fields})

    def _call(self, model: ChatWorkersAI, prompt: str, *, stream: bool) -> AIMessage:
        if not stream:
            return model.invoke(prompt)
        total: Any = None
        for chunk in model.stream(prompt):
            total = chunk if total is None else total + chunk
        return total  # type: ignore[no-any-return]

    def invoke_with_reasoning_output(self, *, stream: bool = False) -> AIMessage:
        return self._call(self._model(reasoning_effort="high"), "Think step by step: is 1009 prime?", stream=stream)

    def invoke_with_cache_read_input(self, *, stream: bool = False) -> AIMessage:
        # Cloudflare caches prompt prefixes per `x-session-affinity`; the second request reads the first's prefix.
        model = self._model(session_id="standard-tests-cache")
        prompt = "Summarise this document. " + "The quick brown fox jumps over the lazy dog. " * 30
        self._call(model, prompt, stream=False)
        return self._call(model, prompt, stream=stream)
