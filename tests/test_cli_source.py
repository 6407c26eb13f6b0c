"""`source create` and `source check` through the real CLI, the sandbox and a real keyring."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from app import cli, keystore
from app.segment import SANDBOX_KEY
from app.segment.sandbox import Sandbox
from tests.cli_api_helpers import (
    GNOME_KEYRING,
    TOKEN,
    Terminal,
    cli_env,
    leaks_in_text,
    no_traceback,
)
from tests.cli_api_helpers import cli as run
from tests.public_api_server import ApiServer, Reply, Seen, json_reply, source_json
from tests.secret_service import SecretServiceSession

pytestmark = pytest.mark.keyring

WEBSITE_KEY = "sandbox-website-key"
UNKNOWN_KEY = "UnknownKey0123456789abcdefghijkl"


@pytest.fixture
def with_chatlio() -> Iterator[Sandbox]:
    """A sandbox whose workspace already has its Chatlio source (key SANDBOX_KEY)."""
    with Sandbox(chatlio_source=True) as running:
        yield running


def stored_keys(session: SecretServiceSession) -> dict[str, str]:
    return {
        item.attributes["username"]: item.secret
        for item in session.items()
        if item.attributes["service"] == keystore.SERVICE_NAME
    }


def api(sandbox: Sandbox) -> list[str]:
    return ["--api-endpoint", sandbox.public_api_url]


# source create


def test_create_stores_the_new_key_unseen(
    secret_service: SecretServiceSession, with_chatlio: Sandbox
) -> None:
    result = run(
        secret_service,
        "source", "create", "--name", "Chatlio Prod", *api(with_chatlio),
        SEGMENT_API_TOKEN=TOKEN,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    [key] = stored_keys(secret_service).values()
    assert stored_keys(secret_service) == {"Chatlio Prod": key}
    assert key != SANDBOX_KEY  # the sandbox's second Chatlio source: a made-up key of its own
    out = result.stdout
    assert 'workspace "Sandbox workspace" (sandbox)' in out
    assert "Created a Chatlio source in workspace Sandbox workspace:" in out
    assert "slug chatlio-prod" in out
    assert "https://app.segment.com/sandbox/sources/chatlio-prod/overview" in out
    assert f"stored in {GNOME_KEYRING} for source 'Chatlio Prod'" in out
    for secret in (key, TOKEN):
        assert leaks_in_text(secret, out + result.stderr) == []
    assert result.stderr == ""

    # The stored key is the new source's: `source check` finds it there.
    checked = run(
        secret_service,
        "source", "check", "--source", "Chatlio Prod", *api(with_chatlio),
        SEGMENT_API_TOKEN=TOKEN,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert "a Chatlio source: the right one" in checked.stdout
    assert "slug chatlio-prod" in checked.stdout


def test_create_when_the_token_cannot_see_write_keys(
    secret_service: SecretServiceSession, sandbox: Sandbox
) -> None:
    sandbox.public_api.hide_write_keys()

    result = run(secret_service, "source", "create", *api(sandbox), SEGMENT_API_TOKEN=TOKEN)

    assert result.returncode == 1
    assert "Created a Chatlio source" in result.stdout
    assert "The token cannot see write keys (it needs the Source Admin role)" in result.stderr
    assert "https://app.segment.com/sandbox/sources/chatlio/settings/keys" in result.stderr
    assert 'key set --source "Chatlio"' in result.stderr
    assert stored_keys(secret_service) == {}
    no_traceback(result)


def test_create_twice_with_one_name_is_refused_the_second_time(
    secret_service: SecretServiceSession, sandbox: Sandbox
) -> None:
    first = run(secret_service, "source", "create", *api(sandbox), SEGMENT_API_TOKEN=TOKEN)
    second = run(secret_service, "source", "create", *api(sandbox), SEGMENT_API_TOKEN=TOKEN)

    assert first.returncode == 0, first.stderr
    assert stored_keys(secret_service) == {"Chatlio": SANDBOX_KEY}
    assert second.returncode == 1
    assert second.stderr.strip()
    no_traceback(second)
    assert stored_keys(secret_service) == {"Chatlio": SANDBOX_KEY}


def test_create_says_when_it_replaces_a_stored_key(
    secret_service: SecretServiceSession, sandbox: Sandbox
) -> None:
    assert run(secret_service, "key", "set", "--stdin", stdin=UNKNOWN_KEY).returncode == 0

    result = run(secret_service, "source", "create", *api(sandbox), SEGMENT_API_TOKEN=TOKEN)

    assert result.returncode == 0, result.stderr
    assert "replacing the key stored under that name before" in result.stdout
    assert stored_keys(secret_service) == {"Chatlio": SANDBOX_KEY}


@pytest.mark.parametrize("command", ["create", "check"])
def test_without_a_token_it_says_how_to_give_one(
    secret_service: SecretServiceSession, sandbox: Sandbox, command: str
) -> None:
    result = run(secret_service, "source", command, *api(sandbox), SEGMENT_WRITE_KEY=UNKNOWN_KEY)

    assert result.returncode == 2
    assert "none is stored" in result.stderr
    assert "chatlio-segment-setup token set" in result.stderr
    assert "$SEGMENT_API_TOKEN" in result.stderr
    if command == "check":
        assert "source check --cdn" in result.stderr
    assert sandbox.requests() == []
    no_traceback(result)


def test_a_token_segment_refuses(secret_service: SecretServiceSession, sandbox: Sandbox) -> None:
    wrong = "sgp_RevokedToken0123456789abcdefghij"
    result = run(secret_service, "source", "create", *api(sandbox), SEGMENT_API_TOKEN=wrong)

    assert result.returncode == 1
    assert "did not accept the token" in result.stderr
    assert leaks_in_text(wrong, result.stdout + result.stderr) == []
    assert stored_keys(secret_service) == {}


# source check


def test_check_the_stored_chatlio_key(
    secret_service: SecretServiceSession, with_chatlio: Sandbox
) -> None:
    assert run(secret_service, "key", "set", "--stdin", stdin=SANDBOX_KEY).returncode == 0

    result = run(secret_service, "source", "check", *api(with_chatlio), SEGMENT_API_TOKEN=TOKEN)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "write key from the keyring (source 'Chatlio') among its sources" in out
    assert 'The key belongs to source "Chatlio", a Chatlio source: the right one.' in out
    assert "https://app.segment.com/sandbox/sources/chatlio/overview" in out
    assert "Sends to " in out
    assert leaks_in_text(SANDBOX_KEY, out + result.stderr) == []


def test_the_right_key_is_said_right_even_when_its_connections_cannot_be_listed(
    with_chatlio: Sandbox,
) -> None:
    [chatlio] = [s for s in with_chatlio.public_api.workspace.sources() if s.slug == "chatlio"]
    with_chatlio.public_api.fail_next(503, times=8, path=f"/sources/{chatlio.id}/connected")

    result = run(
        None, "source", "check", *api(with_chatlio),
        SEGMENT_API_TOKEN=TOKEN, SEGMENT_WRITE_KEY=SANDBOX_KEY,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "a Chatlio source: the right one" in result.stdout
    assert "Sends to " not in result.stdout
    assert "destinations" in result.stderr
    assert "503" not in result.stdout + result.stderr


def test_check_a_website_key_names_the_usual_mistake(
    secret_service: SecretServiceSession, with_chatlio: Sandbox
) -> None:
    result = run(
        secret_service,
        "source", "check", *api(with_chatlio),
        SEGMENT_API_TOKEN=TOKEN, SEGMENT_WRITE_KEY=WEBSITE_KEY,
    )  # fmt: skip

    assert result.returncode == 1
    assert 'source "Website"' in result.stdout
    assert "not a Chatlio one" in result.stdout
    assert "usual mistake" in result.stdout
    no_traceback(result)


def test_check_a_key_no_source_has(secret_service: SecretServiceSession, sandbox: Sandbox) -> None:
    sandbox.public_api.add_sources(450)  # several pages of sources, all looked through

    result = run(
        secret_service,
        "source", "check", "--write-key-stdin", *api(sandbox),
        stdin=UNKNOWN_KEY, SEGMENT_API_TOKEN=TOKEN,
    )  # fmt: skip

    assert result.returncode == 1
    assert "None of the workspace's" in result.stdout
    assert leaks_in_text(UNKNOWN_KEY, result.stdout + result.stderr) == []


def test_check_when_the_token_cannot_see_write_keys(
    secret_service: SecretServiceSession, with_chatlio: Sandbox
) -> None:
    with_chatlio.public_api.hide_write_keys()

    result = run(
        secret_service,
        "source", "check", *api(with_chatlio),
        SEGMENT_API_TOKEN=TOKEN, SEGMENT_WRITE_KEY=SANDBOX_KEY,
    )  # fmt: skip

    assert result.returncode == 1
    assert "The token cannot see write keys" in result.stdout


def test_public_api_failures_are_sentences_and_verbose_adds_details(
    secret_service: SecretServiceSession, with_chatlio: Sandbox
) -> None:
    args = ["source", "check", *api(with_chatlio)]
    env = {"SEGMENT_API_TOKEN": TOKEN, "SEGMENT_WRITE_KEY": SANDBOX_KEY}

    with_chatlio.public_api.fail_next(401)
    plain = run(secret_service, *args, **env)
    with_chatlio.public_api.fail_next(401)
    verbose = run(secret_service, *args, "--verbose", **env)

    for result in (plain, verbose):
        assert result.returncode == 1
        assert "did not accept the token" in result.stderr
        assert leaks_in_text(TOKEN, result.stdout + result.stderr) == []
        no_traceback(result)
    assert "401" not in plain.stderr
    assert "401" in verbose.stderr


# Without a token: the CDN


def test_cdn_check_of_a_key_segment_knows(sandbox: Sandbox) -> None:
    result = run(
        None,
        "source", "check", "--cdn", "--cdn-endpoint", sandbox.cdn_url,
        SEGMENT_WRITE_KEY=WEBSITE_KEY,
    )  # fmt: skip

    assert result.returncode == 1, "known, but the CDN cannot tell a Chatlio key (here a website's)"
    assert "Segment knows this key" in result.stdout
    assert "token" in result.stdout
    assert leaks_in_text(WEBSITE_KEY, result.stdout) == []


def test_cdn_check_of_an_unknown_key_never_says_wrong(sandbox: Sandbox) -> None:
    result = run(
        None,
        "source", "check", "--cdn", "--cdn-endpoint", sandbox.cdn_url,
        SEGMENT_WRITE_KEY=UNKNOWN_KEY,
    )  # fmt: skip

    assert result.returncode == 1
    assert "could not confirm" in result.stdout.lower()
    said = (result.stdout + result.stderr).lower()
    # "Wrong" only ever as what the answer does not mean.
    assert said.count("wrong") == said.count("does not mean the key is wrong")
    assert UNKNOWN_KEY not in result.stdout + result.stderr
    no_traceback(result)


def test_cdn_check_asks_first_on_a_terminal(
    secret_service: SecretServiceSession, sandbox: Sandbox
) -> None:
    args = ["source", "check", "--cdn", "--cdn-endpoint", sandbox.cdn_url]
    env = cli_env(secret_service, SEGMENT_WRITE_KEY=WEBSITE_KEY)

    with Terminal(args, env) as declined:
        declined.wait_for("puts the key in a web address sent to cdn.segment.com")
        declined.type("n")
        code, shown = declined.finish()
    assert code == 1, shown
    assert "Nothing was checked." in shown
    assert sandbox.requests() == []

    with Terminal(args, env) as accepted:
        accepted.wait_for("[y/N]")
        accepted.type("y")
        code, shown = accepted.finish()
    assert code == 1, shown
    assert "Segment knows this key" in shown
    assert len(sandbox.requests()) == 1

    unasked = run(secret_service, *args, "--yes", SEGMENT_WRITE_KEY=WEBSITE_KEY)
    assert "Segment knows this key" in unasked.stdout, unasked.stderr
    assert len(sandbox.requests()) == 2, "with --yes, not asked"


def test_no_token_on_a_terminal_offers_the_cdn(
    secret_service: SecretServiceSession, sandbox: Sandbox
) -> None:
    with Terminal(
        ["source", "check", "--cdn-endpoint", sandbox.cdn_url, *api(sandbox)],
        cli_env(secret_service, SEGMENT_WRITE_KEY=WEBSITE_KEY),
    ) as terminal:
        terminal.wait_for("[y/N]")
        terminal.type("y")
        code, shown = terminal.finish()

    assert "none is stored" in shown
    assert code == 1, shown
    assert "Segment knows this key" in shown


def test_check_in_process_with_the_token_from_the_keyring(
    secret_service: SecretServiceSession,
    with_chatlio: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("SEGMENT_API_TOKEN", raising=False)
    monkeypatch.delenv("SEGMENT_WRITE_KEY", raising=False)
    token_set = ["token", "set", "--stdin", *api(with_chatlio)]
    assert cli.run(token_set, stdin=io.StringIO(TOKEN), out=io.StringIO()) == 0
    assert cli.run(["key", "set", "--stdin"], stdin=io.StringIO(SANDBOX_KEY)) == 0
    out = io.StringIO()

    code = cli.run(["source", "check", *api(with_chatlio)], out=out)

    assert code == 0
    assert "a Chatlio source: the right one" in out.getvalue()
    captured = capsys.readouterr()
    shown = out.getvalue() + captured.out + captured.err
    for secret in (TOKEN, SANDBOX_KEY):
        assert leaks_in_text(secret, shown) == []


def test_what_a_server_names_cannot_rewrite_the_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile = "Acme\x1b]0;pwned\x07\x1b[2J\r\nOK   forged line"
    sources = [source_json(1, key=UNKNOWN_KEY, chatlio=True, name=f"Chat{hostile}")]

    def answer(seen: Seen) -> Reply:
        if seen.path.endswith("/sources"):
            return json_reply({"sources": sources, "pagination": {"current": "1"}})
        if "connected-" in seen.path:
            kind = "destinations" if "destinations" in seen.path else "warehouses"
            connection = {
                "id": "d1",
                "name": hostile,
                "enabled": True,
                "metadata": {"name": hostile},
            }
            return json_reply({kind: [connection], "pagination": {"current": "1"}})
        return json_reply({"workspace": {"id": "ws-1", "slug": "acme", "name": hostile}})

    monkeypatch.setenv("SEGMENT_API_TOKEN", TOKEN)
    monkeypatch.setenv("SEGMENT_WRITE_KEY", UNKNOWN_KEY)
    out = io.StringIO()
    with ApiServer(answer) as server:
        code = cli.run(["source", "check", "--api-endpoint", server.url], out=out)

    assert code == 0, capsys.readouterr().err
    shown = out.getvalue() + capsys.readouterr().err
    assert "Acme" in shown
    assert "\x1b" not in shown
    assert "\x07" not in shown
    assert "\r" not in shown
    assert not any(line.startswith("OK   forged") for line in shown.splitlines())
