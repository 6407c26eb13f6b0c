"""The command-line contract, through real subprocesses and real sockets."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys

import httpx
import pytest

from app import __version__
from app.chatlio import EVENTS, Conversation
from app.segment.sandbox import Sandbox
from tests.cli_helpers import run_cli

KEY = "PlantedCliKey0123456789abcdefghi"
JSON_FIELDS = {"event", "status", "attempts", "elapsed_ms", "message_id", "body", "error"}


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_send_all_to_the_built_in_sandbox_as_json() -> None:
    result = run_cli("send", "--all", "--sandbox", "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    names = [line["event"] for line in lines]
    assert names[0] == "Live Chat Conversation Started"
    assert names[-1] == "Live Chat Conversation Ended"
    assert {line["event"] for line in lines} == {e.name for e in EVENTS}
    for line in lines:
        assert set(line) >= JSON_FIELDS
        assert line["status"] == 200
        assert line["error"] is None
        assert line["attempts"] == 1
    assert len({line["message_id"] for line in lines}) == len(lines)


def test_send_named_events_in_order_and_as_a_batch(sandbox: Sandbox) -> None:
    result = run_cli(
        "send", "--event", "message-received", "--event", "Live Chat Conversation Started",
        "--batch", "--endpoint", sandbox.url, "--user-id", "user-42", "--json",
        env={"SEGMENT_WRITE_KEY": KEY},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = sandbox.events()
    assert [e.payload["event"] for e in events] == [
        "Live Chat Message Received",
        "Live Chat Conversation Started",
    ]
    assert {e.endpoint for e in events} == {"/v1/batch"}
    assert all(e.payload["userId"] == "user-42" and e.write_key == KEY for e in events)


def test_the_built_in_sandbox_never_gets_the_real_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from app import cli
    from app.segment import SANDBOX_KEY
    from app.segment import sandbox as sandbox_module

    started: list[Sandbox] = []

    class RecordingSandbox(sandbox_module.Sandbox):
        def start(self) -> RecordingSandbox:
            started.append(self)
            return super().start()

    monkeypatch.setattr(sandbox_module, "Sandbox", RecordingSandbox)
    monkeypatch.setenv("SEGMENT_WRITE_KEY", KEY)
    out = io.StringIO()
    assert cli.run(["send", "--sandbox", "--json"], out=out) == 0
    [sandbox] = started
    assert {event.write_key for event in sandbox.events()} == {SANDBOX_KEY}
    assert len(sandbox.events()) == 6


def test_sandbox_on_a_busy_port_says_what_to_do() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = run_cli("sandbox", "--port", str(busy.getsockname()[1]))
    assert result.returncode == 1
    assert "--port 0" in result.stderr
    no_traceback(result)


def test_key_from_stdin_wins_over_the_environment(sandbox: Sandbox) -> None:
    result = run_cli(
        "send", "--event", "conversation-started", "--endpoint", sandbox.url, "--write-key-stdin",
        stdin=f"  {KEY}\n", env={"SEGMENT_WRITE_KEY": "FromEnvironment0123456789abcdefg"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [event] = sandbox.events()
    assert event.write_key == KEY
    assert KEY not in result.stdout + result.stderr


def test_a_newcomer_can_follow_sandbox_then_send() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        result = run_cli("send", "--all", "--endpoint", url, env={"SEGMENT_WRITE_KEY": KEY})
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert f"to {url}" in out
        assert "$SEGMENT_WRITE_KEY" in out
        assert f"6 of 6 test events arrived at {url.removeprefix('http://')}." in out
        assert "sandbox" in out
        assert KEY not in out
        listed = httpx.get(f"{url}/sandbox/events").json()["events"]
        assert len(listed) == 6
        assert listed[0]["write_key"] == KEY
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
        log = server.stdout.read()
        assert log.count("POST /v1/track 200") == 6
        assert KEY not in log
        assert server.returncode == 0
    finally:
        server.kill()
        server.communicate()  # reaps it and closes both pipes


def test_human_output_explains_what_a_200_proves(sandbox: Sandbox) -> None:
    from app.cli import Report
    from app.segment.endpoint import Endpoint, Region
    from app.segment.payload import Visitor
    from app.segment.result import WHAT_200_PROVES
    from app.sending import Target, send_test_events

    # The report as it reads after a send to Segment (a non-loopback endpoint stands in).
    conversation = Conversation()
    visitor = Visitor(conversation.visitor_id)
    target = Target.segment(Endpoint(sandbox.url, Region.CUSTOM), KEY)
    out = io.StringIO()
    report = Report(out, as_json=False, verbose=False)
    outcome = send_test_events(
        target,
        conversation.events()[:1],
        visitor,
        conversation_id=conversation.conversation_id,
        on_result=report.result,
    )
    report.finish(outcome)
    text = out.getvalue()
    assert f"{target.endpoint.host} received it (HTTP 200)." in text
    assert f"1 of 1 test event arrived at {target.endpoint.host}." in text
    assert WHAT_200_PROVES in text
    assert f"search for {conversation.visitor_id} or {conversation.conversation_id}" in text
    assert "verified" not in text.lower()


def test_verbose_output_shows_the_request_with_the_key_hidden(sandbox: Sandbox) -> None:
    result = run_cli(
        "send", "--event", "conversation-ended", "--endpoint", sandbox.url, "--verbose",
        env={"SEGMENT_WRITE_KEY": KEY},
    )  # fmt: skip
    assert result.returncode == 0
    assert "OK" in result.stdout
    assert '{"success": true}' in result.stdout or '{"success":true}' in result.stdout
    assert "Basic <write key hidden>" in result.stdout
    assert KEY not in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["send", "--event", "nonsense", "--sandbox"], "no Live Chat event called 'nonsense'"),
        (["send", "--endpoint", "http://example.com", "--sandbox"], "not allowed with"),
        (["send", "--endpoint", "http://example.com"], "unencrypted"),
        (["send", "--all", "--event", "message-sent", "--sandbox"], "either --all or --event"),
        (["send", "--max-attempts", "0", "--sandbox"], "from 1 to 100"),
        (["send", "--max-attempts", "many", "--sandbox"], "from 1 to 100"),
        (["send", "--timeout", "-1", "--sandbox"], "above 0"),
        (["send", "--timeout", "nan", "--sandbox"], "above 0"),
        (["send", "--timeout", "1e10", "--sandbox"], "at most 3600"),
        (["send", "--timeout", "soon", "--sandbox"], "number of seconds"),
        (["send", "--anonymous-id", "", "--sandbox"], "visitor id is empty"),
        (["send", "--user-id", "  ", "--sandbox"], "visitor id is empty"),
        (["send", "--anonymous-id", "a\x1b[2Jb", "--sandbox"], "cannot be sent"),
        (["send", "--anonymous-id", "v" * 201, "--sandbox"], "200 or fewer"),
        (["send", "--endpoint", "http://[::1"], "not a web address"),
        (["send", "--endpoint", "http://127.0.0.1:abc"], "port"),
        (["send", "--endpoint", "http://127.0.0.1:99999"], "port"),
        (["send", "--endpoint", "https://exa\x07mple.com"], "control characters"),
        (["send", "--endpoint", "https://xn--.com"], "valid server name"),
        (["send", "--endpoint", "http://user:pw@127.0.0.1:8471"], "user name or password"),
        (["sandbox", "--port", "70000"], "from 0 to 65535"),
        (["sandbox", "--port", "99999"], "from 0 to 65535"),
        (["sandbox", "--port", "eighty"], "from 0 to 65535"),
        (["sandbox", "--host", "\x07"], "address of this computer"),
        (["sandbox", "--host", ""], "address of this computer"),
        (["send"], "No system keyring was found"),
        (["nonsense"], "invalid choice"),
        (["--endpoint"], "--endpoint: expected one argument"),
        (["--endpoint", "http://127.0.0.1:8471", "send", "--sandbox"], "after the command"),
        (["--endpoint", "http://127.0.0.1:8471", "--self-test"], "after the command"),
    ],
)
def test_usage_errors_exit_2_with_a_sentence(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    no_traceback(result)


@pytest.mark.parametrize(
    "args",
    [
        [b"send", b"--sandbox", b"--anonymous-id", b"visitor-\xff\xfe"],
        [b"send", b"--sandbox", b"--user-id", b"\xc3("],
        [b"sandbox", b"--host", b"127.0.0.\xff"],
        [b"send", b"--endpoint", b"https://api.segment.io\xff"],
    ],
)
def test_undecodable_arguments_get_a_sentence(args: list[bytes]) -> None:
    result = subprocess.run(
        [os.fsencode(sys.executable), b"-m", b"app", *args],
        capture_output=True,
        text=True,
        errors="replace",
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
        timeout=60,
        check=False,
    )

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip()
    no_traceback(result)


def test_a_servers_control_characters_never_reach_the_terminal(sandbox: Sandbox) -> None:
    sandbox.fail_next(400, body="\x1b[2J\x1b]0;pwned\x07bad\rOK   forged line\n", times=1)

    result = run_cli(
        "send", "--event", "conversation-started", "--endpoint", sandbox.url,
        "--max-attempts", "1", "--verbose", env={"SEGMENT_WRITE_KEY": KEY},
    )  # fmt: skip

    assert result.returncode == 1
    assert "\x1b" not in result.stdout
    assert "\x07" not in result.stdout
    assert "\\x1b[2J" in result.stdout  # shown, escaped, for whoever reads the report
    # Universal newlines turn a raw carriage return into a line break: none may start a line.
    assert not any(line.startswith("OK   forged") for line in result.stdout.splitlines())


@pytest.mark.parametrize(
    ("key", "how"),
    [(KEY, "env"), ("my-special.key+with/odd=shape!!", "stdin")],
)
def test_an_unexpected_error_is_a_sentence_and_hides_the_key(
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    key: str,
    how: str,
) -> None:
    from app import cli, sending

    def broken(target: sending.Target, *_args: object, **_kwargs: object) -> None:
        raise RuntimeError(f"boom with {target.write_key} inside")

    monkeypatch.setattr(sending, "send_test_events", broken)
    monkeypatch.setenv(cli.DEBUG_ENV, "1")
    args = ["send", "--event", "conversation-started", "--endpoint", sandbox.url]
    if how == "env":
        monkeypatch.setenv("SEGMENT_WRITE_KEY", key)
        code = cli.run(args)
    else:
        code = cli.run([*args, "--write-key-stdin"], stdin=io.StringIO(key + "\n"))

    err = capsys.readouterr().err
    assert code == 1
    assert "Something unexpected stopped" in err
    assert "RuntimeError: boom with <secret hidden> inside" in err
    assert key not in err


def test_a_reader_that_stops_reading_ends_the_send_quietly() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # as `| head` does once it has had enough: every write now fails
    try:
        result = subprocess.run(
            [sys.executable, "-m", "app", "send", "--sandbox", "--json", "--all"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)

    assert result.returncode == 1
    assert b"unexpected" not in result.stderr
    assert b"Traceback" not in result.stderr


def test_an_answer_the_terminal_cannot_show_is_escaped(sandbox: Sandbox) -> None:
    sandbox.fail_next(401, body='{"message": "無効な書き込みキー"}', times=1)

    result = run_cli(
        "send", "--event", "conversation-started", "--endpoint", sandbox.url,
        "--max-attempts", "1", env={"SEGMENT_WRITE_KEY": KEY, "PYTHONIOENCODING": "cp1252"},
    )  # fmt: skip

    assert result.returncode == 1, result.stderr
    assert "\\u7121" in result.stdout  # 無, as an escape
    assert "unexpected" not in result.stderr


@pytest.mark.parametrize("args", [["send", "--write-key-stdin"], ["key", "set", "--stdin"]])
def test_no_standard_input_at_all_gets_a_sentence(
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
) -> None:
    from app import cli

    monkeypatch.setattr(sys, "stdin", None)  # what a process started with stdin closed sees
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    if args[0] == "send":
        args = [*args, "--endpoint", sandbox.url]

    code = cli.run(args)

    assert code == 2
    assert "no standard input" in capsys.readouterr().err
    assert sandbox.requests() == []


@pytest.mark.parametrize("command", ["send", "key set"])
def test_a_key_piped_in_that_is_not_text_gets_a_sentence(sandbox: Sandbox, command: str) -> None:
    args = {
        "send": ["send", "--endpoint", sandbox.url, "--write-key-stdin"],
        "key set": ["key", "set", "--stdin"],
    }[command]
    utf16 = KEY.encode("utf-16") + b"\xff\xfe\xfd"

    result = subprocess.run(
        [sys.executable, "-m", "app", *args],
        input=utf16,
        capture_output=True,
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
        timeout=60,
        check=False,
    )

    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert "not plain text" in err
    assert "Traceback" not in err
    assert sandbox.requests() == []


def test_empty_key_is_a_usage_error(sandbox: Sandbox) -> None:
    result = run_cli("send", "--endpoint", sandbox.url, "--write-key-stdin", stdin="\n")
    assert result.returncode == 2
    assert "empty" in result.stderr
    assert sandbox.requests() == []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_refused_connection_exits_1_with_a_sentence() -> None:
    result = run_cli(
        "send", "--event", "conversation-started", "--endpoint", f"http://127.0.0.1:{free_port()}",
        "--max-attempts", "1", env={"SEGMENT_WRITE_KEY": KEY},
    )  # fmt: skip
    assert result.returncode == 1
    assert "Could not connect" in result.stdout
    no_traceback(result)


def test_a_conversation_to_a_closed_port_says_why_once_and_skips_the_rest() -> None:
    result = run_cli(
        "send", "--all", "--endpoint", f"http://127.0.0.1:{free_port()}", "--max-attempts", "2",
        env={"SEGMENT_WRITE_KEY": KEY},
    )  # fmt: skip

    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert sum(line.startswith("SKIP ") for line in lines) == 5
    assert sum("did not try the remaining events" in line for line in lines) == 1
    assert "1 failed and 5 were not sent." in result.stdout
    assert "ConnectError" not in result.stdout  # technical names are for --verbose
    no_traceback(result)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [("500", "problem on its side"), ("400", "malformed"), ("slow", "did not answer")],
)
def test_failures_exit_1_with_a_sentence(sandbox: Sandbox, fault: str, expected: str) -> None:
    if fault == "slow":
        sandbox.delay_next(5, times=2)
    else:
        sandbox.fail_next(int(fault), times=5)
    result = run_cli(
        "send", "--event", "conversation-started", "--endpoint", sandbox.url, "--max-attempts", "2",
        "--timeout", "0.5", "--json", env={"SEGMENT_WRITE_KEY": KEY},
    )  # fmt: skip
    assert result.returncode == 1
    [line] = [json.loads(text) for text in result.stdout.splitlines()]
    assert expected in line["message"]
    assert line["error"] in {"server", "bad_request", "timeout"}
    no_traceback(result)


def test_eu_endpoint_is_flagged() -> None:
    env = {"SEGMENT_WRITE_KEY": KEY, "HTTPS_PROXY": f"http://127.0.0.1:{free_port()}"}
    result = run_cli(
        "send", "--event", "conversation-started", "--endpoint", "https://events.eu1.segmentapis.com",
        "--max-attempts", "1", env=env,
    )  # fmt: skip
    assert "Chatlio sources exist only in US workspaces" in result.stderr
    assert result.returncode == 1
    assert "proxy" in result.stdout.lower()
    no_traceback(result)


def test_the_default_command_is_runnable_as_a_module() -> None:
    assert os.path.exists(sys.executable)
    result = run_cli("--help")
    assert result.returncode == 0
    assert "send" in result.stdout
    assert "sandbox" in result.stdout
