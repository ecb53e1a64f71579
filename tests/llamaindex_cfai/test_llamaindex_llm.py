"""WorkersAI over httpx.MockTransport: construction, secrets, metadata, requests, entry points, errors and warnings."""

from __future__ import annotations

import asyncio
import pickle
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from llama_index.core.base.llms.base import BaseLLM
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ThinkingBlock
from llama_index.core.callbacks import CallbackManager, LlamaDebugHandler
from llama_index.core.instrumentation.events import BaseEvent

from cfai.config import ConfigurationError
from cfai.errors import AuthenticationError, EmptyAnswerWarning
from llamaindex_cfai import DEFAULT_NUM_OUTPUT, WorkersAI

ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
ENTRY_POINTS = (
    "chat",
    "achat",
    "stream_chat",
    "astream_chat",
    "complete",
    "acomplete",
    "stream_complete",
    "astream_complete",
)


def ask(text: str = "Why open models?") -> list[ChatMessage]:
    return [ChatMessage(role=MessageRole.SYSTEM, content="Be brief."), ChatMessage(role=MessageRole.USER, content=text)]


def argument_for(entry_point: str) -> Any:
    return "Why open models?" if "complete" in entry_point else ask()


# Construction.


def test_construction_sends_nothing_and_builds_no_http_client(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an httpx client was built at construction")

    monkeypatch.setattr(httpx.Client, "__init__", refuse)
    monkeypatch.setattr(httpx.AsyncClient, "__init__", refuse)

    llm = WorkersAI(account_id=ACCOUNT_ID, api_token=token)

    assert llm.model == "@cf/openai/gpt-oss-120b"


def test_importing_the_adapter_does_not_load_httpx() -> None:
    # Import and construction costs are measured in benchmarks/ (startup section); here only what must not happen.
    # The framework may load httpx itself (langsmith does when httpx-aiohttp is installed): only ours must not.
    code = (
        "import sys, llama_index.core.llms; before = 'httpx' in sys.modules; "
        "from llamaindex_cfai import WorkersAI; print(before, 'httpx' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = result.stdout.split()
    if before == "True":
        pytest.skip("the framework itself loads httpx here, so the adapter's import cannot be told apart")
    assert after == "False"


def test_http_clients_and_timeout_are_checked(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", token)  # to_dict() leaves the token out; from_dict() reads it here
    timeout = httpx.Timeout(3.0, connect=1.0)
    llm = WorkersAI(account_id=ACCOUNT_ID, api_token=token, timeout=timeout, http_client=httpx.Client())
    assert llm.timeout is timeout
    assert WorkersAI.from_dict(llm.to_dict()).timeout == timeout
    assert WorkersAI(account_id=ACCOUNT_ID, api_token=token, timeout=7).timeout == 7.0
    with pytest.raises(ValueError, match=r"httpx\.Client"):
        WorkersAI(account_id=ACCOUNT_ID, api_token=token, http_client=httpx.AsyncClient())
    with pytest.raises(ValueError, match="timeout must be"):
        WorkersAI(account_id=ACCOUNT_ID, api_token=token, timeout="soon")


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, server: Callable[..., Any]) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", ACCOUNT_ID)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "env-token")
    srv = server("responses-text.json")
    transport = httpx.MockTransport(srv)

    WorkersAI(http_client=httpx.Client(transport=transport)).chat(ask())

    request = srv.requests[0]
    assert str(request.url) == f"https://api.cloudflare.com/client/v4/accounts/{ACCOUNT_ID}/ai/v1/responses"
    assert request.headers["authorization"] == "Bearer env-token"


def test_a_missing_token_fails_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="CLOUDFLARE_API_TOKEN"):
        WorkersAI(account_id=ACCOUNT_ID)


def test_an_invalid_reasoning_effort_fails_before_any_request(server: Callable[..., Any]) -> None:
    srv = server()
    with pytest.raises(ValueError, match="low, medium, high"):
        srv.llm(reasoning_effort="minimal")
    with pytest.raises(ValueError, match="low, medium, high"):
        srv.llm().chat(ask(), reasoning_effort="none")
    assert srv.requests == []


# Secrets.


def test_the_token_never_appears_in_serialized_output_repr_or_events(
    server: Callable[..., Any], instrumentation_events: list[BaseEvent]
) -> None:
    secret = "cf-secret-token-never-shown-1234"
    debug = LlamaDebugHandler()
    llm = server("responses-text.json", "responses-text.json", repeat_last=True).llm(
        api_token=secret, callback_manager=CallbackManager([debug])
    )
    llm.chat(ask())
    list(llm.stream_chat(ask()))

    assert instrumentation_events and debug.get_llm_inputs_outputs()
    texts = [
        repr(llm),
        str(llm),
        str(llm.to_dict()),
        llm.to_json(),
        llm.model_dump_json(),
        str(llm.to_payload()),
        *(repr(event.model_dump()) for event in instrumentation_events),
        *(repr(pair) for pair in debug.get_llm_inputs_outputs()),
    ]
    assert all(secret not in text for text in texts)
    assert "api_token" not in llm.to_dict() and "default_headers" not in llm.to_dict()


def test_to_dict_round_trips_with_the_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "env-token")
    llm = WorkersAI(
        account_id=ACCOUNT_ID, model="@cf/openai/gpt-oss-20b", reasoning_effort="low", timeout=httpx.Timeout(9.0)
    )

    restored = WorkersAI.from_json(llm.to_json())

    assert restored.to_dict() == llm.to_dict()
    assert WorkersAI.from_dict(llm.to_dict()).reasoning_effort == "low"


