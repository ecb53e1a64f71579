"""Token counts with gpt-oss's own tokenizer.

    from cfai.tokens import count_tokens

    count_tokens("Name three prime numbers.")     # exact: o200k_harmony through tiktoken

`vocabulary` finds and loads the tokenizer on first use: importing this package loads neither tiktoken nor the
vocabulary.
"""

from __future__ import annotations

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
    "Tokenizer",
    "VocabularyNotFoundError",
    "count_tokens",
    "default_tokenizer",
    "default_vocabulary_dirs",
    "encode",
]
