"""Stream modes end to end: Responses SSE parsed incrementally, JSON replies replayed, buffered replay, broken streams.

Every streamed reply must fold to the same Reply as its non-streamed equivalent.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from typing import Any

import httpx
import pytest
from support.dialects import Canned, chat_sse, encode_events, item_events, responses_events, responses_sse

from cfai.errors import APIConnectionError, APITimeoutError, ResponseFailedError, ResponseFormatError
from cfai.wire import ReplyFinisher, missing_answer, reply_from_json
from cfai.wire.accumulator import ReplyAccumulator, replay
from cfai.wire.responses_stream import ResponsesStreamReader
from cfai.wire.sse import SSEDecoder
from cfai.wire.types import (
    ReasoningDelta,
    Reply,
    ReplyDone,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallArgumentsDelta,
    ToolCallStarted,
    Usage,
)

RECORDED = "openai-responses-stream-tool-call.sse"
SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8"}


@pytest.fixture
def sse(chunked):
    """`sse(data, size=None, error=None)`: a streamed SSE reply cut into chunks of `size` bytes."""

    def build(data: bytes, size: int | None = None, error: Exception | None = None) -> httpx.Response:
        size = size or max(len(data), 1)
        return chunked([data[start : start + size] for start in range(0, len(data), size)], error=error)

    return build


def read_stream(chunks: Iterable[bytes]) -> list[StreamEvent]:
    """The pure path of stream_mode='responses': bytes through the SSE decoder and the Responses reader."""
    decoder, reader = SSEDecoder(), ResponsesStreamReader()
    events = [event for chunk in chunks for sse_event in decoder.feed(chunk) for event in reader.read(sse_event)]
    events += [event for sse_event in decoder.close() for event in reader.read(sse_event)]
    assert reader.done
    return events


def completed_response(fixtures) -> dict[str, Any]:
    last = fixtures.bytes(RECORDED).decode().strip().split("\n\n")[-1]
    return json.loads(last.split("data: ", 1)[1])["response"]


def only(events: list[StreamEvent], kind: type) -> list:
    return [event for event in events if isinstance(event, kind)]


# The recorded OpenAI stream.


def test_recorded_stream_through_responses_mode(call, script, sse, fixtures, body):
    server = script(sse(fixtures.bytes(RECORDED)))
    events = call(server, stream_mode="responses").stream(body)

    assert json.loads(server.requests[0].content) == {**body, "stream": True}
    call_id, item_id = "call_ZAbAwsIFeJSyPqz3HaHRXBSn", "fc_05200a06f78f5b310069fa8aa37ca8819e9f131e85e47bcff9"
    assert events[0] == ToolCallStarted(call_id, "get_weather", 0, item_id)
    assert [event.delta for event in only(events, ToolCallArgumentsDelta)] == ['{"', "city", '":"', "Paris", '"}']
    assert isinstance(events[-1], ReplyDone)
    assert len(events) == 7

    reply = events[-1].reply
    assert reply == reply_from_json(completed_response(fixtures))
    assert reply.tool_calls == (ToolCall(call_id, "get_weather", '{"city":"Paris"}', item_id),)
    assert reply.usage == Usage(input_tokens=61, output_tokens=18, total_tokens=79)
    assert reply.finish_reason == "tool_calls"
    assert reply.id == "resp_05200a06f78f5b310069fa8aa28134819eba958e34eb1db6ae"


def test_recorded_stream_folds_identically_for_every_split(fixtures):
    data = fixtures.bytes(RECORDED)
    whole = read_stream([data])
    assert whole[-1].reply == reply_from_json(completed_response(fixtures))
    for cut in range(len(data) + 1):
        assert read_stream([data[:cut], data[cut:]]) == whole, f"split at byte {cut}"
    assert read_stream([data[i : i + 1] for i in range(len(data))]) == whole


@pytest.mark.parametrize("size", [1, 2, 7, 100, 4096])
def test_recorded_stream_in_chunks_through_the_client(call, script, sse, fixtures, body, size):
    data = fixtures.bytes(RECORDED)
    server = script(sse(data, size))
    events = call(server, stream_mode="responses").stream(body)
    assert events == read_stream([data])


def test_compressed_stream_is_decoded(call, script, chunked, fixtures, body):
    data = gzip.compress(fixtures.bytes(RECORDED))
    compressed = chunked([data[start : start + 50] for start in range(0, len(data), 50)])
    compressed.headers["content-encoding"] = "gzip"
    events = call(script(compressed), stream_mode="responses").stream(body)
    assert events == read_stream([fixtures.bytes(RECORDED)])


# A gpt-oss stream built from responses-text.json, with reasoning_text deltas.


def test_text_stream_with_reasoning_matches_the_non_streamed_reply(call, script, sse, fixtures, body):
    response = fixtures.json("responses-text.json")
    server = script(sse(encode_events(responses_events(response, piece=7))), httpx.Response(200, json=response))
    client = call(server, stream_mode="responses")
    events = client.stream(body)
    created = client.create(body)

    reasoning = only(events, ReasoningDelta)
    texts = only(events, TextDelta)
    assert len(reasoning) > 1
    assert len(texts) > 1
    assert "".join(event.delta for event in reasoning) == response["output"][0]["content"][0]["text"]
    assert "".join(event.delta for event in texts) == response["output"][1]["content"][0]["text"]
    assert {event.index for event in reasoning} == {0}
    assert {event.index for event in texts} == {1}
    assert events.index(reasoning[-1]) < events.index(texts[0])
    assert only(events, ReplyDone) == [events[-1]]

    streamed = events[-1].reply
    assert streamed == created == reply_from_json(response)
    assert streamed.usage == Usage(79, 214, 293, cached_tokens=0, reasoning_tokens=23)
    assert streamed.finish_reason == "stop"


@pytest.mark.parametrize("fixture", ["responses-text.json", "responses-tool-call.json"])
def test_built_streams_fold_identically_however_cut(fixtures, fixture):
    response = fixtures.json(fixture)
    data = encode_events(responses_events(response, piece=5))
    whole = read_stream([data])
    assert whole[-1].reply == reply_from_json(response)
    for cut in range(0, len(data) + 1, 37):
        assert read_stream([data[:cut], data[cut:]]) == whole
    assert read_stream([data[i : i + 1] for i in range(len(data))]) == whole


def test_unknown_event_types_are_ignored(call, script, sse, fixtures, body):
    response = fixtures.json("responses-text.json")
    plain = responses_events(response)
    noisy = list(plain)
    noisy.insert(2, {"type": "response.reasoning_summary_part.added", "output_index": 0, "part": {"text": "?"}})
    noisy.insert(5, {"type": "response.some_future_event", "output_index": 0, "delta": "not text", "item": {}})
    noisy.insert(8, {"type": "keepalive"})
    data = encode_events(noisy).replace(b"\n\nevent: keepalive", b"\n\n: ping\n\ndata: 42\n\nevent: keepalive", 1)
    data += encode_events([{"type": "response.output_text.delta", "output_index": 1, "delta": "after the end"}])

    server = script(sse(data), sse(encode_events(plain)))
    client = call(server, stream_mode="responses")
    assert client.stream(body) == client.stream(body)


def test_incomplete_stream_reports_length(call, script, sse, fixtures, body):
    response = fixtures.json("responses-incomplete-reasoning-only.json")
    server = script(sse(encode_events(responses_events(response))))
    events = call(server, stream_mode="responses").stream(body)
    reply = events[-1].reply
    assert reply == reply_from_json(response)
    assert reply.status == "incomplete"
    assert reply.incomplete_reason == "max_output_tokens"
    assert reply.finish_reason == "length"
    assert "on reasoning and returned no answer" in missing_answer(reply)
    assert only(events, TextDelta) == []


def test_items_sent_whole_without_deltas(call, script, sse, fixtures, body):
    """Some servers only send each item's final state in output_item.done; the content must not be lost."""
    response = fixtures.json("responses-tool-call.json")
    events = [{"type": "response.created", "response": {**response, "output": []}}]
    events += [
        {"type": "response.output_item.done", "output_index": i, "item": item}
        for i, item in enumerate(response["output"])
    ]
    events.append({"type": "response.completed", "response": response})
    server = script(sse(encode_events(events)))
    streamed = call(server, stream_mode="responses").stream(body)

    assert [type(event) for event in streamed] == [ReasoningDelta, ToolCallStarted, ToolCallArgumentsDelta, ReplyDone]
    assert streamed[-1].reply == reply_from_json(response)


