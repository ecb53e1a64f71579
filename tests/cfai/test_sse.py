"""The SSE decoder yields the same events however the bytes are cut: every split point, and one byte at a time."""

from __future__ import annotations

import codecs
import json
import random
from collections.abc import Iterable

import pytest

from cfai.wire.sse import ServerSentEvent, SSEDecoder

RESPONSES_SSE = "openai-responses-stream-tool-call.sse"
CHAT_SSE = "cf-chat-completions-gpt-oss-20b-tool-call.sse"


def decode(chunks: Iterable[bytes]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.close()


def one_byte_at_a_time(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def test_recorded_responses_stream(fixtures):
    events = decode([fixtures.bytes(RESPONSES_SSE)])

    assert [event.event for event in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        *["response.function_call_arguments.delta"] * 5,
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    for number, event in enumerate(events):
        data = json.loads(event.data)
        assert data["type"] == event.event
        assert data["sequence_number"] == number


def test_every_two_way_split_gives_the_same_events(fixtures):
    data = fixtures.bytes(RESPONSES_SSE)
    whole = decode([data])
    assert len(whole) > 10
    for cut in range(len(data) + 1):
        assert decode([data[:cut], data[cut:]]) == whole, f"split at byte {cut}"


@pytest.mark.parametrize("name", [RESPONSES_SSE, CHAT_SSE])
def test_one_byte_at_a_time(fixtures, name):
    data = fixtures.bytes(name)
    assert decode(one_byte_at_a_time(data)) == decode([data])


@pytest.mark.parametrize("name", [RESPONSES_SSE, CHAT_SSE])
def test_random_many_way_splits(fixtures, name):
    data = fixtures.bytes(name)
    whole = decode([data])
    rng = random.Random(20260508)
    for _ in range(200):
        cuts = sorted(rng.sample(range(1, len(data)), rng.randint(2, 40)))
        chunks = [data[start:end] for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        assert decode(chunks) == whole


def test_cloudflare_chat_stream_is_data_only_and_ends_with_done(fixtures):
    events = decode([fixtures.bytes(CHAT_SSE)])
    assert {event.event for event in events} == {"message"}
    assert events[-1].data == "[DONE]"
    assert json.loads(events[0].data)["object"] == "chat.completion.chunk"


def test_multibyte_characters_split_anywhere():
    text = "héllo 東京 🙂 ok"
    data = f"data: {json.dumps({'delta': text}, ensure_ascii=False)}\n\n".encode()
    for cut in range(len(data) + 1):
        [event] = decode([data[:cut], data[cut:]])
        assert json.loads(event.data)["delta"] == text
    [event] = decode(one_byte_at_a_time(data))
    assert json.loads(event.data)["delta"] == text


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings(newline):
    data = newline.join(["event: a", "data: 1", "", "data: 2", "", ""]).encode()
    expected = [ServerSentEvent("1", "a"), ServerSentEvent("2")]
    assert decode([data]) == expected
    assert decode(one_byte_at_a_time(data)) == expected


def test_invalid_utf8_is_replaced_as_the_incremental_decoder_would():
    data = "data: a\xff b \xe6\x9d\xb1 \xe6\x9d\n\ndata: \xf0\x9f\x99".encode("latin-1")
    expected = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(data, final=True)
    assert [event.data for event in decode([data])] == expected.removeprefix("data: ").split("\n\ndata: ")
    for cut in range(len(data) + 1):
        assert decode([data[:cut], data[cut:]]) == decode([data]), f"split at byte {cut}"


def test_crlf_split_between_chunks_is_one_line_end():
    assert decode([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]) == [ServerSentEvent("a\nb")]


def test_framing_may_change_mid_stream():
    # Lines read with CR framing stay part of the event that LF-framed lines then finish.
    assert decode([b"data: a\r\n", b"data: b\n\nevent: x\r", b"\ndata: c\n\n"]) == [
        ServerSentEvent("a\nb"),
        ServerSentEvent("c", "x"),
    ]


def test_field_grammar():
    data = (
        b": keep-alive comment\n"
        b"event: response.output_text.delta\n"
        b"id: 7\n"
        b"retry: 1000\n"
        b"data:no-space\n"
        b"data:  two spaces\n"
        b"data\n"
        b"\n"
        b"data: next\n"
        b"\n"
    )
    assert decode([data]) == [
        ServerSentEvent("no-space\n two spaces\n", "response.output_text.delta", "7"),
        # The last event id carries over (WHATWG); the event name does not.
        ServerSentEvent("next", "message", "7"),
    ]


def test_blank_lines_without_data_dispatch_nothing():
    assert decode([b"\n\n: ping\n\nevent: lonely\n\n"]) == []


def test_close_flushes_an_unterminated_last_event():
    decoder = SSEDecoder()
    assert decoder.feed(b'event: response.completed\ndata: {"type": "response.completed"}') == []
    assert decoder.close() == [ServerSentEvent('{"type": "response.completed"}', "response.completed")]


def test_feed_returns_events_as_soon_as_they_are_complete():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: one\n") == []
    assert decoder.feed(b"\ndata: tw") == [ServerSentEvent("one")]
    assert decoder.feed(b"o\n\n") == [ServerSentEvent("two")]
    assert decoder.close() == []


def _long_events(newline: str) -> bytes:
    """Small events around two events longer than the decoder holds in one piece (64 KiB): one long line, and many
    lines; with multi-byte characters, comments and an `event:` field, so every framing rule is crossed."""
    long_line = "é€" * 40_000 + "x"
    many_lines = newline.join(f"data: line {number} ü" for number in range(8_000))
    text = newline.join(
        [
            "data: first",
            "",
            ": a comment",
            "event: big",
            f"data: {long_line}",
            "",
            many_lines,
            "",
            "data: last",
            "",
            "",
        ]
    )
    return text.encode()


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_events_longer_than_a_chunk_come_out_whole_however_they_are_cut(newline: str) -> None:
    data = _long_events(newline)
    whole = decode([data])
    assert [event.event for event in whole] == ["message", "big", "message", "message"]
    assert len(whole[1].data) == 80_001 and whole[2].data.count("\n") == 7_999 and whole[3].data == "last"
    rng = random.Random(20261127)
    for size in (1_000, 4_096, 65_536):
        chunks = [data[start : start + size] for start in range(0, len(data), size)]
        assert decode(chunks) == whole, f"chunks of {size} bytes"
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, len(data)), rng.randint(20, 400)))
        assert decode([data[start:end] for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True)]) == whole
