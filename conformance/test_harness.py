"""The harness's own tests, outside the default test run: `python -m pytest conformance`.

They need neither third-party server: the scripted token source is checked as a function, the checks on made-up
turns, process handling on a plain Python child, and the whole matrix (recording and capture included) against the
`cfai` emulator, where every scenario must pass and a reply without reasoning must fail with that reason.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cfai.emulator import Emulator, Reply
from conformance.adapters import ADAPTERS, Call, Turn
from conformance.emulator_server import emulator_server, target_for
from conformance.fixtures import write_captures
from conformance.harmony_script import CALL_REASONING, TEXT_ANSWER, ScriptedModel, completion_for
from conformance.processes import ServerProcess, ServerStartError, free_port
from conformance.recording import Recorder
from conformance.report import counts, table
from conformance.runner import run_matrix
from conformance.scenarios import SCENARIOS, call_problems, stream_problems

SYSTEM = "<|start|>system<|message|>You are ChatGPT.<|end|>"
TOOLS = (
    "<|start|>developer<|message|># Tools\nnamespace functions {\ntype get_weather = () => any;\n}"
    " // namespace functions<|end|>"
)
ASSISTANT = "<|start|>assistant"


def _user(text: str) -> str:
    return f"<|start|>user<|message|>{text}<|end|>"


def test_the_script_answers_a_plain_question_with_reasoning_then_a_final_answer() -> None:
    completion = completion_for(SYSTEM + _user("What is 2 + 2?") + ASSISTANT)
    assert completion.startswith("<|channel|>analysis<|message|>")
    assert completion.endswith(f"<|channel|>final<|message|>{TEXT_ANSWER}<|return|>")


def test_the_script_calls_get_weather_for_the_city_asked_about_when_tools_are_offered() -> None:
    completion = completion_for(SYSTEM + TOOLS + _user("What is the weather in Rome?") + ASSISTANT)
    assert completion.startswith(f"<|channel|>analysis<|message|>{CALL_REASONING}<|end|>")
    assert completion.endswith('to=functions.get_weather <|constrain|>json<|message|>{"city":"Rome"}<|call|>')


def test_the_script_quotes_the_tool_result_that_ends_the_prompt() -> None:
    call = '<|start|>assistant to=functions.get_weather<|channel|>commentary<|message|>{"city":"Rome"}<|call|>'
    result = "<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>Sunny in Rome<|end|>"
    completion = completion_for(SYSTEM + TOOLS + _user("Weather in Rome?") + call + result + ASSISTANT)
    assert completion.endswith("<|channel|>final<|message|>get_weather says: Sunny in Rome<|return|>")


def test_the_scripted_model_plays_its_plan_token_by_token_then_repeats_the_stop_token() -> None:
    # One token per character is enough to check the bookkeeping the reference server relies on.
    model = ScriptedModel(
        encode=lambda text: [ord(c) for c in text], decode=lambda t: "".join(map(chr, t)), stop_token=0
    )
    prompt = SYSTEM + _user("What is 2 + 2?") + ASSISTANT
    tokens = [ord(c) for c in prompt]
    expected = completion_for(prompt)
    played = [model(tokens, new_request=True)]
    tokens.append(played[-1])
    while len(played) < len(expected):
        played.append(model(tokens))
        tokens.append(played[-1])
    assert "".join(map(chr, played)) == expected
    assert model(tokens) == 0


def _turn(text: str, reasoning: str, *, final_text: str | None = None, calls: tuple[Call, ...] = ()) -> Turn:
    return Turn(text, reasoning, final_text or text, reasoning, calls, usage_count=1, chunk_count=3, message=None)


def test_a_stream_that_shows_everything_twice_is_reported_as_doubled() -> None:
    reference = _turn("The answer is 4.", "Think.")
    problems = stream_problems(_turn("The answer is 4." * 2, "Think." * 2), reference)
    assert problems == [
        "streamed text doubled: 'The answer is 4.The answer is 4.'",
        "streamed reasoning doubled: 'Think.Think.'",
    ]


def test_a_final_message_that_disagrees_with_what_was_streamed_is_reported() -> None:
    assert stream_problems(_turn("Hello", "Think.", final_text="Hel"), None) == ["final text 'Hel', but deltas 'Hello'"]
    assert stream_problems(_turn("Hello", "Think.", final_text="Hello\n\nHello"), None) == [
        "final text repeated 2 times: 'Hello\\n\\nHello'"
    ]


def test_a_wrong_call_or_a_missing_call_is_reported_with_what_came_instead() -> None:
    wrong = _turn("", "Think.", calls=(Call("get_weather", '{"city": "Rome"}', "call_1"),))
    assert call_problems(wrong) == ["called get_weather('{\"city\": \"Rome\"}'), not get_weather(city='Paris')"]
    assert call_problems(_turn("It is sunny.", "Think.")) == ["no tool call (answered 'It is sunny.')"]


def test_a_server_process_is_waited_for_and_stopped(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    server = ServerProcess(
        "http.server",
        command,
        env={},
        log_path=tmp_path / "log",
        ready_url=f"http://127.0.0.1:{port}/",
        start_timeout=20,
    )
    with server:
        process = server._process
        assert process is not None and process.poll() is None
    assert process.poll() is not None


def test_a_server_that_exits_or_never_answers_fails_to_start_with_its_log(tmp_path: Path) -> None:
    exits = [sys.executable, "-c", "print('no model here'); raise SystemExit(3)"]
    with (
        pytest.raises(ServerStartError, match="status 3:\nno model here"),
        ServerProcess(
            "exits", exits, env={}, log_path=tmp_path / "a", ready_url="http://127.0.0.1:9/", start_timeout=20
        ),
    ):
        pass
    silent = [sys.executable, "-c", "import time; time.sleep(30)"]
    port = free_port()
    with (
        pytest.raises(ServerStartError, match="did not answer within 1 s"),
        ServerProcess(
            "silent", silent, env={}, log_path=tmp_path / "b", ready_url=f"http://127.0.0.1:{port}/", start_timeout=1
        ),
    ):
        pass


def test_every_scenario_passes_against_the_emulator_and_captures_become_fixtures(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("| file | what | provenance |\n| --- | --- | --- |\n| `old.json` | x | y |\n")
    recorder = Recorder()
    with emulator_server(tmp_path, tmp_path) as target:
        results = run_matrix(target, recorder, adapters=ADAPTERS, scenarios=SCENARIOS, modes=("responses", "buffered"))
    assert [result.reason for result in results if not result.passed] == []
    assert len(results) == 30
    assert "emulator (cfai emulator (control)): 30/30 passed" in counts(results, {target.key: target.title})
    assert table(results).count("| pass   |") == 30

    written = {path.name for path in write_captures(target, recorder.exchanges, folder=tmp_path)}
    assert "emulator-control-tool-result-stream.sse" in written
    assert len(written) == 12
    stream = (tmp_path / "emulator-control-text-stream.sse").read_text()
    assert stream.startswith("event: response.created") and "response.completed" in stream
    request = json.loads((tmp_path / "emulator-control-tool-result.request.json").read_text())
    assert request["input"][-1]["type"] == "function_call_output"
    readme = (tmp_path / "README.md").read_text().splitlines()
    assert readme[2] == "| `old.json` | x | y |"
    assert len([line for line in readme if line.startswith("| `emulator-control-")]) == 6


def test_a_reply_without_reasoning_fails_with_that_reason() -> None:
    reply = {
        "id": "resp_1",
        "object": "response",
        "model": "@cf/openai/gpt-oss-120b",
        "status": "completed",
        "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "4"}]}],
        "usage": {"input_tokens": 5, "output_tokens": 1, "total_tokens": 6},
    }
    invoke = [scenario for scenario in SCENARIOS if scenario.name == "invoke"]
    with Emulator(stream_mode="sse") as emulator:
        emulator.enqueue(Reply(json=reply))
        emulator.enqueue(Reply(json=reply))
        results = run_matrix(
            target_for(emulator), Recorder(), adapters=ADAPTERS, scenarios=invoke, modes=("responses",)
        )
    assert [(result.adapter, result.reason) for result in results] == [
        ("langchain", "no reasoning"),
        ("llamaindex", "no reasoning"),
    ]
