"""gpt-oss's tokenizer: finding the o200k vocabulary, loading it through tiktoken on first use, encoding text.

gpt-oss reads text through `o200k_harmony`, which is o200k_base plus harmony's special tokens: ordinary text gets
the same ids in both. Importing this module loads neither tiktoken nor the 3.6 MB vocabulary. The vocabulary is
looked for, first hit wins:

1. in the directories given to `Tokenizer(vocabulary_dirs=...)`, and only there when some are given; otherwise
2. in tiktoken's own cache (`TIKTOKEN_CACHE_DIR`, else `DATA_GYM_CACHE_DIR`, else `<tmp>/data-gym-cache`),
3. in the copy llama-index-core ships (located without importing llama_index),
4. and last through tiktoken's download from OpenAI's public storage (`download=False` turns that off).

A directory holds the vocabulary in tiktoken's cache layout: o200k_base.tiktoken saved under the name
`VOCABULARY_FILE`. A local copy is used only when its SHA-256 matches, and local copies are tried before the
network because tiktoken's download has no timeout.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tiktoken import Encoding

ENCODING_NAME = "o200k_harmony"
VOCABULARY_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
# tiktoken names a cached file by the SHA-1 of its URL, and accepts it only with this SHA-256.
VOCABULARY_FILE = "fb374d419588a4632f3f557e76b4b70aebbca790"
VOCABULARY_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"


class VocabularyNotFoundError(RuntimeError):
    """gpt-oss's vocabulary could not be loaded; the message says where it was looked for and what to do."""


def default_vocabulary_dirs() -> list[Path]:
    """tiktoken's cache directory, then llama-index-core's copy when that package is installed."""
    # Imported here, like hashlib below, so that importing this module stays cheap.
    import importlib.util
    import tempfile

    cache = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    dirs = [Path(cache) if cache else Path(tempfile.gettempdir()) / "data-gym-cache"]
    # find_spec on the top-level name locates the namespace package without running any of its code.
    spec = importlib.util.find_spec("llama_index")
    for location in (spec.submodule_search_locations or ()) if spec else ():
        dirs.append(Path(location) / "core" / "_static" / "tiktoken_cache")
    return dirs


def _holds_vocabulary(directory: Path) -> bool:
    import hashlib

    try:
        data = (directory / VOCABULARY_FILE).read_bytes()
    except OSError:
        return False
    # tiktoken deletes a cached file whose hash is wrong: checking first keeps it away from files it does not own.
    return hashlib.sha256(data).hexdigest() == VOCABULARY_SHA256


_CACHE_DIR_LOCK = threading.Lock()


def _encoding_from(directory: Path | None) -> Encoding:
    """tiktoken's o200k_harmony, its vocabulary read from `directory` (None: tiktoken's own cache or download)."""
    import tiktoken

    # tiktoken learns where its cache is only from the environment, so it is pointed at `directory` for this call.
    with _CACHE_DIR_LOCK:
        previous = os.environ.get("TIKTOKEN_CACHE_DIR")
        if directory is not None:
            os.environ["TIKTOKEN_CACHE_DIR"] = str(directory)
        try:
            return tiktoken.get_encoding(ENCODING_NAME)
        finally:
            if previous is None:
                os.environ.pop("TIKTOKEN_CACHE_DIR", None)
            else:
                os.environ["TIKTOKEN_CACHE_DIR"] = previous


def _load_encoding(dirs: list[Path], download: bool) -> Encoding:
    try:
        found = next((directory for directory in dirs if _holds_vocabulary(directory)), None)
        if found is not None or download:
            return _encoding_from(found)
        reason = "no copy was found and downloading is turned off"
    except Exception as exc:  # tiktoken missing, no network, a proxy's page instead of the file...
        reason = f"{type(exc).__name__}: {exc}"
    looked_in = ", ".join(str(directory) for directory in dirs) or "no directory"
    raise VocabularyNotFoundError(
        f"gpt-oss's tokenizer vocabulary (o200k_base) could not be loaded: {reason}. Looked in: {looked_in}. "
        f"Fix one of: allow the download from {VOCABULARY_URL}; install llama-index-core, which ships a copy; or "
        f"save that file as <directory>/{VOCABULARY_FILE} and set TIKTOKEN_CACHE_DIR=<directory> (or pass "
        f"vocabulary_dirs=[<directory>] to cfai.tokens.Tokenizer)."
    )


# Texts whose counts are remembered (their strings are kept alive meanwhile; in a chat they are alive anyway).
COUNTS_KEPT = 4096


class Tokenizer:
    """gpt-oss's tokenizer, loaded on first use. Thread-safe; a failed load is remembered and not retried."""

    def __init__(
        self, vocabulary_dirs: Iterable[str | os.PathLike[str]] | None = None, *, download: bool = True
    ) -> None:
        self._dirs = None if vocabulary_dirs is None else [Path(directory) for directory in vocabulary_dirs]
        self._download = download
        self._encoding: Encoding | None = None
        self._failure: str | None = None
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def __repr__(self) -> str:
        where = "default locations" if self._dirs is None else ", ".join(map(str, self._dirs))
        return f"Tokenizer({where}, download={self._download})"

    @property
    def encoding(self) -> Encoding:
        """The tiktoken encoding, loaded now if need be; raises `VocabularyNotFoundError` when it cannot be."""
        if self._encoding is None:
            with self._lock:
                if self._failure is not None:
                    raise VocabularyNotFoundError(self._failure)
                if self._encoding is None:
                    dirs = default_vocabulary_dirs() if self._dirs is None else self._dirs
                    try:
                        self._encoding = _load_encoding(dirs, self._download)
                    except VocabularyNotFoundError as exc:
                        self._failure = str(exc)
                        raise
        return self._encoding

    @property
    def available(self) -> bool:
        """Whether the vocabulary can be loaded (loading it if need be)."""
        try:
            self.encoding  # noqa: B018 - loading is the point
        except VocabularyNotFoundError:
            return False
        return True

    def encode(self, text: str) -> list[int]:
        """Token ids of `text`. A string like "<|end|>" in it is text, as servers treat it in user content."""
        return self.encoding.encode_ordinary(text) if text else []

    def count(self, text: str) -> int:
        """How many tokens `text` makes, remembered for the last `COUNTS_KEPT` texts: a chat resends its whole
        history every turn, so all but the newest messages are counted once (a 100k-token history costs about
        10 ms to tokenize, a lookup of the same texts about 0.1 ms)."""
        known = self._counts.get(text)
        if known is None:
            known = len(self.encode(text))
            with self._lock:
                if len(self._counts) >= COUNTS_KEPT:
                    self._counts.pop(next(iter(self._counts)))  # the oldest first; dicts keep insertion order
                self._counts[text] = known
        return known


# Creating one loads nothing; the vocabulary is read on the first count.
_DEFAULT = Tokenizer()


def default_tokenizer() -> Tokenizer:
    """The process-wide tokenizer used when a function is given none: default locations, download allowed."""
    return _DEFAULT


def encode(text: str, *, tokenizer: Tokenizer | None = None) -> list[int]:
    """gpt-oss's token ids for `text`."""
    return (tokenizer or default_tokenizer()).encode(text)


def count_tokens(text: str, *, tokenizer: Tokenizer | None = None) -> int:
    """How many tokens gpt-oss reads for `text`, exactly."""
    return (tokenizer or default_tokenizer()).count(text)
