"""The input tokens of a Responses request, and the local check that it fits the model's context window.

`count_request_tokens` returns two numbers (`RequestTokens`):

- `content`, exact: the tokens of the text a server renders verbatim (instructions, message text, tool-call
  arguments, tool outputs), each text counted on its own. It stays below what the server counts: where the server
  runs a text on from a heading (instructions), one token may merge at the seam, and the server's own system
  message alone adds dozens.
- `estimated`: the rest, from a model of the server's rendering (`cfai.tokens.harmony`): harmony's markers and
  headers, the server's system message, tool definitions and the response format, and reasoning sent back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cfai.errors import ContextWindowExceededError
from cfai.tokens.harmony import HarmonyMessage, content_texts, has_function_tools, to_harmony_messages
from cfai.tokens.vocabulary import Tokenizer, default_tokenizer

# Measured with openai-harmony 0.0.8 on the system message vLLM adds for gpt-oss (model identity, knowledge cutoff,
# current date, reasoning effort, valid channels): 61 tokens at every effort, and 14 more naming the channel for
# function calls when the request has tools. Estimates: another server may word its system message differently.
SYSTEM_MESSAGE_TOKENS = 61
TOOLS_CHANNEL_NOTE_TOKENS = 14
# The prompt ends by opening the reply: `<|start|>assistant`.
REPLY_OPENING_TOKENS = 2


@dataclass(frozen=True, slots=True)
class RequestTokens:
    """A request's input tokens: `content` exactly (a lower bound of the server's count), the rest `estimated`."""

    content: int
    estimated: int

    @property
    def total(self) -> int:
        """The estimate of the `input_tokens` the server will report."""
        return self.content + self.estimated


def _tally(messages: Iterable[HarmonyMessage], tokenizer: Tokenizer) -> RequestTokens:
    content = estimated = 0
    for message in messages:
        text_tokens = sum(tokenizer.count(text) for text in message.content)
        rendered = message.special_tokens + sum(tokenizer.count(piece) for piece in message.header)
        if message.before or message.after:
            # Harmony tokenizes headings, content and definitions as one run, where a seam can merge two tokens.
            rendered += tokenizer.count(message.before + "".join(message.content) + message.after)
        else:
            rendered += text_tokens
        exact = text_tokens if message.certain else 0
        content += exact
        estimated += rendered - exact
    return RequestTokens(content=content, estimated=estimated)


def count_request_tokens(body: Mapping[str, Any], *, tokenizer: Tokenizer | None = None) -> RequestTokens:
    """The input tokens of a Responses request body, as exact content and an estimated rest.

    Raises `VocabularyNotFoundError` when the tokenizer cannot be loaded.
    """
    counted = _tally(to_harmony_messages(body), tokenizer or default_tokenizer())
    server_added = SYSTEM_MESSAGE_TOKENS + REPLY_OPENING_TOKENS
    if has_function_tools(body):
        server_added += TOOLS_CHANNEL_NOTE_TOKENS
    return RequestTokens(content=counted.content, estimated=counted.estimated + server_added)


# UTF-8 spends at most four bytes on a character.
_MAX_BYTES_PER_CHARACTER = 4


def check_context_window(
    body: Mapping[str, Any],
    context_window: int,
    *,
    max_output_tokens: int | None = None,
    body_size: int | None = None,
    tokenizer: Tokenizer | None = None,
) -> None:
    """Raises `ContextWindowExceededError` when the request certainly does not fit, so that it is never sent.

    It does not fit when its content tokens (a lower bound of the server's count) exceed `context_window` less the
    output reserved by `max_output_tokens` (this argument, else the body's field, else nothing). As no token is
    shorter than one byte, nothing is tokenized while the content's UTF-8 size is within that budget: first bounded
    from its length in characters, then measured. A caller that has the serialized body at hand may pass its length
    as `body_size` to skip even that. When the vocabulary cannot be loaded the check passes: the server still has
    the last word.

    The error is raised locally: `status_code` is 400 (what the server would answer), `code` and `request_id` are
    None, and `body` holds the figures: `input_tokens_at_least`, `context_window`, `max_output_tokens`.
    """
    if max_output_tokens is None:
        reserved = body.get("max_output_tokens")
        max_output_tokens = reserved if isinstance(reserved, int) else 0
    budget = context_window - max_output_tokens
    if body_size is not None and body_size <= budget:
        return
    texts = content_texts(body)
    if sum(map(len, texts)) * _MAX_BYTES_PER_CHARACTER <= budget:
        return
    if sum(map(_utf8_size, texts)) <= budget:
        return
    tokenizer = tokenizer or default_tokenizer()
    if not tokenizer.available:
        return
    content = sum(tokenizer.count(text) for text in texts)
    if content > budget:
        raise _context_window_error(content, context_window, max_output_tokens)


def _utf8_size(text: str) -> int:
    # `isascii` reads a flag the string keeps, where encoding copies the whole text.
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _context_window_error(content: int, context_window: int, max_output_tokens: int) -> ContextWindowExceededError:
    reserved = f" after the {max_output_tokens:,} reserved by max_output_tokens" if max_output_tokens else ""
    message = (
        f"The request has at least {content:,} input tokens (counted locally with gpt-oss's tokenizer), more than "
        f"the {context_window - max_output_tokens:,} the model's {context_window:,}-token context window leaves"
        f"{reserved}; it was not sent. Shorten the conversation or the retrieved context"
        f"{', or lower max_tokens' if max_output_tokens else ''}."
    )
    figures = {
        "input_tokens_at_least": content,
        "context_window": context_window,
        "max_output_tokens": max_output_tokens,
    }
    return ContextWindowExceededError(message, status_code=400, body=figures)