def test_message_sent_whole_without_deltas(fixtures):
    response = fixtures.json("responses-text.json")
    events = [
        {"type": "response.output_item.done", "output_index": i, "item": item}
        for i, item in enumerate(response["output"])
    ]
    events.append({"type": "response.completed", "response": response})
    streamed = read_stream([encode_events(events)])
    assert [type(event) for event in streamed] == [ReasoningDelta, TextDelta, ReplyDone]
    assert streamed[-1].reply == reply_from_json(response)


def test_odd_items_sent_whole_add_nothing(fixtures):
    response = fixtures.json("responses-text.json")
    events = [
        {"type": "response.output_item.done", "output_index": 0, "item": {"type": "message", "content": None}},
        {"type": "response.output_item.done", "output_index": 1, "item": {"type": "reasoning", "content": []}},
        {"type": "response.output_item.done", "output_index": 2, "item": {"type": "web_search_call"}},
        {"type": "response.output_item.done", "output_index": 3, "item": "not an item"},
        {"type": "response.completed", "response": {**response, "output": []}},
    ]
    [done] = read_stream([encode_events(events)])
    assert done.reply.text == done.reply.reasoning == ""
    assert done.reply.usage == reply_from_json(response).usage


def test_last_event_without_its_blank_line_still_completes(call, script, sse, fixtures, body):
    data = fixtures.bytes(RECORDED).rstrip(b"\n")
    events = call(script(sse(data)), stream_mode="responses").stream(body)
    assert events[-1].reply == reply_from_json(completed_response(fixtures))


