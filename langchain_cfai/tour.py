"""The LangChain part of `cfai demo` (registered as the `langchain` entry of `cfai.tours`): one question with its
reasoning, usage and cost, a model that calls a tool and answers from its result, and a structured answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TextIO

from langchain_core.messages import HumanMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from cfai.commands.demo import show
from langchain_cfai import ChatWorkersAI

__all__ = ["tour"]


def tour(settings: Mapping[str, Any], out: TextIO) -> None:
    """Prints the LangChain tour against `settings` (`ChatWorkersAI`'s connection fields)."""

    @tool
    def get_weather(city: str) -> str:
        """Get the current weather for a city."""
        return f"Sunny and 21 °C in {city}"

    class Trip(BaseModel):
        city: str
        days: int

    print("\n== LangChain: ChatWorkersAI ==", file=out)
    llm = ChatWorkersAI(reasoning_effort="low", **settings)
    reply = llm.invoke("In one sentence: why is the sky blue?")
    show(out, "reasoning", reply.additional_kwargs.get("reasoning_content", ""))
    show(out, "answer", reply.content)
    show(out, "usage", reply.usage_metadata)
    show(out, "cost USD", reply.response_metadata.get("cost_usd"))

    question = HumanMessage("What's the weather in Paris?")
    with_tools = llm.bind_tools([get_weather])
    call = with_tools.invoke([question])
    results = [get_weather.invoke(tool_call) for tool_call in call.tool_calls]
    show(out, "tool call", [(tool_call["name"], tool_call["args"]) for tool_call in call.tool_calls])
    show(out, "answer", with_tools.invoke([question, call, *results]).content)

    trip = llm.with_structured_output(Trip).invoke("Plan 3 days in Kyoto")
    show(out, "structured", repr(trip))
