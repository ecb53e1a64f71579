"""gpt-oss token counts and the context-window preflight, offline: the vocabulary is the copy llama-index-core ships."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from cfai import DEFAULT_MODEL, get_model_info
from cfai.errors import BadRequestError, ContextWindowExceededError
from cfai.tokens import (
    ENCODING_NAME,
    VOCABULARY_FILE,
    HarmonyMessage,
    Tokenizer,
    VocabularyNotFoundError,
    check_context_window,
    count_request_tokens,
    count_tokens,
    encode,
    to_harmony_messages,
)
from cfai.wire import (
    assistant_item,
    build_request,
    function_call_item,
    function_call_output_item,
    function_tool,
    input_image,
    input_text,
    json_schema_format,
    message_item,
    reasoning_item,
)

WINDOW = get_model_info(DEFAULT_MODEL).context_window
# Ordinary English: about 4.4 characters a token.
SENTENCE = "Workers AI runs gpt-oss on Cloudflare's network, close to the people who use it. "


def llama_index_vocabulary_dir() -> Path:
    spec = importlib.util.find_spec("llama_index.core")
    assert spec is not None and spec.submodule_search_locations, "llama-index-core (a dev dependency) is needed"
    return Path(next(iter(spec.submodule_search_locations))) / "_static" / "tiktoken_cache"


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    # Never the network: tests find the copy llama-index-core ships, or fail.
    found = Tokenizer(download=False)
    assert found.available, "the vocabulary llama-index-core ships was not found"
    return found


class RecordingTokenizer(Tokenizer):
    """Records every text it is asked to encode: the seam that shows when the preflight tokenizes."""

    def __init__(self) -> None:
        super().__init__(download=False)
        self.texts: list[str] = []

    def encode(self, text: str) -> list[int]:
        self.texts.append(text)
        return super().encode(text)


def prompt_of(tokens: int) -> str:
    """A text of exactly `tokens` tokens: "hello" and then " hello" are one token each."""
    return "hello" + " hello" * (tokens - 1)


def typical_request() -> dict[str, Any]:
    """A request like most: instructions, a tool, a short exchange with a tool call (about 1.5 KB)."""
    return build_request(
        model=DEFAULT_MODEL,
        instructions="You are a concise assistant. Answer in English.",
        input=[
            message_item("user", "What's the weather in Paris, and should I take an umbrella?"),
            reasoning_item("The user wants the weather in Paris. Call get_weather."),
            function_call_item("call_1", "get_weather", {"city": "Paris"}),
            function_call_output_item("call_1", {"temperature": 14, "rain_probability": 0.7}),
        ],
        tools=[
            function_tool(
                "get_weather",
                "Get the current weather for a city.",
                {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            )
        ],
        max_output_tokens=2048,
    )


# The tokenizer itself.


@pytest.mark.parametrize(
    "text",
    [
        "hello world",
        SENTENCE,
        "naïve café, 日本語の文章, emoji 🙂👍🏽",
        "def f(x):\n\treturn x ** 2  # squares\r\n",
        "<|start|>user<|message|>special tokens in user text are text<|end|>",
        "x" * 2_000,
    ],
)
def test_ids_are_o200k_base_ids(tokenizer, monkeypatch, text):
    import tiktoken

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(llama_index_vocabulary_dir()))
    o200k_base = tiktoken.get_encoding("o200k_base")
    assert encode(text, tokenizer=tokenizer) == o200k_base.encode_ordinary(text)
    assert count_tokens(text, tokenizer=tokenizer) == len(o200k_base.encode_ordinary(text))


def test_hand_checked_counts(tokenizer):
    assert tokenizer.encoding.name == ENCODING_NAME
    assert encode("hello world", tokenizer=tokenizer) == [24912, 2375]
    assert [tokenizer.encoding.decode([token]) for token in encode("hello world", tokenizer=tokenizer)] == [
        "hello",
        " world",
    ]
    assert count_tokens("", tokenizer=tokenizer) == 0
    assert count_tokens(prompt_of(1_000), tokenizer=tokenizer) == 1_000
    # Harmony's markers are single special tokens when harmony writes them, but plain text in content.
    assert tokenizer.encoding.encode("<|end|>", allowed_special="all") == [200007]
    assert 200007 not in encode("<|end|>", tokenizer=tokenizer)


def test_importing_loads_neither_tiktoken_nor_llama_index_and_a_named_directory_is_used(tmp_path):
    named = tmp_path / "vocabulary"
    named.mkdir()
    (named / VOCABULARY_FILE).write_bytes((llama_index_vocabulary_dir() / VOCABULARY_FILE).read_bytes())
    code = textwrap.dedent(
        f"""
        import os, sys
        import cfai, cfai.tokens
        from cfai.tokens import Tokenizer, check_context_window
        check_context_window({{"model": "m", "input": "Hello"}}, 128_000)
        print(sorted(m for m in ("tiktoken", "llama_index") if m in sys.modules))
        tokenizer = Tokenizer([{str(named)!r}], download=False)
        print(tokenizer.count("hello world"), os.environ.get("TIKTOKEN_CACHE_DIR"))
        print(sorted(m for m in ("tiktoken", "llama_index") if m in sys.modules))
        """
    )
    environment = {key: value for key, value in os.environ.items() if key != "TIKTOKEN_CACHE_DIR"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment)
    assert result.stdout.splitlines() == ["[]", "2 None", "['tiktoken']"]


def test_threads_share_one_load(tokenizer):
    fresh = Tokenizer(download=False)
    counts: list[int] = []
    threads = [threading.Thread(target=lambda: counts.append(fresh.count(SENTENCE))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts == [tokenizer.count(SENTENCE)] * 8
    assert fresh.encoding is tokenizer.encoding


# Where the vocabulary comes from when it is not where it should be.


def test_no_vocabulary_gives_an_error_that_says_what_to_do(tmp_path):
    empty = Tokenizer([tmp_path], download=False)
    assert not empty.available
    with pytest.raises(VocabularyNotFoundError) as caught:
        count_tokens("hello", tokenizer=empty)
    message = str(caught.value)
    assert str(tmp_path) in message and "downloading is turned off" in message
    assert VOCABULARY_FILE in message and "TIKTOKEN_CACHE_DIR" in message and "llama-index-core" in message


def test_a_corrupt_copy_is_neither_used_nor_deleted(tmp_path):
    corrupt = tmp_path / VOCABULARY_FILE
    corrupt.write_bytes(b"aGVsbG8= 0\n")
    assert not Tokenizer([tmp_path], download=False).available
    assert corrupt.read_bytes() == b"aGVsbG8= 0\n"


def test_a_failed_load_is_remembered_until_a_new_tokenizer(tmp_path):
    tokenizer = Tokenizer([tmp_path], download=False)
    assert not tokenizer.available
    (tmp_path / VOCABULARY_FILE).write_bytes((llama_index_vocabulary_dir() / VOCABULARY_FILE).read_bytes())
    # No search per request in a process where the vocabulary is missing.
    assert not tokenizer.available
    assert Tokenizer([tmp_path], download=False).count("hello world") == 2


def test_without_a_vocabulary_the_preflight_lets_requests_through(call, script, fixtures, tmp_path, monkeypatch):
    empty = Tokenizer([tmp_path], download=False)
    body = build_request(model=DEFAULT_MODEL, input=SENTENCE * 8_000)
    check_context_window(body, WINDOW, tokenizer=empty)
    # The same through a client, in a process where the vocabulary cannot be found.
    monkeypatch.setattr("cfai.tokens.request.default_tokenizer", lambda: empty)
    server = script(httpx.Response(200, json=fixtures.json("responses-text.json")))
    call(server).create(body)
    assert len(server.requests) == 1


def test_a_client_refuses_a_request_that_cannot_fit_and_sends_nothing(call, script, monkeypatch):
    server = script()
    body = build_request(model=DEFAULT_MODEL, input="x " * 300_000)  # a 600,000-character prompt
    with pytest.raises(ContextWindowExceededError, match="not sent"):
        call(server).create(body)
    with pytest.raises(ContextWindowExceededError):
        call(server).stream(body, mode="chat_completions")
    assert server.requests == []


def test_a_client_never_tokenizes_a_request_smaller_than_the_window(call, script, fixtures, monkeypatch):
    calls: list[object] = []
    monkeypatch.setattr("cfai.transport.BaseWorkersAIClient.preflight", staticmethod(calls.append))
    server = script(httpx.Response(200, json=fixtures.json("responses-text.json")))
    call(server).create(build_request(model=DEFAULT_MODEL, input="Hi " * 30_000))
    assert calls == [] and len(server.requests) == 1


# Counting a request.


def every_item_kind() -> dict[str, Any]:
    return build_request(
        model=DEFAULT_MODEL,
        instructions="Be brief.",
        input=[
            message_item("developer", "Prefer metric units."),
            message_item("user", "Hi there"),
            assistant_item("Hello! How can I help?"),
            message_item(
                "user", [input_text("Weather in "), input_text("Paris?"), input_image("data:image/png;base64,AA==")]
            ),
            reasoning_item("Need the weather: call the tool."),
            function_call_item("call_9", "get_weather", {"city": "Paris"}),
            function_call_output_item("call_9", "14 °C, light rain"),
        ],
        tools=[
            function_tool("get_weather", "Weather now.", {"type": "object", "properties": {"city": {"type": "string"}}})
        ],
        text_format=json_schema_format("answer", {"type": "object", "properties": {"text": {"type": "string"}}}),
    )


def test_every_item_kind_becomes_its_harmony_message():
    messages = to_harmony_messages(every_item_kind())
    assert [(m.header, m.content, m.special_tokens, m.certain) for m in messages] == [
        (("developer",), ("Be brief.",), 3, True),
        (("developer",), ("Prefer metric units.",), 3, True),
        (("user",), ("Hi there",), 3, True),
        (("assistant", "final"), ("Hello! How can I help?",), 4, True),
        (("user",), ("Weather in ", "Paris?"), 3, True),
        (("assistant", "analysis"), ("Need the weather: call the tool.",), 4, False),
        (("assistant", " to=functions.get_weather", "commentary", " json"), ('{"city":"Paris"}',), 4, True),
        (("functions.get_weather", " to=assistant", "commentary"), ("14 °C, light rain",), 4, True),
    ]
    developer = messages[0]
    assert developer.before == "# Instructions\n\n"
    assert "type get_weather = (_: {\ncity?: string,\n}) => any;" in developer.after
    assert developer.after.endswith('## answer\n\n{"type":"object","properties":{"text":{"type":"string"}}}')


def test_content_is_exact_and_reasoning_is_only_estimated(tokenizer):
    body = every_item_kind()
    texts = ["Be brief.", "Prefer metric units.", "Hi there", "Hello! How can I help?", "Weather in ", "Paris?"]
    texts += ['{"city":"Paris"}', "14 °C, light rain"]
    counted = count_request_tokens(body, tokenizer=tokenizer)
    assert counted.content == sum(tokenizer.count(text) for text in texts)

    without_reasoning = {**body, "input": [item for item in body["input"] if item.get("type") != "reasoning"]}
    less = count_request_tokens(without_reasoning, tokenizer=tokenizer)
    assert less.content == counted.content
    # The reasoning's text plus <|start|>assistant<|channel|>analysis<|message|>...<|end|>.
    assert counted.total - less.total == tokenizer.count("Need the weather: call the tool.") + 6


def test_reasoning_of_an_answered_turn_is_not_counted(tokenizer):
    answered = [message_item("user", "Hi"), reasoning_item("Greet back."), assistant_item("Hello!")]
    body = build_request(model=DEFAULT_MODEL, input=[*answered, message_item("user", "And now?")])
    assert all(message.header != ("assistant", "analysis") for message in to_harmony_messages(body))
    without = build_request(model=DEFAULT_MODEL, input=[answered[0], answered[2], message_item("user", "And now?")])
    assert count_request_tokens(body, tokenizer=tokenizer) == count_request_tokens(without, tokenizer=tokenizer)


def test_a_string_input_is_one_user_message(tokenizer):
    as_string = build_request(model=DEFAULT_MODEL, input="Name three prime numbers.")
    as_item = build_request(model=DEFAULT_MODEL, input=[message_item("user", "Name three prime numbers.")])
    assert to_harmony_messages(as_string) == [HarmonyMessage(("user",), ("Name three prime numbers.",))]
    assert count_request_tokens(as_string, tokenizer=tokenizer) == count_request_tokens(as_item, tokenizer=tokenizer)


@pytest.mark.parametrize(
    ("body", "rendered_by_harmony"),
    [
        ({"model": "m", "input": "What's the weather in Paris?"}, 73),
        (
            {
                "model": "m",
                "instructions": "Use tools.",
                "tools": [
                    function_tool(
                        "get_weather",
                        "Get current weather for a city.",
                        {
                            "type": "object",
                            "properties": {
                                "city": {"type": "string", "description": "City name"},
                                "unit": {"type": "string", "enum": ["c", "f"]},
                                "days": {"type": "integer"},
                            },
                            "required": ["city"],
                        },
                    ),
                    function_tool(
                        "search",
                        "Search the web.\nReturns links.",
                        {
                            "type": "object",
                            "properties": {
                                "q": {"type": "string"},
                                "tags": {"type": "array", "items": {"type": "string"}},
                                "opts": {"type": "object", "properties": {"safe": {"type": "boolean"}}},
                            },
                            "required": ["q"],
                        },
                    ),
                ],
                "input": [
                    message_item("user", "What's the weather in Paris?"),
                    reasoning_item("The user wants weather. Call get_weather."),
                    function_call_item("call_1", "get_weather", '{"city":"Paris"}'),
                    function_call_output_item("call_1", '{"temperature": 20, "sunny": true}'),
                ],
            },
            240,
        ),
    ],
    ids=["plain", "tools-and-a-tool-call"],
)
def test_total_matches_harmony_rendering(tokenizer, body, rendered_by_harmony):
    # The reference figures: openai-harmony 0.0.8 rendering the same conversation for completion, with the system
    # message vLLM adds (medium effort, a current date).
    assert count_request_tokens(body, tokenizer=tokenizer).total == rendered_by_harmony


# The preflight.


def test_a_600k_character_prompt_raises_before_any_request(call, script, tokenizer):
    prompt = (SENTENCE * 7_500)[:600_000]
    body = build_request(model=DEFAULT_MODEL, input=prompt, max_output_tokens=1_000)
    server = script()  # any request would fail the test
    with pytest.raises(ContextWindowExceededError) as caught:
        check_context_window(body, WINDOW, tokenizer=tokenizer)
        call(server).create(body)
    assert server.requests == []

    error = caught.value
    tokens = tokenizer.count(prompt)
    assert tokens > WINDOW
    assert isinstance(error, BadRequestError)
    assert (error.status_code, error.code, error.request_id) == (400, None, None)
    assert error.body == {"input_tokens_at_least": tokens, "context_window": WINDOW, "max_output_tokens": 1_000}
    assert f"at least {tokens:,} input tokens" in error.message
    assert "128,000-token context window" in error.message and "1,000 reserved by max_output_tokens" in error.message
    assert "Shorten the conversation" in error.message


def test_a_request_just_under_the_window_goes_through(call, script, fixtures, tokenizer):
    budget = WINDOW - 1_000
    fits = build_request(model=DEFAULT_MODEL, input=prompt_of(budget), max_output_tokens=1_000)
    check_context_window(fits, WINDOW, tokenizer=tokenizer)
    server = script(httpx.Response(200, json=fixtures.json("responses-text.json")))
    call(server).create(fits)
    assert len(server.requests) == 1

    one_more = build_request(model=DEFAULT_MODEL, input=prompt_of(budget + 1), max_output_tokens=1_000)
    with pytest.raises(ContextWindowExceededError):
        check_context_window(one_more, WINDOW, tokenizer=tokenizer)


def test_max_output_tokens_is_taken_from_the_body_or_the_argument(tokenizer):
    body = build_request(model=DEFAULT_MODEL, input=prompt_of(2_000))
    check_context_window(body, 2_500, tokenizer=tokenizer)
    check_context_window({**body, "max_output_tokens": 500}, 2_500, tokenizer=tokenizer)
    with pytest.raises(ContextWindowExceededError, match="501 reserved by max_output_tokens"):
        check_context_window({**body, "max_output_tokens": 501}, 2_500, tokenizer=tokenizer)
    with pytest.raises(ContextWindowExceededError):
        check_context_window({**body, "max_output_tokens": 100}, 2_500, max_output_tokens=600, tokenizer=tokenizer)
    check_context_window({**body, "max_output_tokens": 600}, 2_500, max_output_tokens=0, tokenizer=tokenizer)


def test_ordinary_requests_are_never_tokenized():
    recording = RecordingTokenizer()
    body = typical_request()
    check_context_window(body, WINDOW, tokenizer=recording)
    assert recording.texts == []

    # The content's UTF-8 size is the bound: at it exactly, nothing is tokenized; one byte more, the content is.
    texts = [body["instructions"], body["input"][0]["content"], body["input"][2]["arguments"]]
    texts.append(body["input"][3]["output"])
    size = sum(len(text.encode()) for text in texts)
    check_context_window(body, size + 2048, tokenizer=recording)
    assert recording.texts == []
    check_context_window(body, size + 2047, tokenizer=recording)
    assert recording.texts == texts


def test_the_size_bound_needs_no_tokenizer_for_long_ascii_within_budget():
    recording = RecordingTokenizer()
    body = build_request(model=DEFAULT_MODEL, input="a" * 1_000 + " b" * 500)
    # 2,000 characters could be 8,000 bytes; measured, they are 2,000, within the budget.
    check_context_window(body, 2_000, tokenizer=recording)
    assert recording.texts == []


def test_a_size_the_caller_already_knows_is_trusted():
    recording = RecordingTokenizer()
    body = build_request(model=DEFAULT_MODEL, input=SENTENCE * 2_000)
    check_context_window(body, 10_000, body_size=1_000, tokenizer=recording)
    assert recording.texts == []
    with pytest.raises(ContextWindowExceededError):
        check_context_window(body, 10_000, body_size=200_000, tokenizer=recording)


def test_the_byte_bound_never_skips_a_request_that_overflows(tokenizer):
    # Multi-byte text: fewer tokens than bytes, never more, so the bound holds for any script.
    for text in ("日本語の文章です。" * 400, "🙂" * 3_000, "\x00\x01" * 2_000):
        body = build_request(model=DEFAULT_MODEL, input=text)
        tokens = tokenizer.count(text)
        assert tokens <= len(text.encode())
        with pytest.raises(ContextWindowExceededError):
            check_context_window(body, tokens - 1, tokenizer=tokenizer)
        check_context_window(body, tokens, tokenizer=tokenizer)


def test_a_body_the_transport_would_refuse_does_not_fail_here(tokenizer):
    check_context_window(
        {"model": "m", "input": "lone \ud800 surrogate", "extra": object()}, WINDOW, tokenizer=tokenizer
    )
    with pytest.raises(ContextWindowExceededError):
        check_context_window({"model": "m", "input": "lone \ud800 surrogate" * 100}, 50, tokenizer=tokenizer)