def test_parallel_tool_calls_keep_their_own_arguments(fixtures):
    first = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"city":"Paris"}',
    }
    second = {**first, "id": "fc_2", "call_id": "call_2", "arguments": '{"city":"Tokyo"}'}
    response = {"id": "resp_p", "model": "m", "status": "completed", "output": [first, second]}
    one, two = item_events(0, first, piece=3), item_events(1, second, piece=3)
    interleaved = [one[0], two[0]] + [event for pair in zip(one[1:], two[1:], strict=True) for event in pair]
    streamed = read_stream([encode_events([*interleaved, {"type": "response.completed", "response": response}])])
    assert streamed[-1].reply.tool_calls == (
        ToolCall("call_1", "get_weather", '{"city":"Paris"}', "fc_1"),
        ToolCall("call_2", "get_weather", '{"city":"Tokyo"}', "fc_2"),
    )


# Broken streams.


def test_stream_cut_between_events_raises(call, script, sse, fixtures, body):
    data = fixtures.bytes(RECORDED)
    cut = data.index(b"\n\nevent: response.function_call_arguments.done") + 2
    server = script(sse(data[:cut]))
    events, error = call(server, stream_mode="responses").stream_until_error(body)

    assert isinstance(error, APIConnectionError)
    assert "ended before the response was complete" in str(error)
    assert len(only(events, ToolCallArgumentsDelta)) == 5
    assert not only(events, ReplyDone)


