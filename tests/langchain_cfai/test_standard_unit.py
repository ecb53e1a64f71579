"""LangChain's own standard unit suite (`langchain-tests`) for ChatWorkersAI: no sockets, fake credentials."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_tests.unit_tests import ChatModelUnitTests
from syrupy.assertion import SnapshotAssertion

from langchain_cfai import ChatWorkersAI

ACCOUNT_ID = "0123456789abcdef0123456789abcdef"


class TestChatWorkersAIUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[ChatWorkersAI]:
        return ChatWorkersAI

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "@cf/openai/gpt-oss-120b", "account_id": ACCOUNT_ID, "api_key": "fake-token"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"CLOUDFLARE_API_TOKEN": "env-token", "CLOUDFLARE_ACCOUNT_ID": ACCOUNT_ID},
            {"model": "@cf/openai/gpt-oss-20b"},
            {"api_token": "env-token", "account_id": ACCOUNT_ID, "model": "@cf/openai/gpt-oss-20b"},
        )

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
    def supported_usage_metadata_details(self) -> dict[Any, list[Any]]:
        return {"invoke": ["reasoning_output", "cache_read_input"], "stream": ["reasoning_output", "cache_read_input"]}

    @property
    def model_override_value(self) -> str:
        return "@cf/openai/gpt-oss-20b"

    @pytest.mark.xfail(
        reason=(
            "langchain-core 1.7's load(allowed_objects='all') admits only classes registered in "
            "langchain_core.load.mapping, which lists LangChain's own partner packages; a third-party class must be "
            "allowed by name (allowed_objects=[ChatWorkersAI]). The snapshot half passes; test_chat_models.py "
            "round-trips dumpd/load that way."
        ),
        raises=ValueError,
        strict=True,
    )
    def test_serdes(self, model: BaseChatModel, snapshot: SnapshotAssertion) -> None:
        super().test_serdes(model, snapshot)
