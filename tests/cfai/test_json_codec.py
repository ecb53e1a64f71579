"""The wire's JSON gives the standard library's result with orjson and without it: the same bytes written, the same
values read, the same errors raised (`cfai.wire.json_codec`)."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfai import WorkersAIClient
from cfai.wire import ReasoningDelta, ReplyDone, TextDelta, build_request
from cfai.wire.json_codec import dumps, loads, loads_event

# The fixture's library stays set for every example: nothing to reset between them.
_EXAMPLES = settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


def standard_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def assert_writes_as_json_does(value: Any) -> None:
    try:
        expected = standard_bytes(value)
    except (ValueError, TypeError, RecursionError) as error:
        with pytest.raises(type(error)):
            dumps(value)
    else:
        assert dumps(value) == expected


def assert_reads_as_json_does(text: Any, read: Callable[[Any], Any] = loads) -> None:
    try:
        expected = json.loads(text)
    except (ValueError, RecursionError) as error:
        with pytest.raises(type(error)) as raised:
            read(text)
        assert str(raised.value) == str(error)
    else:
        assert repr(read(text)) == repr(expected)  # repr: NaN equals itself there


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


@dataclasses.dataclass
class Point:
    x: int


# Where orjson, left to itself, writes something else than the standard library, or writes what it refuses.
@pytest.mark.parametrize(
    "value",
    [
        pytest.param([1e-05, 2.5e-05, 1e16, 1.5e300, 5e-324], id="floats-in-exponent-notation"),
        pytest.param([0.0, -0.0, 1e-4, 0.7, 9999999999999998.0, 123.456], id="floats-in-decimal-notation"),
        pytest.param({"t": float("nan")}, id="nan"),
        pytest.param({"t": float("inf")}, id="infinity"),
        pytest.param([2**63 - 1, -(2**63), 2**64 - 1, 2**64, -(2**63) - 1, 10**30], id="integers-past-64-bits"),
        pytest.param({"text": "lone \ud800 surrogate"}, id="lone-surrogate"),
        pytest.param({"lone \udfff": 1}, id="lone-surrogate-key"),
        pytest.param({7: "a", 2.5: "b", None: "c", True: "d"}, id="keys-that-are-not-strings"),
        pytest.param({"u": uuid.UUID(int=1)}, id="uuid"),
        pytest.param({"d": datetime.date(2026, 1, 2)}, id="date"),
        pytest.param({"p": Point(1)}, id="dataclass"),
        pytest.param({"c": Colour.RED}, id="enum"),
        pytest.param({"l": Level.HIGH}, id="int-enum"),
        pytest.param({"s": b"bytes"}, id="bytes"),
        pytest.param('\x7f\x00\u2028é\U0001f600"\\/', id="characters-escaped-or-not"),
        pytest.param([[[[[[[["deep"]]]]]]]] * 2, id="nested"),
        pytest.param([[]] * 3 + [{}], id="empty-containers"),
    ],
)
def test_writes_what_json_writes(value: Any, json_library: str) -> None:
    assert_writes_as_json_does(value)


def test_a_value_nested_past_orjson_depth_is_written_by_the_standard_library(json_library: str) -> None:
    value: Any = "x"
    for _ in range(300):  # orjson stops at 254 levels
        value = [value]
    assert_writes_as_json_does(value)


def test_a_value_that_contains_itself_is_refused(json_library: str) -> None:
    looped: list[Any] = []
    looped.append(looped)
    with pytest.raises(ValueError, match="Circular"):
        dumps({"input": looped})


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(st.characters(codec=None, exclude_categories=()), max_size=20)
)
_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)


@_EXAMPLES
@given(value=_values)
def test_any_value_is_written_as_json_writes_it(value: Any, json_library: str) -> None:
    assert_writes_as_json_does(value)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        "1E400",
        "-1E400",
        "123456789012345678901234567890",
        "[-9223372036854775808, -9223372036854775809, 18446744073709551615, 18446744073709551616]",
        "-9.223372036854776e18",
        "NaN",
        "[Infinity, -Infinity]",
        '"\\ud800"',
        '"\\ud83d\\ude00"',
        "\ufeff{}",
        b"\xef\xbb\xbf{}",
        '{"a": 1} x',
        "  [1, 2]  ",
        b'{"a": "caf\xc3\xa9"}',
        b"\xff",
        "[" * 5_000,
        "-0",
        "1.0",
        "",
    ],
)
def test_reads_what_json_reads(text: str | bytes, json_library: str) -> None:
    assert_reads_as_json_does(text)


@_EXAMPLES
@given(value=_values, tail=st.sampled_from(["", " ", "\n", " x", ",", "]"]), as_bytes=st.booleans())
def test_any_text_is_read_as_json_reads_it(value: Any, tail: str, as_bytes: bool, json_library: str) -> None:
    text = json.dumps(value, ensure_ascii=False) + tail
    assert_reads_as_json_does(text.encode("utf-8", "surrogatepass") if as_bytes else text)


@pytest.mark.parametrize("wide", ["18446744073709551616", "-9223372036854775809", "123456789012345678901234567890"])
@pytest.mark.parametrize("padding", [0, 20_000], ids=["short", "long"])
def test_an_integer_beyond_64_bits_is_read_exactly(wide: str, padding: int, json_library: str) -> None:
    text = f'{{"pad": "{"x" * padding}", "n": [1, {wide}], "digits": "1234567890123456789"}}'.encode()
    assert_reads_as_json_does(text)
    assert loads(text)["n"][1] == int(wide)


# A stream event's data: the standard library's decoder, called directly.
@pytest.mark.parametrize(
    "data",
    [
        '{"a": [1, 2.5, null]}',
        ' {"a": 1} ',
        '{"a": 1}\n',
        "[DONE]",
        "",
        "  ",
        "{",
        '{"a": 1} x',
        "1 2",
        '{"a": 1}\u00a0',
        "\ufeff{}",
        "NaN",
        '"\\ud800"',
        pytest.param("[" * 100_000, id="too-deep"),
    ],
)
def test_an_event_is_read_as_json_reads_it(data: str) -> None:
    assert_reads_as_json_does(data, read=loads_event)


# End to end: a client answers the same with either library.

_REPLY = {
    "id": "resp_1",
    "object": "response",
    "model": "@cf/openai/gpt-oss-120b",
    "status": "completed",
    "output": [
        {"type": "reasoning", "id": "rs_1", "content": [{"type": "reasoning_text", "text": "Think, café."}]},
        {"type": "message", "id": "msg_1", "role": "assistant", "content": [{"type": "output_text", "text": "Zürich"}]},
    ],
    "usage": {"input_tokens": 5, "output_tokens": 7, "total_tokens": 12},
}
_STREAM = (
    'data: {"choices":[{"index":0,"delta":{"reasoning_content":"Think"}}]}\n\n'
    'data: {"choices":[{"index":0,"delta":{"content":"Zür"}}]}\n\n'
    'data: {"choices":[{"index":0,"delta":{"content":"ich"},"finish_reason":"stop"}]}\n\n'
    "data: [DONE]\n\n"
).encode()


def _client(sent: list[bytes]) -> WorkersAIClient:
    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        if request.url.path.endswith("/chat/completions"):
            return httpx.Response(200, content=_STREAM, headers={"content-type": "text/event-stream"})
        return httpx.Response(200, json=_REPLY)

    return WorkersAIClient(
        api_token="t",
        base_url="https://gateway.example/v1",
        http_client=httpx.Client(transport=httpx.MockTransport(handle)),
    )


def test_a_client_sends_and_reads_the_same_with_either_library(json_library: str) -> None:
    sent: list[bytes] = []
    client = _client(sent)
    body = build_request(model="@cf/openai/gpt-oss-120b", input="Où est la réunion ? 😀", temperature=0.7)

    reply = client.create(body)
    events = list(client.stream(body, mode="chat_completions"))

    assert (reply.text, reply.reasoning, reply.usage.total_tokens if reply.usage else None) == (
        "Zürich",
        "Think, café.",
        12,
    )
    assert sent[0] == standard_bytes(body)
    assert [type(event) for event in events] == [ReasoningDelta, TextDelta, TextDelta, ReplyDone]
    done = events[-1]
    assert isinstance(done, ReplyDone)
    assert (done.reply.text, done.reply.reasoning) == ("Zürich", "Think")
