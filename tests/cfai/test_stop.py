"""Client-side stop sequences: the answer is cut at the first stop string, streamed or not, wherever deltas split."""

from __future__ import annotations

import httpx
import pytest
from support.dialects import encode_events

from cfai.wire import (
    ReasoningDelta,
    Reply,
    ReplyDone,
    StopFilter,
    TextDelta,
    ToolCallStarted,
    stop_reply,
    truncate_at_stop,
)

TEXT = "Step one. Step two.\nObservation: done. Step three."


@pytest.mark.parametrize(
    ("stop", "expected"),
    [
        (["Observation:"], ("Step one. Step two.\n", True)),
        (["three", "two"], ("Step one. Step ", True)),  # the earliest stop wins, whatever its position in the list
        (["\n"], ("Step one. Step two.", True)),
        (["Step"], ("", True)),
        (["absent"], (TEXT, False)),
        (["", "absent"], (TEXT, False)),
        ([], (TEXT, False)),
        # Overlapping stops: "two." is complete before "Step two.\nObservation" is, so it is the one that cuts.
        (["Step two.\nObservation", "two."], ("Step one. Step ", True)),
    ],
)
def test_truncate_at_stop(stop, expected):
    assert truncate_at_stop(TEXT, stop) == expected


def test_stop_reply_marks_a_cut_answer_complete():
    reply = Reply(id="r", model="m", status="incomplete", text=TEXT, incomplete_reason="max_output_tokens")
    stopped = stop_reply(reply, ["Observation:"])
    assert stopped.text == "Step one. Step two.\n"
    assert stopped.status == "completed"
    assert stopped.incomplete_reason is None
    assert stopped.finish_reason == "stop"
    assert stop_reply(reply, ["absent"]) is reply


def run_filter(deltas: list[str], stop: list[str]) -> tuple[list[TextDelta], Reply]:
    stop_filter = StopFilter(stop)
    out = [event for delta in deltas for event in stop_filter.feed(TextDelta(delta, 1))]
    out += stop_filter.feed(ReplyDone(Reply(id="r", model="m", status="completed", text="".join(deltas))))
    *texts, done = out
    assert all(isinstance(event, TextDelta) and event.delta for event in texts)
    assert isinstance(done, ReplyDone)
    return texts, done.reply


@pytest.mark.parametrize("stop", [["Observation:"], ["\nObs"], ["two.\nObservation: done"], ["zzz", "Step three"]])
def test_stream_finds_the_stop_across_every_two_and_three_way_split(stop):
    expected, _ = truncate_at_stop(TEXT, stop)
    for first in range(len(TEXT) + 1):
        for second in range(first, len(TEXT) + 1, 3):
            deltas = [TEXT[:first], TEXT[first:second], TEXT[second:]]
            texts, reply = run_filter(deltas, stop)
            assert "".join(event.delta for event in texts) == expected, deltas
            assert reply.text == expected


@pytest.mark.parametrize("stop", [["abcd", "bc"], ["bc", "abcd"], ["cd", "abc"]])
def test_overlapping_stops_cut_stream_and_reply_at_the_same_place(stop):
    for size in (1, 2, 4):
        text = "xxabcdyy"
        texts, reply = run_filter([text[i : i + size] for i in range(0, len(text), size)], stop)
        assert "".join(event.delta for event in texts) == reply.text == truncate_at_stop(text, stop)[0]


def test_stream_one_character_at_a_time():
    texts, reply = run_filter(list(TEXT), ["Observation:"])
    assert "".join(event.delta for event in texts) == reply.text == "Step one. Step two.\n"


def test_text_is_held_back_only_while_it_could_begin_a_stop():
    stop_filter = StopFilter(["STOP"])
    assert stop_filter.feed(TextDelta("Hello S", 1)) == [TextDelta("Hello ", 1)]
    assert stop_filter.feed(TextDelta("ure", 1)) == [TextDelta("Sure", 1)]
    assert stop_filter.feed(TextDelta(" ST", 1)) == [TextDelta(" ", 1)]
    assert stop_filter.feed(TextDelta("OP and more", 1)) == []
    assert stop_filter.stopped
    assert stop_filter.feed(TextDelta("ignored", 1)) == []


def test_held_text_is_released_when_the_stream_ends():
    stop_filter = StopFilter(["STOP"])
    assert stop_filter.feed(TextDelta("almost ST", 1)) == [TextDelta("almost ", 1)]
    done = ReplyDone(Reply(id="r", model="m", status="completed", text="almost ST"))
    assert stop_filter.feed(done) == [TextDelta("ST", 1), done]


def test_other_events_pass_through_even_after_the_stop():
    stop_filter = StopFilter(["END"])
    thinking = ReasoningDelta("END of reasoning is not a stop", 0)
    call = ToolCallStarted("call_1", "f", 2)
    assert stop_filter.feed(thinking) == [thinking]
    assert stop_filter.feed(TextDelta("answer END tail", 1)) == [TextDelta("answer ", 1)]
    assert stop_filter.feed(call) == [call]


# Through the client.


def answer(text: str) -> dict:
    return {
        "id": "resp_s",
        "model": "m",
        "status": "completed",
        "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}],
    }


def test_create_applies_stop(call, script, body):
    server = script(httpx.Response(200, json=answer(TEXT)), httpx.Response(200, json=answer(TEXT)))
    client = call(server)
    assert client.create(body, stop=["Observation:"]).text == "Step one. Step two.\n"
    assert client.create(body).text == TEXT
    assert "stop" not in server.bodies[0]  # the Responses API has none: never sent


def test_buffered_stream_applies_stop(call, script, body):
    server = script(httpx.Response(200, json=answer(TEXT)))
    events = call(server).stream(body, stop=["Observation:"], mode="buffered")
    assert [event.delta for event in events if isinstance(event, TextDelta)] == ["Step one. Step two.\n"]
    assert events[-1].reply.text == "Step one. Step two.\n"


def test_sse_stream_applies_stop_split_across_deltas(call, script, chunked, body):
    words = ["Step one. Step two.\nObs", "erv", "ation: done.", " Step three."]
    events = [
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"type": "message", "role": "assistant", "content": []},
        }
    ]
    events += [{"type": "response.output_text.delta", "output_index": 0, "delta": word} for word in words]
    events.append({"type": "response.completed", "response": answer("".join(words))})
    data = encode_events(events)

    server = script(chunked([data]))
    streamed = call(server, stream_mode="responses").stream(body, stop=["Observation:"])
    texts = [event.delta for event in streamed if isinstance(event, TextDelta)]
    assert "".join(texts) == "Step one. Step two.\n"
    assert not any("Obs" in text for text in texts)
    assert streamed[-1].reply.text == "Step one. Step two.\n"
