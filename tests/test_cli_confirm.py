"""`send --confirm` through the real CLI: Segment's count asked of the sandbox's Public API."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import cli, keystore
from app.redaction import mask
from app.segment import SANDBOX_KEY
from app.segment.sandbox import Sandbox
from tests.cli_api_helpers import (
    TOKEN,
    Terminal,
    cli_env,
    leaks_in_files,
    leaks_in_text,
    no_traceback,
)
from tests.cli_api_helpers import cli as run
from tests.secret_service import SecretServiceSession

WEBSITE_KEY = "sandbox-website-key"
UNKNOWN_KEY = "UnknownKey0123456789abcdefghijkl"
PLANTED_TOKEN = "sgp_PlantedRealToken0123456789abcdefghijklmn"
PLANTED_KEY = "PlantedRealKey0123456789abcdefgh"


@pytest.fixture
def with_chatlio() -> Iterator[Sandbox]:
    """A sandbox whose workspace already has its Chatlio source (key SANDBOX_KEY)."""
    with Sandbox(chatlio_source=True) as running:
        yield running


def send_to(sandbox: Sandbox, *extra: str) -> list[str]:
    return [
        "send", "--endpoint", sandbox.url, "--confirm", "--api-endpoint",
        sandbox.public_api_url, *extra,
    ]  # fmt: skip


def json_lines(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


# Offline: the built-in sandbox answers the Public API too


def test_send_sandbox_confirm_as_json_needs_no_account() -> None:
    result = run(None, "send", "--sandbox", "--confirm", "--json")

    assert result.returncode == 0, result.stderr
    *events, last = json_lines(result)
    assert len(events) == 6
    assert all(event["status"] == 200 for event in events)
    confirmation = last["confirmation"]
    assert confirmation["verdict"] == "confirmed"
    assert confirmation["confirmed"] is True
    assert confirmation["expected"] == confirmation["counted"] == 6
    assert last["source"]["name"] == "Chatlio"
    assert last["source"]["chatlio"] is True


def test_send_sandbox_confirm_for_a_person() -> None:
    result = run(None, "send", "--sandbox", "--confirm", "--event", "message-sent")

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "1 of 1 test event arrived at the sandbox on this computer." in out
    assert "a Chatlio source: the right one" in out
    assert "The sandbox counted the 1 test event in source Chatlio." in out
    assert "per source, event name and minute" in out
    assert "401" not in out
    no_traceback(result)


def test_the_built_in_sandbox_never_gets_the_real_token_or_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.segment import sandbox as sandbox_module

    started: list[Sandbox] = []

    class RecordingSandbox(sandbox_module.Sandbox):
        def start(self) -> RecordingSandbox:
            started.append(self)
            return super().start()

    monkeypatch.setattr(sandbox_module, "Sandbox", RecordingSandbox)
    monkeypatch.setenv("SEGMENT_API_TOKEN", PLANTED_TOKEN)
    monkeypatch.setenv("SEGMENT_WRITE_KEY", PLANTED_KEY)
    out = io.StringIO()

    assert cli.run(["send", "--sandbox", "--confirm", "--json"], out=out) == 0

    [sandbox] = started
    assert {event.write_key for event in sandbox.events()} == {SANDBOX_KEY}
    seen = json.dumps([r.headers for r in sandbox.requests()], ensure_ascii=False)
    # The sandbox keeps tokens masked; the masks tell which token came.
    assert f"Bearer {mask(TOKEN)}" in seen
    assert mask(PLANTED_TOKEN) not in seen
    said = out.getvalue() + capsys.readouterr().err
    for secret in (PLANTED_TOKEN, PLANTED_KEY):
        assert leaks_in_text(secret, seen + said) == []


# Against a sandbox with a token, as against Segment


def test_confirm_with_the_token_from_the_environment(with_chatlio: Sandbox) -> None:
    result = run(
        None, *send_to(with_chatlio, "--json"),
        SEGMENT_WRITE_KEY=SANDBOX_KEY, SEGMENT_API_TOKEN=TOKEN,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    *events, last = json_lines(result)
    assert len(events) == 6
    assert last["confirmation"]["verdict"] == "confirmed"
    assert last["source"]["id"]
    assert leaks_in_text(TOKEN, result.stdout + result.stderr) == []
    asked = [r.path.partition("?")[0] for r in with_chatlio.requests() if "public-api" in r.path]
    assert asked[:2] == ["/public-api/", "/public-api/sources"]
    assert any("delivery-overview" in path for path in asked)


def test_without_a_token_nothing_is_sent(secret_service: SecretServiceSession) -> None:
    with Sandbox(chatlio_source=True) as sandbox:
        result = run(secret_service, *send_to(sandbox), SEGMENT_WRITE_KEY=SANDBOX_KEY)

        assert result.returncode == 2
        assert "chatlio-segment-setup token set" in result.stderr
        assert "$SEGMENT_API_TOKEN" in result.stderr
        assert sandbox.events() == []
        assert sandbox.requests() == []
    no_traceback(result)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["send", "--sandbox", "--wait", "10"], "--wait is for --confirm"),
        (["send", "--sandbox", "--api-endpoint", "http://127.0.0.1:1"], "is for --confirm"),
        (
            ["send", "--sandbox", "--confirm", "--api-endpoint", "http://127.0.0.1:1"],
            "cannot be used with --sandbox",
        ),
        (["send", "--sandbox", "--confirm", "--wait", "0"], "above 0"),
        (["send", "--sandbox", "--confirm", "--wait", "soon"], "number of seconds"),
        (["send", "--sandbox", "--confirm", "--wait", "nan"], "above 0"),
    ],
)
def test_confirm_options_that_cannot_be_used(args: list[str], says: str) -> None:
    result = run(None, *args)

    assert result.returncode == 2
    assert says in result.stderr
    assert result.stdout == ""
    no_traceback(result)


def test_a_website_key_is_counted_but_not_confirmed_as_chatlio(with_chatlio: Sandbox) -> None:
    result = run(
        None, *send_to(with_chatlio, "--event", "message-sent"),
        SEGMENT_WRITE_KEY=WEBSITE_KEY, SEGMENT_API_TOKEN=TOKEN,
    )  # fmt: skip

    assert result.returncode == 1
    assert "not a Chatlio one" in result.stdout
    assert "not in a Chatlio source" in result.stdout


def test_a_key_no_source_has_cannot_be_confirmed(with_chatlio: Sandbox) -> None:
    result = run(
        None, *send_to(with_chatlio, "--json"),
        SEGMENT_WRITE_KEY=UNKNOWN_KEY, SEGMENT_API_TOKEN=TOKEN,
    )  # fmt: skip

    assert result.returncode == 1
    last = json_lines(result)[-1]
    assert last["confirmation"]["verdict"] == "failed"
    assert "None of the workspace's" in last["confirmation"]["headline"]
    assert last["source"] is None
    assert leaks_in_text(UNKNOWN_KEY, result.stdout + result.stderr) == []


def test_not_counted_within_the_wait(with_chatlio: Sandbox) -> None:
    with_chatlio.public_api.count_delay = 600  # Segment is slow today

    result = run(
        None, *send_to(with_chatlio, "--json", "--event", "message-sent", "--wait", "2"),
        SEGMENT_WRITE_KEY=SANDBOX_KEY, SEGMENT_API_TOKEN=TOKEN,
    )  # fmt: skip

    assert result.returncode == 1
    last = json_lines(result)[-1]
    assert last["confirmation"]["verdict"] == "not_counted"
    assert last["confirmation"]["counted"] == 0
    assert len(with_chatlio.events()) == 1  # the send itself worked


def test_events_discarded_at_ingest_are_said_with_the_reason(sandbox: Sandbox) -> None:
    from app.segment.public_api import CHATLIO_METADATA_ID

    # A Chatlio source someone turned off: Segment takes the events, then drops them.
    sandbox.public_api.workspace.create(
        "chatlio", CHATLIO_METADATA_ID, name="Chatlio", enabled=False
    )

    result = run(
        None, *send_to(sandbox, "--event", "message-sent", "--wait", "60"),
        SEGMENT_WRITE_KEY=SANDBOX_KEY, SEGMENT_API_TOKEN=TOKEN,
    )  # fmt: skip

    assert result.returncode == 1
    assert "It is turned off" in result.stdout
    assert "The sandbox discarded 1 at ingest: the source is turned off." in result.stdout
    no_traceback(result)


def test_a_public_api_failure_is_a_sentence(with_chatlio: Sandbox) -> None:
    with_chatlio.public_api.fail_next(401)

    plain = run(
        None, *send_to(with_chatlio, "--event", "message-sent"),
        SEGMENT_WRITE_KEY=SANDBOX_KEY, SEGMENT_API_TOKEN=TOKEN,
    )  # fmt: skip
    with_chatlio.public_api.fail_next(401)
    as_json = run(
        None, *send_to(with_chatlio, "--event", "message-sent", "--json", "--verbose"),
        SEGMENT_WRITE_KEY=SANDBOX_KEY, SEGMENT_API_TOKEN=TOKEN,
    )  # fmt: skip

    assert plain.returncode == as_json.returncode == 1
    assert "did not accept the token" in plain.stderr
    assert "401" not in plain.stdout + plain.stderr
    assert "401" in as_json.stderr
    last = json_lines(as_json)[-1]
    assert last["confirmation"]["verdict"] == "failed"
    assert "did not accept the token" in last["confirmation"]["headline"]
    for result in (plain, as_json):
        no_traceback(result)
        assert leaks_in_text(TOKEN, result.stdout + result.stderr) == []


def test_a_count_that_cannot_be_asked_mid_wait_is_said(with_chatlio: Sandbox) -> None:
    """The token check and the key's source worked; then the count itself is refused."""
    with_chatlio.public_api.fail_next(401, path="/delivery-overview")

    result = run(
        None, *send_to(with_chatlio, "--event", "message-sent"),
        SEGMENT_WRITE_KEY=SANDBOX_KEY, SEGMENT_API_TOKEN=TOKEN,
    )  # fmt: skip

    assert result.returncode == 1
    assert 'The key belongs to source "Chatlio"' in result.stdout
    assert "Could not ask the sandbox for its count" in result.stdout
    assert "401" not in result.stdout + result.stderr
    no_traceback(result)