def test_stream_cut_anywhere_never_ends_quietly(call, script, sse, fixtures, body):
    data = fixtures.bytes(RECORDED)
    complete_from = data.rindex(b"}") + 1  # the last event's data is whole from here on
    cuts = [*range(0, complete_from, 89), complete_from - 1]
    server = script(*(sse(data[:cut]) for cut in cuts))
    client = call(server, stream_mode="responses")
    for cut in cuts:
        events, error = client.stream_until_error(body)
        assert error is not None, f"cut at byte {cut} ended quietly"
        assert not only(events, ReplyDone)
    assert len(server.requests) == len(cuts)  # and none of them was retried


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (httpx.RemoteProtocolError("peer closed connection without sending complete message body"), APIConnectionError),
        (httpx.ReadError("connection reset by peer"), APIConnectionError),
        (httpx.ReadTimeout("read timed out"), APITimeoutError),
    ],
)
def test_stream_dropped_midway_is_never_retried(call, script, sse, fixtures, body, failure, kind):
    data = fixtures.bytes(RECORDED)
    server = script(sse(data[:3000], 1000, error=failure), sse(data))
    client = call(server, stream_mode="responses")
    events, error = client.stream_until_error(body)

    assert type(error) is kind
    assert isinstance(error.__cause__, type(failure))
    assert isinstance(events[0], ToolCallStarted)
    assert not only(events, ReplyDone)
    assert len(server.requests) == 1
    assert client.sleeps == []


def test_stream_is_retried_before_it_starts(call, script, sse, fixtures, body):
    server = script(httpx.Response(503), httpx.ConnectError("refused"), sse(fixtures.bytes(RECORDED)))
    client = call(server, stream_mode="responses")
    events = client.stream(body)
    assert isinstance(events[-1], ReplyDone)
    assert len(server.requests) == 3
    assert len(client.sleeps) == 2


def test_error_event_raises(call, script, sse, body):
    data = encode_events(
        [
            {"type": "response.created", "response": {"id": "resp_e"}},
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {"type": "message", "role": "assistant", "content": []},
            },
            {"type": "response.output_text.delta", "output_index": 0, "delta": "Hel"},
            {"type": "error", "code": "server_error", "message": "The model is overloaded"},
        ]
    )
    events, error = call(script(sse(data)), stream_mode="responses").stream_until_error(body)
    assert isinstance(error, ResponseFailedError)
    assert error.code == "server_error"
    assert "The model is overloaded" in str(error)
    assert events == [TextDelta("Hel", 0)]


def test_response_failed_event_raises(call, script, sse, body):
    failed = {"id": "resp_f", "status": "failed", "output": [], "error": {"code": "server_error", "message": "oom"}}
    data = encode_events(
        [{"type": "response.created", "response": {"id": "resp_f"}}, {"type": "response.failed", "response": failed}]
    )
    with pytest.raises(ResponseFailedError, match="oom"):
        call(script(sse(data)), stream_mode="responses").stream(body)


def test_unreadable_event_data_raises(call, script, sse, body):
    data = b'event: response.output_text.delta\ndata: {"type": "response.output_text.delta", "delta": "x\n\n'
    with pytest.raises(ResponseFormatError, match="Unreadable Responses stream event"):
        call(script(sse(data)), stream_mode="responses").stream(body)


# JSON replies in stream mode, and buffered replay.


def test_json_reply_to_a_stream_request_is_replayed(call, script, fixtures, body):
    response = fixtures.json("responses-text.json")
    server = script(httpx.Response(200, json=response))
    events = call(server, stream_mode="responses").stream(body)

    assert json.loads(server.requests[0].content)["stream"] is True
    expected = reply_from_json(response)
    assert events == [ReasoningDelta(expected.reasoning, 0), TextDelta(expected.text, 1), ReplyDone(expected)]


def test_json_reply_to_a_stream_request_gets_tool_salvage(call, script, fixtures, body):
    response = fixtures.json("responses-text.json")
    response["output"][1]["content"][0]["text"] = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
    forced = {
        **body,
        "tools": [{"type": "function", "name": "get_weather", "parameters": {}}],
        "tool_choice": {"type": "function", "name": "get_weather"},
    }
    server = script(httpx.Response(200, json=response), httpx.Response(200, json=response))
    client = call(server, stream_mode="responses")

    events = client.stream(forced)
    assert only(events, TextDelta) == []
    assert events[-1].reply == client.create(forced)
    assert events[-1].reply.tool_calls[0].arguments == '{"city": "Paris"}'


def test_json_reply_cut_while_reading_is_a_connection_error(call, script, chunked, fixtures, body):
    data = fixtures.bytes("responses-text.json")
    broken = chunked([data[:100]], error=httpx.ReadError("reset"), content_type="application/json")
    events, error = call(script(broken), stream_mode="responses").stream_until_error(body)
    assert isinstance(error, APIConnectionError)
    assert events == []


