"""`token set/status/delete` through the real CLI, the sandbox's Public API and a real keyring."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from app import cli
from app.segment.sandbox import Sandbox
from app.token_store import SERVICE_NAME, USERNAME
from tests.cli_api_helpers import (
    GNOME_KEYRING,
    REPO,
    TOKEN,
    Terminal,
    cli_env,
    leaks_in_text,
    no_traceback,
)
from tests.cli_api_helpers import cli as run
from tests.secret_service import DBusSession, SecretServiceSession

pytestmark = pytest.mark.keyring

WRONG_TOKEN = "sgp_NotTheSandboxTokenZ9y8x7w6v5u4t3s2r1"
PROMPT = "Paste the Segment Public API token (it will not be shown): "


def stored_tokens(session: SecretServiceSession) -> list[str]:
    """The token entries as another Secret Service client sees them."""
    items = [i for i in session.items() if i.attributes["service"] == SERVICE_NAME]
    assert all(item.attributes["username"] == USERNAME for item in items)
    return [item.secret for item in items]


def test_set_checks_the_token_then_stores_it(
    secret_service: SecretServiceSession, sandbox: Sandbox
) -> None:
    result = run(
        secret_service,
        "token", "set", "--stdin", "--api-endpoint", sandbox.public_api_url,
        stdin=f"  {TOKEN}\n",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert 'workspace "Sandbox workspace" (sandbox)' in lines[0]
    assert lines[1] == f"Stored the Public API token in {GNOME_KEYRING}."
    assert stored_tokens(secret_service) == [TOKEN]
    assert leaks_in_text(TOKEN, result.stdout + result.stderr) == []
    # GET / was the check: the token went out as a bearer token, once.
    asked = [r for r in sandbox.requests() if r.path.startswith("/public-api")]
    assert [(r.method, r.path) for r in asked] == [("GET", "/public-api/")]

    status = run(secret_service, "token", "status")

    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines() == [
        f"A Public API token ({TOKEN[:2]}…{TOKEN[-2:]}) is stored in {GNOME_KEYRING}."
    ]


def test_a_refused_token_is_not_stored(
    secret_service: SecretServiceSession, sandbox: Sandbox
) -> None:
    args = ["token", "set", "--stdin", "--api-endpoint", sandbox.public_api_url]

    refused = run(secret_service, *args, stdin=WRONG_TOKEN)
    verbose = run(secret_service, *args, "--verbose", stdin=WRONG_TOKEN)

    for result in (refused, verbose):
        assert result.returncode == 1
        assert "did not accept the token" in result.stderr
        assert "The token was not stored." in result.stderr
        assert result.stdout == ""
        assert leaks_in_text(WRONG_TOKEN, result.stdout + result.stderr) == []
        no_traceback(result)
    assert "401" not in refused.stderr  # the technical detail is for --verbose
    assert "401" in verbose.stderr
    assert stored_tokens(secret_service) == []


def test_a_token_that_cannot_be_one_is_a_usage_error(
    secret_service: SecretServiceSession, sandbox: Sandbox
) -> None:
    args = ["token", "set", "--stdin", "--api-endpoint", sandbox.public_api_url]

    empty = run(secret_service, *args, stdin="\n")
    split = run(secret_service, *args, stdin=f"{TOKEN[:10]} {TOKEN[10:]}")

    assert empty.returncode == split.returncode == 2
    assert "The Public API token is empty" in empty.stderr
    assert "space or line break" in split.stderr
    assert TOKEN[10:] not in split.stderr
    assert sandbox.requests() == []
    assert stored_tokens(secret_service) == []


@pytest.mark.parametrize(
    ("address", "says"),
    [("http://example.com/public-api", "http"), ("ftp://127.0.0.1", "address")],
)
def test_an_unusable_api_endpoint_is_a_usage_error(
    secret_service: SecretServiceSession, address: str, says: str
) -> None:
    result = run(secret_service, "token", "set", "--stdin", "--api-endpoint", address, stdin=TOKEN)

    assert result.returncode == 2
    assert says in result.stderr
    no_traceback(result)
    assert stored_tokens(secret_service) == []


def test_an_api_that_cannot_be_reached_is_said_and_nothing_is_stored(
    secret_service: SecretServiceSession,
) -> None:
    with Sandbox() as stopped:
        address = stopped.public_api_url
    result = run(secret_service, "token", "set", "--stdin", "--api-endpoint", address, stdin=TOKEN)

    assert result.returncode == 1
    assert "The token was not stored." in result.stderr
    no_traceback(result)
    assert stored_tokens(secret_service) == []


def test_status_and_delete(secret_service: SecretServiceSession, sandbox: Sandbox) -> None:
    empty = run(secret_service, "token", "status")
    assert empty.returncode == 1
    assert empty.stdout.strip() == f"No Public API token is stored in {GNOME_KEYRING}."

    by_env = run(secret_service, "token", "status", SEGMENT_API_TOKEN=TOKEN)
    assert by_env.returncode == 0
    assert "$SEGMENT_API_TOKEN is set: commands use it instead." in by_env.stdout
    assert leaks_in_text(TOKEN, by_env.stdout + by_env.stderr) == []

    stored = run(
        secret_service,
        "token", "set", "--stdin", "--api-endpoint", sandbox.public_api_url,
        stdin=TOKEN,
    )  # fmt: skip
    assert stored.returncode == 0, stored.stderr

    deleted = run(secret_service, "token", "delete")
    again = run(secret_service, "token", "delete")

    assert deleted.returncode == 0
    assert deleted.stdout.strip() == f"Deleted the Public API token from {GNOME_KEYRING}."
    assert again.returncode == 1
    assert again.stdout.strip() == "No Public API token was stored."
    assert stored_tokens(secret_service) == []


def test_the_write_keys_are_left_alone(
    secret_service: SecretServiceSession, sandbox: Sandbox
) -> None:
    key = "AnyWriteKey0123456789abcdefghijk"
    assert run(secret_service, "key", "set", "--stdin", stdin=key).returncode == 0
    set_token = [
        "token", "set", "--stdin", "--api-endpoint", sandbox.public_api_url,
    ]  # fmt: skip
    assert run(secret_service, *set_token, stdin=TOKEN).returncode == 0

    assert run(secret_service, "token", "delete").returncode == 0

    [item] = secret_service.items()
    assert (item.attributes["username"], item.secret) == ("Chatlio", key)


# The prompt without echo


def test_set_prompts_without_echo(secret_service: SecretServiceSession, sandbox: Sandbox) -> None:
    with Terminal(
        ["token", "set", "--api-endpoint", sandbox.public_api_url], cli_env(secret_service)
    ) as terminal:
        terminal.wait_for(PROMPT)
        # getpass turned echo off before it wrote the prompt, so the keystrokes are safe now.
        terminal.type(TOKEN)
        code, shown = terminal.finish()

    assert code == 0, shown
    assert f"Stored the Public API token in {GNOME_KEYRING}." in shown
    assert leaks_in_text(TOKEN, shown) == []
    assert stored_tokens(secret_service) == [TOKEN]


def test_set_without_a_terminal_asks_for_stdin_instead(
    secret_service: SecretServiceSession,
) -> None:
    # A new session has no controlling terminal, as under cron or CI; stdin is a pipe.
    result = subprocess.run(
        [sys.executable, "-m", "app", "token", "set"],
        input=f"{TOKEN}\n",
        capture_output=True,
        text=True,
        env=cli_env(secret_service),
        cwd=REPO,
        timeout=60,
        check=False,
        start_new_session=True,
    )

    assert result.returncode == 2
    assert "no terminal" in result.stderr
    assert "token set --stdin" in result.stderr
    assert leaks_in_text(TOKEN, result.stdout + result.stderr) == []
    assert stored_tokens(secret_service) == []


# Without a usable keyring


def test_no_secret_service(dbus_without_secret_service: DBusSession, sandbox: Sandbox) -> None:
    session = dbus_without_secret_service
    fix = "To fix this, install and start GNOME Keyring or KWallet"
    stored = run(
        session,
        "token", "set", "--stdin", "--api-endpoint", sandbox.public_api_url,
        stdin=TOKEN,
    )  # fmt: skip
    status = run(session, "token", "status")
    deleted = run(session, "token", "delete")

    for result in (stored, status, deleted):
        assert result.returncode == 1
        assert "No system keyring was found to keep the Public API token safe" in result.stderr
        assert fix in result.stderr
        no_traceback(result)


def test_token_set_in_process(
    secret_service: SecretServiceSession,
    sandbox: Sandbox,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = io.StringIO()
    code = cli.run(
        ["token", "set", "--stdin", "--api-endpoint", sandbox.public_api_url],
        stdin=io.StringIO(TOKEN),
        out=out,
    )

    assert code == 0
    assert "Stored the Public API token" in out.getvalue()
    assert leaks_in_text(TOKEN, out.getvalue() + capsys.readouterr().err) == []
    assert stored_tokens(secret_service) == [TOKEN]
