"""gpt-oss token counts, offline: the vocabulary is the copy llama-index-core ships."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from cfai.tokens import (
    ENCODING_NAME,
    VOCABULARY_FILE,
    Tokenizer,
    VocabularyNotFoundError,
    count_tokens,
    encode,
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
