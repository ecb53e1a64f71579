"""A Python Worker that answers questions with gpt-oss through the Workers AI binding.

    GET /?q=Why+is+the+sky+blue%3F  ->  {"answer": "...", "reasoning": "...", "usage": {...}}

`ChatWorkersAI(binding=self.env.AI)` needs no account id or API token: the binding declared in wrangler.jsonc
authenticates the Worker. Workers run asynchronous code only, so the model is called with `ainvoke`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from workers import Response, WorkerEntrypoint

from langchain_cfai import ChatWorkersAI

MODEL = "@cf/openai/gpt-oss-120b"
DEFAULT_QUESTION = "In one sentence: what is Cloudflare Workers AI?"


def question_of(url: str) -> str:
    return parse_qs(urlsplit(url).query).get("q", [DEFAULT_QUESTION])[0]


class Default(WorkerEntrypoint):
    async def fetch(self, request: Any) -> Response:
        llm = ChatWorkersAI(model=MODEL, binding=self.env.AI, reasoning_effort="low")
        reply = await llm.ainvoke(question_of(request.url))
        return Response.json(
            {
                "answer": reply.content,
                "reasoning": reply.additional_kwargs.get("reasoning_content", ""),
                "usage": reply.usage_metadata,
            }
        )