def test_a_pickled_llm_starts_without_clients(server: Callable[..., Any], token: str) -> None:
    llm = WorkersAI(account_id=ACCOUNT_ID, api_token=token)
    assert llm.client is not None

    restored = pickle.loads(pickle.dumps(llm))

    assert not restored._clients.created and restored.model == llm.model


# Metadata.


@pytest.mark.parametrize(
    ("model", "context_window"),
    [("@cf/openai/gpt-oss-120b", 128_000), ("@cf/openai/gpt-oss-20b", 128_000), ("@cf/acme/custom-model", 32_768)],
)
def test_metadata_comes_from_the_catalog_and_never_raises(model: str, context_window: int, token: str) -> None:
    metadata = WorkersAI(model=model, account_id=ACCOUNT_ID, api_token=token).metadata

    assert metadata.context_window == context_window
    assert metadata.num_output == DEFAULT_NUM_OUTPUT
    assert metadata.is_chat_model and metadata.is_function_calling_model
    assert metadata.model_name == model


def test_metadata_overrides(token: str) -> None:
    llm = WorkersAI(
        model="my-finetune", context_window=65_536, max_tokens=1_000, account_id=ACCOUNT_ID, api_token=token
    )
    assert (llm.metadata.context_window, llm.metadata.num_output) == (65_536, 1_000)


def test_the_observability_payload_is_llamaindexs_own_and_follows_the_settings(token: str) -> None:
    llm = WorkersAI(model="my-finetune", context_window=65_536, account_id=ACCOUNT_ID, api_token=token)
    first = llm.to_payload()
    assert first == BaseLLM.to_payload(llm) and first["context_window"] == 65_536
    first["context_window"] = 1  # each call gets its own dict
    llm.max_tokens = 1_000
    llm.model = "@cf/openai/gpt-oss-20b"
    llm.context_window = None
    assert llm.to_payload() == BaseLLM.to_payload(llm)
    assert (llm.to_payload()["num_output"], llm.to_payload()["context_window"]) == (1_000, 128_000)


# Requests.


def test_a_default_request_carries_only_what_was_set(server: Callable[..., Any]) -> None:
    srv = server("responses-text.json")

    srv.llm().chat(ask())

    assert srv.bodies == [
        {
            "model": "@cf/openai/gpt-oss-120b",
            "instructions": "Be brief.",
            "input": [{"role": "user", "content": "Why open models?"}],
        }
    ]


def test_instance_settings_and_call_options_reach_the_request(server: Callable[..., Any]) -> None:
    srv = server("responses-text.json", "responses-text.json")
    llm = srv.llm(
        reasoning_effort="low",
        max_tokens=512,
        temperature=0.2,
        top_p=0.9,
        additional_kwargs={"truncation": "auto"},
        session_id="session-1",
        gateway_id="my-gateway",
        default_headers={"X-Trace": "abc"},
    )

    llm.chat(ask())
    llm.chat(ask(), reasoning_effort="high", max_tokens=64, temperature=1.0)

    first, second = srv.bodies
    assert {key: first[key] for key in ("reasoning", "max_output_tokens", "temperature", "top_p", "truncation")} == {
        "reasoning": {"effort": "low"},
        "max_output_tokens": 512,
        "temperature": 0.2,
        "top_p": 0.9,
        "truncation": "auto",
    }
    assert second["reasoning"] == {"effort": "high"} and second["max_output_tokens"] == 64
    assert second["temperature"] == 1.0 and second["truncation"] == "auto"
    headers = srv.requests[0].headers
    assert headers["x-session-affinity"] == "session-1" and headers["cf-aig-gateway-id"] == "my-gateway"
    assert headers["x-trace"] == "abc"


