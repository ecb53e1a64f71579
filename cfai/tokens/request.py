"""The input tokens of a Responses request.

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

from cfai.tokens.harmony import HarmonyMessage, has_function_tools, to_harmony_messages
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
