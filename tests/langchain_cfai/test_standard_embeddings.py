"""LangChain's own standard embeddings suites (`langchain-tests`) for WorkersAIEmbeddings: the unit suite with no
sockets and fake credentials, the integration suite against the cfai emulator over loopback."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from cfai.emulator import Emulator
from langchain_cfai import WorkersAIEmbeddings

ACCOUNT_ID = "0123456789abcdef0123456789abcdef"


class TestWorkersAIEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[WorkersAIEmbeddings]:
        return WorkersAIEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": "@cf/baai/bge-base-en-v1.5", "account_id": ACCOUNT_ID, "api_key": "fake-token"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"CLOUDFLARE_API_TOKEN": "env-token", "CLOUDFLARE_ACCOUNT_ID": ACCOUNT_ID},
            {"model": "@cf/baai/bge-small-en-v1.5"},
            {"api_token": "env-token", "account_id": ACCOUNT_ID, "model": "@cf/baai/bge-small-en-v1.5"},
        )


class TestWorkersAIEmbeddingsIntegration(EmbeddingsIntegrationTests):
    emulator: ClassVar[Emulator]

    @pytest.fixture(autouse=True)
    def _serve(self, workers_ai_emulator: Emulator) -> None:
        type(self).emulator = workers_ai_emulator

    @property
    def embeddings_class(self) -> type[WorkersAIEmbeddings]:
        return WorkersAIEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"base_url": self.emulator.v1_url, "api_key": self.emulator.api_token}