@pytest.mark.parametrize("entry_point", ["chat", "stream_chat", "achat", "astream_chat"])
def test_stop_strings_are_applied_client_side(
    entry_point: str, server: Callable[..., Any], reply: Callable[..., Any], run_entry: Callable[..., Any]
) -> None:
    srv = server(reply("Hello END world"))

    result = run_entry(srv.llm(stop=["END"]), entry_point, ask())

    assert result[-1].message.content == "Hello "
    assert "stop" not in srv.bodies[0]


# The eight entry points.


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_every_entry_point_returns_the_answer_reasoning_and_usage(
    entry_point: str, server: Callable[..., Any], fixture: Callable[[str], Any], run_entry: Callable[..., Any]
) -> None:
    srv = server("responses-text.json")
    llm = srv.llm()
    expected = fixture("responses-text.json")["output"][1]["content"][0]["text"]

    results = run_entry(llm, entry_point, argument_for(entry_point))

    last = results[-1]
    assert last.additional_kwargs["total_tokens"] == 293 and last.raw["id"] == "resp_7f3c1e9a2b6d4c0f8e5a1b2c3d4e5f60"
    if "complete" in entry_point:
        assert last.text == expected and last.additional_kwargs["thinking"].startswith("The user asks")
    else:
        assert last.message.content == expected and isinstance(last.message.blocks[0], ThinkingBlock)
    if "stream" in entry_point:
        assert "".join(result.delta for result in results) == expected
        assert any(result.additional_kwargs.get("thinking_delta") for result in results)
    assert srv.bodies[0]["input"][-1] == {"role": "user", "content": "Why open models?"}


@pytest.mark.parametrize("mode", ["buffered", "responses"])
def test_the_last_stream_chunk_equals_what_chat_returns(
    mode: str, server: Callable[..., Any], fixture: Callable[[str], Any]
) -> None:
    srv = server("responses-tool-call.json", repeat_last=True)
    llm = srv.llm(stream_mode=mode)

    whole = llm.chat(ask())
    chunks = list(llm.stream_chat(ask()))

    assert chunks[-1].message == whole.message
    assert chunks[-1].additional_kwargs == whole.additional_kwargs
    assert ("stream" in srv.bodies[1]) is (mode == "responses")


def test_errors_surface_as_cfai_errors_without_the_token(
    server: Callable[..., Any], fixture: Callable[[str], Any], token: str
) -> None:
    unauthorized = httpx.Response(401, json=fixture("error-401-10000.json"))
    llm = server(unauthorized, unauthorized).llm()

    with pytest.raises(AuthenticationError) as caught:
        llm.chat(ask())
    with pytest.raises(AuthenticationError):
        list(llm.stream_chat(ask()))

    assert caught.value.status_code == 401 and token not in str(caught.value)


@pytest.mark.parametrize("entry_point", ["chat", "stream_chat", "achat", "astream_chat"])
def test_a_reasoning_only_reply_warns_and_reports_length(
    entry_point: str, server: Callable[..., Any], run_entry: Callable[..., Any]
) -> None:
    llm = server("responses-incomplete-reasoning-only.json").llm()

    with pytest.warns(EmptyAnswerWarning, match="no answer"):
        results = run_entry(llm, entry_point, ask())

    assert results[-1].additional_kwargs["finish_reason"] == "length"
    assert results[-1].message.content is None


# Clients.


def test_each_instance_owns_its_clients_and_never_closes_a_supplied_one(token: str) -> None:
    supplied = httpx.Client()
    first = WorkersAI(account_id=ACCOUNT_ID, api_token=token, http_client=supplied)
    second = WorkersAI(account_id=ACCOUNT_ID, api_token=token)

    assert first.client is first.client
    assert first.client is not second.client
    assert first.client.http_client is supplied

    first.close()
    second.close()

    assert not supplied.is_closed
    supplied.close()


def test_the_async_client_survives_a_new_event_loop(server: Callable[..., Any]) -> None:
    llm = server("responses-text.json", "responses-text.json").llm()

    answers = [asyncio.run(llm.achat(ask())).message.content for _ in range(2)]

    assert answers[0] == answers[1] and answers[0]


def test_changed_connection_settings_take_effect(server: Callable[..., Any], fixture: Callable[[str], Any]) -> None:
    first, second = server("responses-text.json"), server("responses-text.json")
    llm = first.llm(session_id="a")
    llm.chat(ask())

    llm.http_client = httpx.Client(transport=httpx.MockTransport(second))
    copy = llm.model_copy(update={"session_id": "b"})
    copy.chat(ask())

    assert first.requests[0].headers["x-session-affinity"] == "a"
    assert second.requests[0].headers["x-session-affinity"] == "b"
