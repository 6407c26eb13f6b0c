"""`check` through the real command line, against the sandbox's Tracking and Public APIs over
loopback: every exit status, the key and token from the environment and from file descriptors,
the heartbeat as sent, and no secret in the output."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.chatlio import HEARTBEAT_VISITOR
from app.cli_check import CheckStatus
from app.segment import SANDBOX_KEY
from app.segment.public_api import CHATLIO_METADATA_ID
from app.segment.sandbox import Sandbox
from app.segment.sandbox.workspace import JAVASCRIPT_ID
from tests.cli_api_helpers import REPO, TOKEN, cli_env, leaks_in_text, no_traceback

UNKNOWN_KEY = "UnknownCheckKey0123456789abcdefg"


@pytest.fixture
def with_chatlio() -> Iterator[Sandbox]:
    """A sandbox whose workspace has a Chatlio source (key SANDBOX_KEY)."""
    with Sandbox(chatlio_source=True) as running:
        yield running


def check(
    sandbox: Sandbox | None,
    *args: str,
    secrets: dict[int, str] | None = None,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """`check` in a subprocess with no keyring, sending to `sandbox`. `secrets` go on those
    file descriptors the way the README's recipes give them: a shell's `3<file`."""
    environment = cli_env(None, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", **env)
    where = [] if sandbox is None else ["--endpoint", sandbox.url]
    api = [] if sandbox is None else ["--api-endpoint", sandbox.public_api_url]
    command = [sys.executable, "-m", "app", "check", *where, *api, *args]
    with tempfile.TemporaryDirectory() as folder:
        redirections = []
        for number, text in (secrets or {}).items():
            path = Path(folder) / f"secret-{number}"
            path.write_text(text)
            redirections.append(f"{number}<{shlex.quote(str(path))}")
        shell = f"exec {shlex.join(command)} {' '.join(redirections)}"
        return subprocess.run(
            ["bash", "-c", shell],
            capture_output=True,
            text=True,
            env=environment,
            timeout=90,
            check=False,
            cwd=REPO,
        )


def answer(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    no_traceback(result)
    data: dict[str, Any] = json.loads(result.stdout)
    assert data["exit"] == result.returncode
    return data


def test_confirmed_with_key_and_token_from_the_environment(with_chatlio: Sandbox) -> None:
    result = check(with_chatlio, "--json", SEGMENT_WRITE_KEY=SANDBOX_KEY, SEGMENT_API_TOKEN=TOKEN)
    assert result.returncode == int(CheckStatus.CONFIRMED) == 0, result.stderr
    data = answer(result)
    assert data["status"] == "confirmed"
    assert data["source"] == {"id": data["source"]["id"], "name": "Chatlio", "chatlio": True}
    assert data["confirmation"]["verdict"] == "confirmed"
    assert data["key_from"] == "$SEGMENT_WRITE_KEY"
    # The heartbeat as it arrived: all four events in one batch, clearly marked.
    received = [event.payload for event in with_chatlio.events()]
    assert [p["event"] for p in received] == [e["event"] for e in data["events"]]
    assert {p["event"] for p in received} == {
        "Live Chat Conversation Started", "Live Chat Conversation Ended",
        "Live Chat Message Sent", "Live Chat Message Received",
    }  # fmt: skip
    assert {p["anonymousId"] for p in received} == {HEARTBEAT_VISITOR}
    assert {p["properties"]["conversation_id"] for p in received} == {data["conversation_id"]}
    assert all("integrations" not in p for p in received)
    assert [r.path for r in with_chatlio.requests() if r.path.startswith("/v1/")] == ["/v1/batch"]


def test_key_and_token_from_file_descriptors(with_chatlio: Sandbox) -> None:
    result = check(
        with_chatlio, "--write-key-fd", "3", "--token-fd", "4",
        secrets={3: SANDBOX_KEY + "\n", 4: TOKEN},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "key from file descriptor 3" in result.stdout
    assert "token from file descriptor 4" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("The sandbox counted the 4 test events")


def test_no_token_is_sent_but_not_confirmed(with_chatlio: Sandbox) -> None:
    result = check(with_chatlio, SEGMENT_WRITE_KEY=SANDBOX_KEY)
    assert result.returncode == int(CheckStatus.NOT_CONFIRMED) == 3
    assert "Sent: 4 of 4 test events arrived" in result.stdout
    assert "no Public API token" in result.stdout
    assert "--token-fd" in result.stdout
    assert len(with_chatlio.events()) == 4


def test_not_counted_in_time_is_3(with_chatlio: Sandbox) -> None:
    with_chatlio.public_api.count_delay = 600  # Segment is slow today
    result = check(
        with_chatlio,
        "--json",
        "--wait",
        "2",
        SEGMENT_WRITE_KEY=SANDBOX_KEY,
        SEGMENT_API_TOKEN=TOKEN,
    )
    assert result.returncode == 3
    data = answer(result)
    assert data["status"] == "not_confirmed"
    assert data["confirmation"]["verdict"] == "not_counted"


def test_a_key_of_no_source_fails(with_chatlio: Sandbox) -> None:
    result = check(with_chatlio, "--json", SEGMENT_WRITE_KEY=UNKNOWN_KEY, SEGMENT_API_TOKEN=TOKEN)
    assert result.returncode == int(CheckStatus.FAILED) == 1
    data = answer(result)
    assert data["status"] == "failed"
    assert "None of the workspace's" in data["message"]
    assert leaks_in_text(UNKNOWN_KEY, result.stdout + result.stderr) == []


def test_a_key_of_another_kind_of_source_fails(with_chatlio: Sandbox) -> None:
    website = with_chatlio.public_api.workspace.create(
        "marketing-site", JAVASCRIPT_ID, name="Marketing site"
    )
    planted = website.write_keys[0]
    result = check(with_chatlio, "--json", SEGMENT_WRITE_KEY=planted, SEGMENT_API_TOKEN=TOKEN)
    assert result.returncode == 1
    assert answer(result)["source"]["chatlio"] is False
    assert leaks_in_text(planted, result.stdout + result.stderr) == []


def test_a_planted_chatlio_key_is_never_printed(with_chatlio: Sandbox) -> None:
    second = with_chatlio.public_api.workspace.create("chatlio-2", CHATLIO_METADATA_ID)
    planted = second.write_keys[0]
    for extra in ([], ["--json"], ["--verbose"]):
        result = check(with_chatlio, *extra, SEGMENT_WRITE_KEY=planted, SEGMENT_API_TOKEN=TOKEN)
        assert result.returncode == 0, result.stdout + result.stderr
        assert leaks_in_text(planted, result.stdout + result.stderr) == []
        assert leaks_in_text(TOKEN, result.stdout + result.stderr) == []


def test_a_token_segment_refuses_is_a_configuration_problem(with_chatlio: Sandbox) -> None:
    wrong = "sgp_WrongCheckToken0123456789abcdef"
    result = check(with_chatlio, "--json", SEGMENT_WRITE_KEY=SANDBOX_KEY, SEGMENT_API_TOKEN=wrong)
    assert result.returncode == int(CheckStatus.USAGE) == 2
    data = answer(result)
    assert data["status"] == "usage"
    assert "did not accept the token" in data["message"]
    assert leaks_in_text(wrong, result.stdout + result.stderr) == []


def test_nothing_sent_is_a_failure(tmp_path: Path) -> None:
    result = check(
        None, "--json", "--endpoint", "http://127.0.0.1:9", "--timeout", "5",
        SEGMENT_WRITE_KEY=SANDBOX_KEY,
    )  # fmt: skip
    assert result.returncode == 1
    data = answer(result)
    assert data["status"] == "failed"
    assert data["confirmation"] is None
    assert "Could not connect to 127.0.0.1:9" in data["message"]  # says why


def test_no_key_and_no_keyring_says_how_to_give_one() -> None:
    result = check(None)
    assert result.returncode == 2
    assert "$SEGMENT_WRITE_KEY" in result.stderr
    assert "--write-key-fd 3 3<key-file" in result.stderr
    no_traceback(result)
    as_json = answer(check(None, "--json"))
    assert as_json["status"] == "usage"
    assert "--write-key-fd" in as_json["message"]


def test_a_file_descriptor_that_is_not_open() -> None:
    result = check(None, "--write-key-fd", "9")
    assert result.returncode == 2
    assert "Nothing can be read from file descriptor 9" in result.stderr
    assert "--write-key-fd 9 9<FILE" in result.stderr


def test_no_destinations_says_warehouses_still_load_it(with_chatlio: Sandbox) -> None:
    result = check(with_chatlio, "--no-destinations", SEGMENT_WRITE_KEY=SANDBOX_KEY)
    assert result.returncode == 3
    assert "warehouses still load them" in result.stdout
    assert "context_library_name <> 'chatlio-segment-setup'" in result.stdout
    received = [event.payload for event in with_chatlio.events()]
    assert [p["integrations"] for p in received] == [{"All": False}] * 4


def test_the_built_in_sandbox_needs_nothing() -> None:
    result = check(None, "--sandbox", "--json")
    assert result.returncode == 0, result.stderr
    assert answer(result)["status"] == "confirmed"
