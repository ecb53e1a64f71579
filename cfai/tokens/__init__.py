"""Token counts with gpt-oss's own tokenizer, for text and for whole Responses requests.

    from cfai.tokens import count_tokens, count_request_tokens

    count_tokens("Name three prime numbers.")     # exact: o200k_harmony through tiktoken
    count_request_tokens(body).total              # a Responses body: exact content plus an estimated rest

`vocabulary` finds and loads the tokenizer (on first use: importing this package loads neither tiktoken nor the
vocabulary), `harmony` lays a request out as the messages a gpt-oss server renders, `request` counts them.
"""

from __future__ import annotations

from cfai.tokens.harmony import HarmonyMessage, to_harmony_messages
from cfai.tokens.request import RequestTokens, count_request_tokens
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
    "count_request_tokens",
    "count_tokens",
    "default_tokenizer",
    "default_vocabulary_dirs",
    "encode",
    "to_harmony_messages",
]