def test_progress_on_a_terminal(with_chatlio: Sandbox) -> None:
    # The first poll asks what failed on ingest; what was received is asked on the next one,
    # so progress shows at least once, between them.
    with Terminal(
        send_to(with_chatlio, "--event", "message-sent", "--wait", "60"),
        cli_env(None, SEGMENT_WRITE_KEY=SANDBOX_KEY, SEGMENT_API_TOKEN=TOKEN,
                PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring"),
    ) as terminal:  # fmt: skip
        code, shown = terminal.finish()

    assert code == 0, shown
    assert "Waiting for Segment's count: 0 of 1 counted" in shown
    assert "The sandbox counted the 1 test event in source Chatlio." in shown


def test_an_unexpected_error_hides_the_token_and_key(
    with_chatlio: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from app.proof import key_owner

    def broken(*_: object) -> None:
        raise RuntimeError(f"broken with {TOKEN} and {PLANTED_KEY}")

    monkeypatch.setattr(key_owner, "find_key_owner", broken)
    monkeypatch.setenv("CHATLIO_SEGMENT_SETUP_DEBUG", "1")
    monkeypatch.setenv("SEGMENT_API_TOKEN", TOKEN)
    monkeypatch.setenv("SEGMENT_WRITE_KEY", PLANTED_KEY)
    out = io.StringIO()

    code = cli.run(send_to(with_chatlio, "--event", "message-sent"), out=out)

    assert code == 1
    err = capsys.readouterr().err
    assert "Something unexpected stopped" in err
    assert "RuntimeError: broken with <secret hidden> and <secret hidden>" in err
    for secret in (TOKEN, PLANTED_KEY):
        assert leaks_in_text(secret, out.getvalue() + err) == []


# The whole flow, and where the token and key must never be


def test_token_create_check_send_confirmed_and_nothing_leaks(
    secret_service: SecretServiceSession, with_chatlio: Sandbox
) -> None:
    log: list[str] = []
    with_chatlio.on_request = log.append
    tmp = secret_service.home / "tmp"
    tmp.mkdir()
    env = {"TMPDIR": str(tmp), "TMP": str(tmp), "TEMP": str(tmp)}
    api = ["--api-endpoint", with_chatlio.public_api_url]
    name = "Chatlio Prod"

    def step(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return run(secret_service, *args, stdin=stdin, **env)

    results = [
        step("token", "set", "--stdin", *api, stdin=f"{TOKEN}\n"),
        step("source", "create", "--name", name, *api),
        step("source", "check", "--source", name, "--verbose", *api),
        step("send", "--endpoint", with_chatlio.url, "--source", name, "--confirm", *api),
        step(
            "send",
            "--endpoint",
            with_chatlio.url,
            "--source",
            name,
            "--confirm",
            "--json",
            "--verbose",
            "--batch",
            *api,
        ),
        step("token", "status"),
        step("key", "status", "--source", name),
    ]

    for result in results:
        assert result.returncode == 0, (result.args, result.stdout, result.stderr)
    key = keystore.KeyStore(secret_service.backend()).load(name)
    assert key is not None
    assert key != SANDBOX_KEY  # made up by the sandbox for this source: never seen by the test
    assert {event.write_key for event in with_chatlio.events()} == {key}
    assert "The sandbox counted the 6 test events in source Chatlio Prod." in results[3].stdout
    assert json_lines(results[4])[-1]["confirmation"]["verdict"] == "confirmed"
    said = "\n".join(r.stdout + r.stderr for r in results)
    roots: list[Path] = [secret_service.home, tmp]
    for secret in (key, TOKEN):
        assert leaks_in_text(secret, said) == []
        assert leaks_in_text(secret, "\n".join(log)) == []
        assert leaks_in_files(secret, roots) == []


def test_the_parser_states_the_defaults_of_the_core() -> None:
    from app import cli_parser
    from app.proof import arrival

    assert cli_parser.DEFAULT_WAIT == arrival.DEFAULT_WAIT
    assert cli_parser.DEFAULT_SOURCE == keystore.DEFAULT_SOURCE
    # Building the parser loads no command's implementation, nor the Public API client.
    code = (
        "import sys, app.cli; app.cli.build_parser(); "
        "print(sorted(m for m in sys.modules if m.startswith(('app.cli_', 'app.proof', "
        "'app.segment.public_api', 'app.token_store', 'httpx', 'keyring'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "['app.cli_parser', 'app.cli_support']"
