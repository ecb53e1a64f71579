"""A scripted token source for OpenAI's reference gpt-oss Responses server, and the launcher that serves it.

Runs inside the server's own virtual environment (package `gpt-oss`, Python >= 3.12), never in the project's:
it imports only the standard library, `gpt_oss` and `openai_harmony`. The reference server takes its inference
backend as one function, `infer_next_token(tokens, temperature, new_request) -> int`, called once per generated
token with the whole conversation so far (`gpt_oss.responses_api.api_server.create_api_server`). This module plays
that function without a model: it reads the rendered prompt and emits a fixed harmony completion,

- an analysis-channel reasoning, then a final answer, for a plain question;
- a reasoning, then a call to `functions.get_weather` for the city named in the question, when tools are offered
  and no tool result follows the last user message;
- a reasoning, then a final answer quoting the tool result, when a tool result is the last message.

The harmony tokenizer needs the o200k vocabulary. With no network, the launcher in `conformance.gpt_oss_server`
points `TIKTOKEN_ENCODINGS_BASE` at a folder holding `o200k_base.tiktoken` before this process starts.

    python -m conformance.harmony_script --port 8123
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass, field

TEXT_REASONING = "User asks a question. Answer briefly."
TEXT_ANSWER = "The answer is 4."
CALL_REASONING = "Need to call get_weather."
RESULT_REASONING = "The tool answered. Quote it."
RESULT_ANSWER_PREFIX = "get_weather says: "
DEFAULT_CITY = "Paris"

# The rendered prompt ends with the header of the assistant turn the model is to write; a completion starts at
# its channel.
_COMPLETION_START = "<|start|>assistant"
# A message ends with <|end|>, or <|call|> for a tool call, or <|return|> for a final answer.
_MESSAGE = re.compile(r"<\|start\|>(?P<header>.*?)<\|message\|>(?P<body>.*?)<\|(?:end|call|return)\|>", re.DOTALL)
_CITY = re.compile(r"\bin ([A-Z][\w-]*)")


def completion_for(prompt: str) -> str:
    """The harmony text the scripted model writes after `prompt` (a rendered conversation)."""
    messages = [(match["header"], match["body"]) for match in _MESSAGE.finditer(prompt)]
    last_header, last_body = messages[-1] if messages else ("", "")
    if last_header.startswith("functions."):
        answer = RESULT_ANSWER_PREFIX + _tool_output(last_body)
        return _analysis(RESULT_REASONING) + _final(answer)
    if "namespace functions" in prompt and "get_weather" in prompt:
        user_texts = [body for header, body in messages if header.startswith("user")]
        found = _CITY.search(user_texts[-1]) if user_texts else None
        city = found.group(1) if found else DEFAULT_CITY
        call = f'<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{{"city":"{city}"}}<|call|>'
        return _analysis(CALL_REASONING) + _COMPLETION_START + call
    return _analysis(TEXT_REASONING) + _final(TEXT_ANSWER)


def _tool_output(body: str) -> str:
    # The server passes a tool result through as the message body; a JSON string literal stays quoted.
    return body[1:-1] if len(body) >= 2 and body[0] == body[-1] == '"' else body


def _analysis(text: str) -> str:
    return f"<|channel|>analysis<|message|>{text}<|end|>"


def _final(text: str) -> str:
    return f"{_COMPLETION_START}<|channel|>final<|message|>{text}<|return|>"


@dataclass
class ScriptedModel:
    """`infer_next_token` for the reference server: one planned completion per request, keyed by its token list.

    The server keeps one growing token list per request and passes `new_request=True` on its first call, so the
    plan is made then and the next token is found by how far the list has grown since. Plans are kept for the
    life of the process (a few hundred tokens per request, for a run of a few dozen requests).
    """

    encode: Callable[[str], list[int]]
    decode: Callable[[list[int]], str]
    stop_token: int
    plans: dict[int, tuple[int, list[int]]] = field(default_factory=dict)

    def __call__(self, tokens: list[int], temperature: float = 0.0, new_request: bool = False) -> int:
        key = id(tokens)
        if new_request or key not in self.plans:
            self.plans[key] = (len(tokens), self.encode(completion_for(self.decode(tokens))))
        prompt_length, plan = self.plans[key]
        position = len(tokens) - prompt_length
        # Past the plan (a server that keeps asking), repeat the stop token so that the request ends.
        return plan[position] if position < len(plan) else self.stop_token


def main() -> None:
    parser = argparse.ArgumentParser(description="OpenAI's reference gpt-oss Responses server, scripted tokens")
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()

    import uvicorn

    # Installed in the server's environment only, not in the project's, where this module is type-checked.
    from gpt_oss.responses_api.api_server import create_api_server  # type: ignore[import-not-found]
    from openai_harmony import HarmonyEncodingName, load_harmony_encoding  # type: ignore[import-not-found]

    encoding = load_harmony_encoding(HarmonyEncodingName.HARMONY_GPT_OSS)
    model = ScriptedModel(
        encode=lambda text: list(encoding.encode(text, allowed_special="all")),
        decode=lambda tokens: str(encoding.decode_utf8(tokens)),
        stop_token=encoding.encode("<|return|>", allowed_special="all")[0],
    )
    # Loopback only: the harness is the sole client.
    uvicorn.run(create_api_server(model, encoding), host="127.0.0.1", port=arguments.port, log_level="warning")


if __name__ == "__main__":
    main()
