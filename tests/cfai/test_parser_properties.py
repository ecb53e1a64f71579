"""Property-based tests of everything that reads server bytes: any JSON in any field, any split of the bytes.

Each parser either returns its result or raises a `cfai.errors` error: never a bare ValueError, TypeError,
AttributeError or OverflowError from a value it did not expect. And how the network cut a stream never changes
what it folds to.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.dialects import DIALECTS, Call, Canned, chat_sse, responses_sse

from cfai.errors import WorkersAIError
from cfai.wire import reply_from_json
from cfai.wire.chat_completions import ChatCompletionsStreamReader, reply_from_chat_completion
from cfai.wire.responses_stream import ResponsesStreamReader
from cfai.wire.sse import ServerSentEvent, SSEDecoder

pytestmark = pytest.mark.long

# Derandomized: the same examples on every machine, so CI never fails on a case a developer cannot reproduce.
PROPERTIES = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["2026-11-27T10:00:00Z", "1e400", "NaN", "", "completed", "incomplete", "failed"])
)
ANY_JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=6,
)


def field(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's usual kind of value most of the time, and anything at all the rest."""
    return st.one_of(plausible, plausible, ANY_JSON)


PART = st.fixed_dictionaries(
    {
        "type": field(st.sampled_from(["output_text", "reasoning_text", "refusal", "summary_text", "text"])),
        "text": field(st.text(max_size=20)),
        "refusal": field(st.text(max_size=10)),
    }
)
ITEM = st.fixed_dictionaries(
    {
        "type": field(st.sampled_from(["message", "reasoning", "function_call", "web_search_call"])),
        "id": field(st.text(max_size=6)),
        "call_id": field(st.text(max_size=6)),
        "name": field(st.text(max_size=6)),
        "arguments": field(st.text(max_size=20)),
        "content": field(st.lists(PART, max_size=3)),
        "summary": field(st.lists(PART, max_size=2)),
        "status": field(st.text(max_size=8)),
    }
)
USAGE = st.fixed_dictionaries(
    {
        "input_tokens": field(st.integers(0, 10**6)),
        "output_tokens": field(st.integers(0, 10**6)),
        "total_tokens": ANY_JSON,
        "input_tokens_details": field(st.fixed_dictionaries({"cached_tokens": ANY_JSON})),
        "output_tokens_details": field(st.fixed_dictionaries({"reasoning_tokens": ANY_JSON})),
    }
)
RESPONSE = st.fixed_dictionaries(
    {
        "id": field(st.text(max_size=8)),
        "model": ANY_JSON,
        "created_at": field(st.integers(0, 2**40)),
        "status": field(st.sampled_from(["completed", "incomplete", "in_progress"])),
        "output": field(st.lists(ITEM, max_size=4)),
        "usage": field(USAGE),
        "incomplete_details": field(st.fixed_dictionaries({"reason": ANY_JSON})),
    },
    optional={"error": ANY_JSON},
)


def parses_or_raises_ours(parse: Any, *args: Any) -> None:
    with contextlib.suppress(WorkersAIError):
        parse(*args)


@PROPERTIES
@given(st.one_of(ANY_JSON, RESPONSE, st.fixed_dictionaries({"result": RESPONSE})))
def test_reply_parser_takes_any_json(data):
    parses_or_raises_ours(reply_from_json, data)


@PROPERTIES
@given(
    field(
        st.fixed_dictionaries(
            {
                "id": ANY_JSON,
                "created": field(st.integers(0, 2**40)),
                "usage": field(USAGE),
                "choices": field(
                    st.lists(
                        field(
                            st.fixed_dictionaries(
                                {
                                    "finish_reason": field(st.sampled_from(["stop", "length", "tool_calls"])),
                                    "message": field(
                                        st.fixed_dictionaries(
                                            {
                                                "content": ANY_JSON,
                                                "reasoning_content": ANY_JSON,
                                                "tool_calls": field(st.lists(ANY_JSON, max_size=2)),
                                            }
                                        )
                                    ),
                                }
                            )
                        ),
                        min_size=0,
                        max_size=2,
                    )
                ),
            }
        )
    )
)
def test_whole_chat_completion_parser_takes_any_json(data):
    parses_or_raises_ours(reply_from_chat_completion, data)


DELTA_TYPES = [
    "response.output_text.delta",
    "response.refusal.delta",
    "response.reasoning_text.delta",
    "response.reasoning_summary_text.delta",
    "response.function_call_arguments.delta",
]
WHERE = {
    "item_id": field(st.sampled_from(["a", "b", "rs_1"])),
    "output_index": field(st.integers(-2, 3)),
    "summary_index": ANY_JSON,
}
# Three kinds of event, each with the fields it carries, any of them possibly holding any JSON.
RESPONSES_EVENT = st.one_of(
    st.fixed_dictionaries({"type": field(st.sampled_from(DELTA_TYPES)), "delta": field(st.text(max_size=8)), **WHERE}),
    st.fixed_dictionaries(
        {
            "type": field(st.sampled_from(["response.output_item.added", "response.output_item.done"])),
            "item": field(ITEM),
            **WHERE,
        }
    ),
    st.fixed_dictionaries(
        {
            "type": field(st.sampled_from(["response.completed", "response.incomplete", "response.failed", "error"])),
            "response": field(RESPONSE),
            "message": ANY_JSON,
            "code": ANY_JSON,
        }
    ),
)
CHAT_CHUNK = st.fixed_dictionaries(
    {
        "id": ANY_JSON,
        "model": ANY_JSON,
        "created": field(st.integers(0, 2**40)),
        "usage": field(USAGE),
        "choices": field(
            st.lists(
                field(
                    st.fixed_dictionaries(
                        {
                            "finish_reason": ANY_JSON,
                            "delta": field(
                                st.fixed_dictionaries(
                                    {
                                        "content": field(st.text(max_size=6)),
                                        "reasoning_content": field(st.text(max_size=6)),
                                        "refusal": ANY_JSON,
                                        "tool_calls": field(
                                            st.lists(
                                                field(
                                                    st.fixed_dictionaries(
                                                        {
                                                            "index": field(st.integers(0, 3)),
                                                            "id": ANY_JSON,
                                                            "function": field(
                                                                st.fixed_dictionaries(
                                                                    {"name": ANY_JSON, "arguments": ANY_JSON}
                                                                )
                                                            ),
                                                        }
                                                    )
                                                ),
                                                max_size=2,
                                            )
                                        ),
                                    }
                                )
                            ),
                        }
                    )
                ),
                max_size=2,
            )
        ),
    },
    optional={"error": ANY_JSON},
)


