"""ChatWorkersAI's settings: construction, environment, secrets, serialization, profile, tracing, the request body."""

from __future__ import annotations

import copy
import subprocess
import sys
from typing import Any

import httpx
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.load import dumpd, dumps, load
from pydantic import SecretStr, ValidationError

from cfai.config import ConfigurationError
from cfai.errors import AuthenticationError
from langchain_cfai import ChatWorkersAI

ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
TOKEN = "secret-token-Xy9"


def make(**fields: Any) -> ChatWorkersAI:
    return ChatWorkersAI(**{"api_key": TOKEN, "account_id": ACCOUNT_ID, **fields})


class TestConstruction:
    def test_builds_no_client(self) -> None:
        # Construction cost is measured in benchmarks/ (startup section), not timed here.
        model = make()
        assert not model._clients.created

    def test_importing_the_adapter_does_not_load_httpx(self) -> None:
        # The framework may load httpx itself (langsmith does when httpx-aiohttp is installed): only ours must not.
        code = (
            "import sys, langchain_core.language_models.chat_models; before = 'httpx' in sys.modules; "
            "from langchain_cfai import ChatWorkersAI; print(before, 'httpx' in sys.modules)"
        )
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        before, after = result.stdout.split()
        if before == "True":
            pytest.skip("the framework itself loads httpx here, so the adapter's import cannot be told apart")
        assert after == "False"

    def test_http_clients_and_timeout_are_checked(self) -> None:
        timeout = httpx.Timeout(3.0)
        model = make(http_client=httpx.Client(), http_async_client=httpx.AsyncClient(), timeout=timeout)
        assert model.timeout is timeout
        assert make(timeout=7).timeout == 7.0
        with pytest.raises(ValidationError, match=r"httpx\.AsyncClient"):
            make(http_async_client=httpx.Client())
        with pytest.raises(ValidationError, match="timeout must be"):
            make(timeout="soon")

    def test_aliases(self) -> None:
        model = ChatWorkersAI(  # type: ignore[call-arg]  # the LangChain-style aliases, accepted at run time
            model_name="@cf/openai/gpt-oss-20b", api_key=TOKEN, account_id=ACCOUNT_ID, max_output_tokens=50
        )
        assert (model.model, model.model_name, model.max_tokens) == ("@cf/openai/gpt-oss-20b",) * 2 + (50,)
        assert isinstance(model.api_token, SecretStr)
        assert model.api_token.get_secret_value() == TOKEN
        by_name = ChatWorkersAI(api_token=TOKEN, account_id=ACCOUNT_ID, model="@cf/openai/gpt-oss-20b")
        assert by_name.model == "@cf/openai/gpt-oss-20b"

    @pytest.mark.parametrize("unknown", [{"api_base": "https://x"}, {"top_k": 3}, {"openai_api_key": "sk-1"}])
    def test_unknown_arguments_are_errors(self, unknown: dict[str, Any]) -> None:
        with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
            make(**unknown)

    @pytest.mark.parametrize("effort", ["minimal", "none", "HIGH"])
    def test_reasoning_effort_is_validated(self, effort: str) -> None:
        with pytest.raises(ValidationError, match="low, medium, high"):
            make(reasoning_effort=effort)

    def test_endpoint_is_validated_offline(self) -> None:
        with pytest.raises(ValidationError, match="32 hexadecimal"):
            make(account_id="not-an-account")
        with pytest.raises(ValidationError, match="plain http"):
            make(base_url="http://example.com/v1")
        assert make(base_url="http://127.0.0.1:8787/v1").base_url == "http://127.0.0.1:8787/v1"

    @pytest.mark.parametrize("key", ["store", "previous_response_id", "max_output_tokens", "reasoning", "text"])
    def test_model_kwargs_cannot_shadow_parameters(self, key: str) -> None:
        with pytest.raises(ValidationError, match=f"may not set '{key}'"):
            make(model_kwargs={key: 1})

    def test_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CF_ACCOUNT_ID", ACCOUNT_ID)
        monkeypatch.setenv("CLOUDFLARE_AUTH_TOKEN", "from-env")
        monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY", "my-gateway")
        model = ChatWorkersAI()
        assert model.account_id == ACCOUNT_ID
        assert model.api_token is not None and model.api_token.get_secret_value() == "from-env"
        assert model.gateway_id == "my-gateway"
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "preferred")
        assert ChatWorkersAI().api_token.get_secret_value() == "preferred"  # type: ignore[union-attr]

    def test_generic_base_url_variable_is_ignored(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BASE_URL", "https://some-other-app.example")
        assert make().client.config.base_url.startswith("https://api.cloudflare.com/")

    def test_timeout_defaults_and_overrides(self) -> None:
        assert make().client.config.timeout == httpx.Timeout(60.0, connect=5.0)
        assert make(timeout=10).client.config.timeout.read == 10

    def test_missing_token_is_reported_on_first_call_before_any_request(self) -> None:
        sent: list[httpx.Request] = []

        def record(request: httpx.Request) -> httpx.Response:
            sent.append(request)
            return httpx.Response(500)

        client = httpx.Client(transport=httpx.MockTransport(record))
        model = ChatWorkersAI(account_id=ACCOUNT_ID, http_client=client)
        with pytest.raises(ConfigurationError, match="CLOUDFLARE_API_TOKEN"):
            model.invoke("hi")
        assert sent == []


class TestSecrets:
    def test_token_never_in_repr_dict_or_serialized_form(self) -> None:
        model = make()
        assert TOKEN not in repr(model)
        assert TOKEN not in str(model.asdict())
        assert TOKEN not in dumps(model)
        assert TOKEN not in str(model._get_invocation_params())

    def test_token_not_in_error_messages(self) -> None:
        def unauthorized(request: httpx.Request) -> httpx.Response:
            body = {"success": False, "errors": [{"code": 10000, "message": f"Authentication error {TOKEN}"}]}
            return httpx.Response(401, json=body)

        model = make(http_client=httpx.Client(transport=httpx.MockTransport(unauthorized)))
        with pytest.raises(AuthenticationError) as caught:
            model.invoke("hi")
        assert TOKEN not in str(caught.value)

    @pytest.mark.filterwarnings("ignore:The function `load` is in beta")
    def test_dumpd_load_round_trip_without_the_token(self) -> None:
        model = make(model="@cf/openai/gpt-oss-20b", reasoning_effort="low", max_tokens=64, stop=["END"])
        serialized = dumpd(model)
        assert serialized["kwargs"]["api_token"] == {"lc": 1, "type": "secret", "id": ["CLOUDFLARE_API_TOKEN"]}
        restored = load(
            serialized,
            secrets_map={"CLOUDFLARE_API_TOKEN": "restored-token"},
            valid_namespaces=["langchain_cfai"],
            allowed_objects=[ChatWorkersAI],
        )
        assert isinstance(restored, ChatWorkersAI)
        assert restored.asdict() == model.asdict()
        assert restored.api_token is not None and restored.api_token.get_secret_value() == "restored-token"
        unrestored = load(serialized, valid_namespaces=["langchain_cfai"], allowed_objects=[ChatWorkersAI])
        assert unrestored.api_token is None


class TestMetadata:
    def test_profile_from_catalog(self) -> None:
        profile = make().profile
        assert profile is not None
        assert profile["max_input_tokens"] == 128_000
        assert profile["reasoning_output"] is True
        assert profile["reasoning_effort_levels"] == ["low", "medium", "high"]
        assert profile["tool_calling"] and profile["structured_output"] and profile["tool_choice"]
        assert profile["text_inputs"] and not profile["image_inputs"] and not profile["pdf_inputs"]
        assert not profile["audio_inputs"]

    def test_unknown_model_gets_a_cautious_profile_and_user_profile_wins(self) -> None:
        assert make(model="@cf/acme/new-model").profile["max_input_tokens"] == 32_768  # type: ignore[index]
        assert make(profile={"max_input_tokens": 7}).profile == {"max_input_tokens": 7}

    def test_ls_params(self) -> None:
        model = make(max_tokens=10, temperature=0.2, stop=["x"])
        assert model._get_ls_params() == {
            "ls_provider": "cloudflare",
            "ls_model_type": "chat",
            "ls_model_name": "@cf/openai/gpt-oss-120b",
            "ls_temperature": 0.2,
            "ls_max_tokens": 10,
            "ls_stop": ["x"],
        }
        overridden = model._get_ls_params(model="@cf/openai/gpt-oss-20b", max_tokens=5, stop=["y"])
        assert (overridden["ls_model_name"], overridden["ls_max_tokens"], overridden["ls_stop"]) == (
            "@cf/openai/gpt-oss-20b",
            5,
            ["y"],
        )
        unset = model._get_ls_params(temperature=None, max_tokens=None, max_output_tokens=7)
        assert (unset["ls_temperature"], unset["ls_max_tokens"]) == (0.2, 7)
        assert model._get_ls_params(max_tokens=None)["ls_max_tokens"] == 10  # None leaves the setting in force

    @pytest.mark.parametrize(
        ("stop", "options"), [(None, {}), (["x"], {"tools": [{"type": "function", "name": "f"}], "max_tokens": 5})]
    )
    def test_invocation_params_are_langchains_own(self, stop: list[str] | None, options: dict[str, Any]) -> None:
        model = make(max_tokens=10, temperature=0.2, model_kwargs={"truncation": "auto"})
        ours = model._get_invocation_params(stop=stop, **options)
        theirs = BaseChatModel._get_invocation_params(model, stop=stop, **options)
        assert list(ours.items()) == list(theirs.items())  # the same keys, values and order (LangChain's cache key)
        assert ours["_type"] == "workers-ai-chat" and ours["stop"] == stop


class TestRequest:
    def test_body_and_headers(self, server: Any) -> None:
        server.reply("responses-text")
        model = server.model(
            api_key=TOKEN,
            reasoning_effort="low",
            max_tokens=300,
            temperature=0.5,
            top_p=0.9,
            session_id="conversation-7",
            gateway_id="gw",
            default_headers={"X-Trace": "abc"},
            model_kwargs={"truncation": "auto"},
        )
        model.invoke([("system", "Be brief."), ("human", "Hi")])
        assert server.last_body == {
            "model": "@cf/openai/gpt-oss-120b",
            "instructions": "Be brief.",
            "input": [{"role": "user", "content": "Hi"}],
            "reasoning": {"effort": "low"},
            "max_output_tokens": 300,
            "temperature": 0.5,
            "top_p": 0.9,
            "truncation": "auto",
        }
        request = server.requests[-1]
        assert request.url == f"https://api.cloudflare.com/client/v4/accounts/{ACCOUNT_ID}/ai/v1/responses"
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.headers["x-session-affinity"] == "conversation-7"
        assert request.headers["cf-aig-gateway-id"] == "gw"
        assert request.headers["x-trace"] == "abc"

    async def test_per_call_overrides(self, server: Any, run: Any) -> None:
        server.reply({**server.load("responses-text"), "model": "@cf/openai/gpt-oss-20b"})
        model = server.model(reasoning_effort="high", max_tokens=500)
        message = await run.invoke(model, "Hi", model="@cf/openai/gpt-oss-20b", reasoning_effort="low", max_tokens=9)
        assert server.last_body["model"] == "@cf/openai/gpt-oss-20b"
        assert server.last_body["reasoning"] == {"effort": "low"}
        assert server.last_body["max_output_tokens"] == 9
        assert message.response_metadata["model_name"] == "@cf/openai/gpt-oss-20b"

    async def test_stop_is_applied_client_side(self, server: Any, run: Any) -> None:
        server.reply("responses-text")
        message = await run.invoke(server.model(), "Hi", stop=["customizability"])
        assert message.content == "Open-source models offer transparency, "
        assert "stop" not in server.last_body
        server.reply("responses-text")
        message = await run.invoke(server.model(stop=["transparency"]), "Hi")
        assert message.content == "Open-source models offer "

    def test_unknown_call_options_are_errors(self, server: Any) -> None:
        with pytest.raises(TypeError, match="unexpected call options \\['top_k'\\]"):
            server.model().invoke("Hi", top_k=3)

    def test_bad_per_call_reasoning_effort(self, server: Any) -> None:
        with pytest.raises(ValueError, match="low, medium, high"):
            server.model().invoke("Hi", reasoning_effort="minimal")
        assert server.requests == []


class TestClients:
    def test_one_lazy_client_per_instance_and_user_clients_stay_open(self, fresh_pools: None) -> None:
        user_client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
        first, second = make(http_client=user_client), make()
        assert first.client is first.client
        assert first.client.http_client is user_client
        assert second.client is not first.client
        first.close()
        assert not user_client.is_closed
        owned = second.client.http_client
        second.close()
        assert owned.is_closed

    def test_copies_build_their_own_clients(self) -> None:
        model = make()
        assert model.client and model.async_client
        moved = model.model_copy(update={"base_url": "http://127.0.0.1:9/v1"})
        assert moved.client is not model.client
        assert moved.client.config.base_url == "http://127.0.0.1:9/v1"
        deep = copy.deepcopy(model)
        assert deep.client is not model.client and deep.async_client is not model.async_client

    async def test_async_client_is_per_instance(self) -> None:
        first, second = make(), make()
        assert first.async_client is first.async_client
        assert first.async_client is not second.async_client
        await first.aclose()
