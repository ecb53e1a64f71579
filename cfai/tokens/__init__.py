"""Token counts with gpt-oss's own tokenizer, and a local context-window check run before a request is sent.

    from cfai.tokens import count_tokens, count_request_tokens, check_context_window

    count_tokens("Name three prime numbers.")     # exact: o200k_harmony through tiktoken
    count_request_tokens(body).total              # a Responses body: exact content plus an estimated rest
    check_context_window(body, 128_000)           # ContextWindowExceededError if it certainly cannot fit

`vocabulary` finds and loads the tokenizer (on first use: importing this package loads neither tiktoken nor the
vocabulary), `harmony` lays a request out as the messages a gpt-oss server renders, `request` counts them and runs
the check.
"""

from __future__ import annotations

from cfai.tokens.harmony import HarmonyMessage, to_harmony_messages
from cfai.tokens.request import RequestTokens, check_context_window, count_request_tokens
from cfai.tokens.vocabulary import (
    ENCODING_NAME,
    VOCABULARY_FILE,
    Tokenizer,
    VocabularyNotFoundError,
    count_tokens,
    default_tokenizer,
    default_vocabulary_dirs,
    encode,
)

__all__ = [
    "ENCODING_NAME",
    "VOCABULARY_FILE",
    "HarmonyMessage",
    "RequestTokens",
    "Tokenizer",
    "VocabularyNotFoundError",
    "check_context_window",
    "count_request_tokens",
    "count_tokens",
    "default_tokenizer",
    "default_vocabulary_dirs",
    "encode",
    "to_harmony_messages",
]