def read_all(reader: Any, events: list[Any], done: str | None) -> None:
    for data in events:
        reader.read(ServerSentEvent(data=json.dumps(data)))
    if done:
        reader.read(ServerSentEvent(data=done))


@PROPERTIES
@given(st.lists(RESPONSES_EVENT, max_size=8))
def test_responses_stream_reader_takes_any_events(events):
    parses_or_raises_ours(read_all, ResponsesStreamReader(), events, None)


@PROPERTIES
@given(st.lists(st.one_of(CHAT_CHUNK, ANY_JSON), max_size=8))
def test_chat_stream_reader_takes_any_chunks(chunks):
    parses_or_raises_ours(read_all, ChatCompletionsStreamReader(), chunks, "[DONE]")


def decode(pieces: list[bytes]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = [event for piece in pieces for event in decoder.feed(piece)]
    return events + decoder.close()


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(cut, len(data)) for cut in cuts})
    return [data[start:end] for start, end in zip([0, *points], [*points, len(data)], strict=True)]


@PROPERTIES
@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=6))
def test_sse_decoder_events_do_not_depend_on_where_bytes_were_cut(data, cuts):
    assert decode(split(data, cuts)) == decode([data])


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
CANNED = st.builds(
    Canned,
    reasoning=TEXT,
    text=TEXT,
    refusal=st.sampled_from(["", "No."]),
    calls=st.lists(
        st.builds(
            Call,
            call_id=st.sampled_from(["c1", "c2"]),
            name=st.just("f"),
            arguments=st.sampled_from(['{"a": 1}', "{}", '{"q": "é€😀"}']),
        ),
        max_size=2,
        unique_by=lambda call: call.call_id,
    ).map(tuple),
    piece=st.integers(1, 9),
)


def fold(reader: Any, pieces: list[bytes]) -> Any:
    events: list[Any] = []
    try:
        for sse in decode(pieces):
            events.extend(reader.read(sse))
    except WorkersAIError as error:
        return type(error).__name__, events
    return events


@PROPERTIES
@given(CANNED, st.sampled_from(DIALECTS), st.lists(st.integers(0, 4000), max_size=8))
def test_responses_streams_fold_the_same_however_they_are_cut(canned, dialect, cuts):
    data = responses_sse(canned, dialect)
    whole = fold(ResponsesStreamReader(), [data])
    assert whole[-1].reply.text == canned.text
    assert fold(ResponsesStreamReader(), split(data, cuts)) == whole


@PROPERTIES
@given(CANNED, st.lists(st.integers(0, 4000), max_size=8), st.binary(max_size=40))
def test_chat_streams_fold_the_same_however_they_are_cut(canned, cuts, garbage):
    data = chat_sse(canned)
    whole = fold(ChatCompletionsStreamReader(), [data])
    assert whole[-1].reply.reasoning == canned.reasoning
    assert fold(ChatCompletionsStreamReader(), split(data, cuts)) == whole
    # Bytes that are not a stream at all end in our error or in nothing, never in another exception.
    corrupted = data[: len(data) // 2] + garbage + data[len(data) // 2 :]
    unsplit = fold(ChatCompletionsStreamReader(), [corrupted])
    assert fold(ChatCompletionsStreamReader(), split(corrupted, cuts)) == unsplit


HOSTILE_CHAT_CHUNKS = [
    {"id": "c", "created": "2026-11-27T10:00:00Z", "choices": [{"delta": {"content": "hi"}}]},
    {"id": "c", "created": 1e400, "choices": [{"delta": {"content": "hi"}}]},
    {"id": "c", "created": float("nan"), "choices": ["not a choice", {"delta": "not a delta"}]},
    {"id": "c", "choices": [{"delta": {"tool_calls": [{"index": "one", "function": "f"}, "x"]}}]},
    {"id": "c", "choices": {"0": {"delta": {}}}, "usage": {"prompt_tokens": 1e400, "completion_tokens": "7"}},
]
HOSTILE_RESPONSES_EVENTS = [
    {"type": "response.output_text.delta", "output_index": "0", "item_id": ["x"], "delta": "hi"},
    {"type": "response.output_item.done", "output_index": 1e400, "item": {"type": "message", "content": "hi"}},
    {"type": "response.completed", "response": {"status": ["completed"], "created_at": float("nan"), "output": 5}},
]


def test_the_hostile_values_once_reported_are_read_without_error():
    chat = ChatCompletionsStreamReader()
    read_all(chat, HOSTILE_CHAT_CHUNKS, "[DONE]")
    assert chat.done and chat.accumulator.reply(id="", model="", status="completed", usage=None).text == "hihi"
    responses = ResponsesStreamReader()
    read_all(responses, HOSTILE_RESPONSES_EVENTS, None)
    assert responses.done
