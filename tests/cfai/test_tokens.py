"""gpt-oss token counts, offline: the vocabulary is the copy llama-index-core ships."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from cfai import DEFAULT_MODEL
from cfai.tokens import (
    ENCODING_NAME,
    VOCABULARY_FILE,
    HarmonyMessage,
    Tokenizer,
    VocabularyNotFoundError,
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


def prompt_of(tokens: int) -> str:
    """A text of exactly `tokens` tokens: "hello" and then " hello" are one token each."""
    return "hello" + " hello" * (tokens - 1)


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
        from cfai.tokens import Tokenizer, count_tokens
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