@pytest.mark.parametrize("fixture", ["responses-text.json", "responses-tool-call.json"])
def test_buffered_replay_order(call, script, fixtures, body, fixture):
    response = fixtures.json(fixture)
    server = script(httpx.Response(200, json=response))
    events = call(server, stream_mode="buffered").stream(body)

    assert "stream" not in json.loads(server.requests[0].content)
    expected = reply_from_json(response)
    replayed: list[StreamEvent] = [ReasoningDelta(expected.reasoning, 0)]
    if expected.text:
        replayed.append(TextDelta(expected.text, 1))
    for index, tool_call in enumerate(expected.tool_calls, start=2):
        replayed += [
            ToolCallStarted(tool_call.call_id, tool_call.name, index, tool_call.id),
            ToolCallArgumentsDelta(tool_call.arguments, index),
        ]
    assert events == [*replayed, ReplyDone(expected)]
    assert events[-1].reply.usage is not None


def test_auto_mode_streams_chat_completions_on_cloudflare_and_responses_elsewhere(call, script, sse, body):
    canned = Canned(reasoning="Think about it first.", text="Token by token, as a chat UI expects.")
    cloudflare = script(sse(chat_sse(canned), 16))
    other = script(sse(responses_sse(canned), 16))
    on_cloudflare = call(cloudflare, stream_mode="auto").stream(body)
    elsewhere = call(other, base_url="http://127.0.0.1:8787/v1", stream_mode="auto").stream(body)

    assert cloudflare.requests[0].url.path.endswith("/ai/v1/chat/completions")
    assert json.loads(cloudflare.requests[0].content)["stream"] is True
    assert other.requests[0].url.path.endswith("/v1/responses")
    assert json.loads(other.requests[0].content)["stream"] is True
    assert len(only(on_cloudflare, TextDelta)) > 1 and len(only(elsewhere, TextDelta)) > 1
    assert on_cloudflare[-1].reply.text == elsewhere[-1].reply.text == canned.text


def test_mode_argument_overrides_the_client_setting(call, script, fixtures, body):
    response = fixtures.json("responses-text.json")
    server = script(httpx.Response(200, json=response))
    call(server, stream_mode="responses").stream(body, mode="buffered")
    assert "stream" not in json.loads(server.requests[0].content)


def test_replay_of_an_empty_reply_is_just_done():
    reply = Reply(id="resp_0", model="m", status="completed")
    assert replay(reply) == [ReplyDone(reply)]


def test_accumulator_parts_are_what_add_appends_to():
    added, appended = ReplyAccumulator(), ReplyAccumulator()
    for event in [ReasoningDelta("think", 0), TextDelta("Hel", 1), TextDelta("lo", 1)]:
        added.add(event)
    appended.parts("reasoning", 0).append("think")
    appended.parts("text", 1).extend(["Hel", "lo"])
    appended.parts("refusal", 1)  # asked for, never used: adds nothing
    done = {"id": "r", "model": "m", "status": "completed", "usage": None}
    assert appended.reply(**done) == added.reply(**done)
    assert appended.said(1) == added.said(1) == ("Hello", "", "", None)


@pytest.mark.parametrize(
    ("body", "stop", "passes"),
    [
        ({"model": "m"}, None, True),
        ({"model": "m"}, ["", ""], True),
        ({"model": "m"}, ["END"], False),
        ({"model": "m", "tools": [{"type": "function", "name": "f"}], "tool_choice": "required"}, None, False),
        ({"model": "m", "tools": [{"type": "function", "name": "f"}], "tool_choice": "auto"}, None, True),
    ],
)
def test_finisher_says_when_it_hands_deltas_back_unchanged(body, stop, passes):
    finisher = ReplyFinisher(body, stop)
    assert finisher.passes_deltas is passes
    deltas: list[StreamEvent] = [TextDelta("{", 1), TextDelta("END", 1), ToolCallStarted("c", "f", 2)]
    if passes:
        assert all(finisher.feed(event) == [event] for event in deltas)
