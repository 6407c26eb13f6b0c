"""`key set/status/delete` and `send`'s stored key, through the real CLI and a real Secret Service.

Every command runs as a subprocess (`python -m app`) against gnome-keyring on a private D-Bus
session; the prompt without echo is driven through a pseudo-terminal.
"""

from __future__ import annotations

import base64
import os
import pty
import re
import secrets
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.keystore import SERVICE_NAME
from app.segment.sandbox import Sandbox
from tests.cli_helpers import run_cli
from tests.secret_service import DBusSession, SecretServiceSession

pytestmark = pytest.mark.keyring

GNOME_KEYRING = "GNOME Keyring (Secret Service)"
EU_SOURCE = "Chatlio EU Test"
REPO = Path(__file__).resolve().parents[1]
PROMPT = b"Paste the write key of Segment source"
# gnome-keyring's binary, encrypted keyring format; an unencrypted keyring (empty password)
# is written as a plain-text ini file starting with "[keyring]" instead.
ENCRYPTED_KEYRING_MAGIC = b"GnomeKeyring\n\r\x00\n"


def new_key(nbytes: int = 16) -> str:
    """A write key unique to this run: 32 hex characters by default, Segment's shape."""
    return secrets.token_hex(nbytes)


def cli_env(session: DBusSession, **extra: str) -> dict[str, str]:
    """A subprocess environment on `session`'s bus, HOME and XDG directories; no key given."""
    env = session.environ()
    env.pop("SEGMENT_WRITE_KEY", None)
    assert "PYTHON_KEYRING_BACKEND" not in env
    env.update(extra)
    return env


def cli(
    session: DBusSession, *args: str, stdin: str | None = None, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """The real CLI, using whatever keyring it detects on `session`'s bus."""
    return run_cli(
        *args, stdin=stdin, env=cli_env(session, **extra_env), real_keyring=True, timeout=30
    )


def assert_sentence(result: subprocess.CompletedProcess[str], *phrases: str) -> None:
    """A clear message on stderr containing every phrase, and no traceback anywhere."""
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def masked_in(line: str) -> tuple[str, str]:
    """The visible head and tail of the masked key in a `key status` line."""
    match = re.search(r"\((\w{0,2})…(\w{0,2})\)", line)
    assert match is not None, line
    return match.group(1), match.group(2)


def stored_keys(session: SecretServiceSession) -> dict[str, str]:
    """Source name -> key, for this app's items, as another Secret Service client sees them."""
    items = session.items()
    assert all(item.attributes["service"] == SERVICE_NAME for item in items)
    return {item.attributes["username"]: item.secret for item in items}


# Key set, status and delete


def test_set_from_stdin_status_and_send_round_trip(
    secret_service: SecretServiceSession, sandbox: Sandbox
) -> None:
    key = new_key()

    stored = cli(secret_service, "key", "set", "--stdin", stdin=f"  {key}\n")

    assert stored.returncode == 0, stored.stderr
    assert stored.stdout.strip() == (
        f"Stored the write key for source 'Chatlio' in {GNOME_KEYRING}."
    )
    assert stored.stderr == ""
    assert stored_keys(secret_service) == {"Chatlio": key}

    status = cli(secret_service, "key", "status")

    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert len(lines) == 1
    assert "'Chatlio'" in lines[0]
    assert GNOME_KEYRING in lines[0]
    assert masked_in(lines[0]) == (key[:2], key[-2:])
    assert key not in status.stdout + status.stderr

    sent = cli(secret_service, "send", "--event", "conversation-started", "--endpoint", sandbox.url)

    assert sent.returncode == 0, sent.stderr
    assert "write key from the keyring (source 'Chatlio')" in sent.stdout
    assert [event.write_key for event in sandbox.events()] == [key]
    assert key not in sent.stdout + sent.stderr


def test_status_when_no_key_is_stored(secret_service: SecretServiceSession) -> None:
    status = cli(secret_service, "key", "status", "--source", EU_SOURCE)

    assert status.returncode == 1
    assert status.stdout.splitlines() == [
        f"No write key is stored for source '{EU_SOURCE}' in {GNOME_KEYRING}."
    ]


def test_two_sources_side_by_side_named_as_typed(
    secret_service: SecretServiceSession, sandbox: Sandbox
) -> None:
    default_key, eu_key = new_key(), new_key()

    for source, key in (("Chatlio", default_key), (EU_SOURCE, eu_key)):
        result = cli(secret_service, "key", "set", "--stdin", "--source", source, stdin=key)
        assert result.returncode == 0, result.stderr
        assert f"source '{source}' in {GNOME_KEYRING}" in result.stdout

    assert stored_keys(secret_service) == {"Chatlio": default_key, EU_SOURCE: eu_key}

    for source, key in (("Chatlio", default_key), (EU_SOURCE, eu_key)):
        status = cli(secret_service, "key", "status", "--source", source)
        assert status.returncode == 0, status.stderr
        assert f"'{source}'" in status.stdout
        assert masked_in(status.stdout) == (key[:2], key[-2:])
    # The name is kept exactly as typed: another case is another source.
    other_case = cli(secret_service, "key", "status", "--source", EU_SOURCE.lower())
    assert other_case.returncode == 1

    sent = cli(
        secret_service,
        "send",
        "--event",
        "conversation-started",
        "--endpoint",
        sandbox.url,
        "--source",
        EU_SOURCE,
    )
    assert sent.returncode == 0, sent.stderr
    assert f"the keyring (source '{EU_SOURCE}')" in sent.stdout
    assert [event.write_key for event in sandbox.events()] == [eu_key]


def test_surrounding_whitespace_of_a_source_name_is_dropped(
    secret_service: SecretServiceSession,
) -> None:
    key = new_key()

    result = cli(secret_service, "key", "set", "--stdin", "--source", f"  {EU_SOURCE} ", stdin=key)

    assert result.returncode == 0, result.stderr
    assert f"source '{EU_SOURCE}' in" in result.stdout
    assert stored_keys(secret_service) == {EU_SOURCE: key}


@pytest.mark.parametrize("action", ["set", "status", "delete"])
def test_an_empty_source_name_is_refused_not_taken_as_the_default(
    secret_service: SecretServiceSession, action: str
) -> None:
    key = new_key()
    assert cli(secret_service, "key", "set", "--stdin", stdin=key).returncode == 0

    extra = ["--stdin"] if action == "set" else []

    result = cli(secret_service, "key", action, "--source", "", *extra, stdin=new_key())

    assert result.returncode == 2
    assert_sentence(result, "The source name is empty")
    assert stored_keys(secret_service) == {"Chatlio": key}


def test_overwrite_replaces_the_key(secret_service: SecretServiceSession, sandbox: Sandbox) -> None:
    first, second = new_key(), new_key()

    for key in (first, second):
        result = cli(secret_service, "key", "set", "--stdin", stdin=key)
        assert result.returncode == 0, result.stderr

    assert stored_keys(secret_service) == {"Chatlio": second}
    status = cli(secret_service, "key", "status")
    assert masked_in(status.stdout) == (second[:2], second[-2:])
    sent = cli(secret_service, "send", "--event", "conversation-started", "--endpoint", sandbox.url)
    assert sent.returncode == 0, sent.stderr
    assert [event.write_key for event in sandbox.events()] == [second]


def test_delete_then_delete_again(secret_service: SecretServiceSession) -> None:
    key, eu_key = new_key(), new_key()
    cli(secret_service, "key", "set", "--stdin", stdin=key)
    cli(secret_service, "key", "set", "--stdin", "--source", EU_SOURCE, stdin=eu_key)

    deleted = cli(secret_service, "key", "delete")

    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.strip() == (
        f"Deleted the write key for source 'Chatlio' from {GNOME_KEYRING}."
    )
    assert stored_keys(secret_service) == {EU_SOURCE: eu_key}

    again = cli(secret_service, "key", "delete")

    assert again.returncode == 1
    assert again.stdout.strip() == "No write key was stored for source 'Chatlio'."
    assert "Traceback" not in again.stderr

    status = cli(secret_service, "key", "status")
    assert status.returncode == 1
    assert "No write key is stored for source 'Chatlio'" in status.stdout


# Keys that cannot be stored as given


def test_empty_key_is_refused(secret_service: SecretServiceSession) -> None:
    result = cli(secret_service, "key", "set", "--stdin", stdin=" \n")

    assert result.returncode == 2
    assert_sentence(result, "The write key is empty")
    assert result.stdout == ""
    assert secret_service.items() == []


def test_key_with_a_space_inside_is_refused_without_echoing_it(
    secret_service: SecretServiceSession,
) -> None:
    key = new_key()
    head, tail = key[:16], key[16:]

    result = cli(secret_service, "key", "set", "--stdin", stdin=f"{head} {tail}\n")

    assert result.returncode == 2
    assert_sentence(result, "space or line break in the middle")
    assert head not in result.stderr + result.stdout
    assert tail not in result.stderr + result.stdout
    assert secret_service.items() == []


def test_key_of_an_unusual_length_is_stored_with_a_warning(
    secret_service: SecretServiceSession,
) -> None:
    key = new_key(10)  # 20 characters

    result = cli(secret_service, "key", "set", "--stdin", stdin=key)

    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("Warning: This does not look like a Segment write key")
    assert "20 characters" in result.stderr
    assert key not in result.stderr + result.stdout
    assert stored_keys(secret_service) == {"Chatlio": key}


# The prompt without echo


def read_terminal(fd: int, output: bytearray, until: bytes | None, deadline: float) -> None:
    """Read the pty's master into `output` until `until` appears, or to end of file if None."""
    while until is None or until not in output:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"waited for {until!r}; the terminal shows {bytes(output)!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: every process holding the terminal has exited
            chunk = b""
        if not chunk:
            if until is None:
                return
            raise EOFError(f"no {until!r} on the terminal; it shows {bytes(output)!r}")
        output.extend(chunk)


def type_into_prompt(args: list[str], env: dict[str, str], typed: str) -> tuple[int, str]:
    """Run the CLI on a new pseudo-terminal, type `typed` and Enter at the prompt.

    Returns the exit code and everything the terminal showed (stdout, stderr and the prompt).
    """
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal, stdin, stdout and stderr
        try:
            os.chdir(REPO)
            os.execve(sys.executable, [sys.executable, "-m", "app", *args], env)
        finally:
            os._exit(127)
    output = bytearray()
    try:
        deadline = time.monotonic() + 20
        read_terminal(fd, output, PROMPT, deadline)
        # getpass turned echo off before it wrote the prompt, so the keystrokes are safe now.
        os.write(fd, typed.encode() + b"\r")
        read_terminal(fd, output, None, deadline)
        _, status = os.waitpid(pid, 0)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_set_prompts_without_echo(secret_service: SecretServiceSession) -> None:
    key = new_key()

    code, shown = type_into_prompt(
        ["key", "set", "--source", EU_SOURCE], cli_env(secret_service), key
    )

    assert code == 0, shown
    assert f"Paste the write key of Segment source '{EU_SOURCE}': " in shown
    assert f"Stored the write key for source '{EU_SOURCE}' in {GNOME_KEYRING}." in shown
    assert key not in shown
    assert stored_keys(secret_service) == {EU_SOURCE: key}


def test_set_with_nothing_typed_at_the_prompt(secret_service: SecretServiceSession) -> None:
    code, shown = type_into_prompt(["key", "set"], cli_env(secret_service), "")

    assert code == 2, shown
    assert "The write key is empty" in shown
    assert "Traceback" not in shown
    assert secret_service.items() == []


def test_set_without_a_terminal_asks_for_stdin_instead(
    secret_service: SecretServiceSession,
) -> None:
    key = new_key()
    # A new session has no controlling terminal, as under cron or CI; stdin is a pipe.
    result = subprocess.run(
        [sys.executable, "-m", "app", "key", "set"],
        input=f"{key}\n",
        capture_output=True,
        text=True,
        env=cli_env(secret_service),
        cwd=REPO,
        timeout=30,
        check=False,
        start_new_session=True,
    )

    assert result.returncode == 2
    assert_sentence(result, "no terminal", "key set --stdin")
    assert "GetPassWarning" not in result.stderr
    assert key not in result.stdout + result.stderr
    assert secret_service.items() == []


# send and the stored key


def test_send_with_no_key_stored(secret_service: SecretServiceSession, sandbox: Sandbox) -> None:
    default = cli(secret_service, "send", "--endpoint", sandbox.url)

    assert default.returncode == 2
    assert_sentence(
        default,
        "No write key is stored for source 'Chatlio'",
        "chatlio-segment-setup key set",
        "--write-key-stdin",
    )

    named = cli(secret_service, "send", "--endpoint", sandbox.url, "--source", EU_SOURCE)

    assert named.returncode == 2
    assert_sentence(
        named,
        f"No write key is stored for source '{EU_SOURCE}'",
        f'chatlio-segment-setup key set --source "{EU_SOURCE}"',
    )
    assert sandbox.events() == []


def test_send_with_an_empty_source_name(
    secret_service: SecretServiceSession, sandbox: Sandbox
) -> None:
    for name in ("", "   "):
        result = cli(secret_service, "send", "--endpoint", sandbox.url, "--source", name)
        assert result.returncode == 2
        assert_sentence(result, "The source name is empty")
    assert sandbox.events() == []


def test_the_environment_and_stdin_win_over_the_stored_key(
    secret_service: SecretServiceSession, sandbox: Sandbox
) -> None:
    stored, from_env, from_stdin = new_key(), new_key(), new_key()
    cli(secret_service, "key", "set", "--stdin", stdin=stored)
    send = ["send", "--event", "conversation-started", "--endpoint", sandbox.url]

    by_env = cli(secret_service, *send, SEGMENT_WRITE_KEY=from_env)
    by_stdin = cli(
        secret_service, *send, "--write-key-stdin", stdin=from_stdin, SEGMENT_WRITE_KEY=from_env
    )

    assert by_env.returncode == 0, by_env.stderr
    assert by_stdin.returncode == 0, by_stdin.stderr
    assert [event.write_key for event in sandbox.events()] == [from_env, from_stdin]


# Without a usable keyring


def test_no_secret_service(dbus_without_secret_service: DBusSession, sandbox: Sandbox) -> None:
    session = dbus_without_secret_service
    key = new_key()
    fix = "To fix this, install and start GNOME Keyring or KWallet"

    stored = cli(session, "key", "set", "--stdin", stdin=key)
    status = cli(session, "key", "status")
    deleted = cli(session, "key", "delete")
    sent = cli(session, "send", "--endpoint", sandbox.url)

    for result in (stored, status, deleted):
        assert result.returncode == 1
        assert_sentence(result, "No system keyring was found", fix)
    assert sent.returncode == 2
    assert_sentence(sent, "No system keyring was found", fix, "--write-key-stdin")
    assert sandbox.events() == []
    # Nothing fell back to a file.
    assert find_leaks(key, [session.home]) == []


def test_locked_keyring(locked_secret_service: SecretServiceSession, sandbox: Sandbox) -> None:
    session = locked_secret_service
    unlock = "To fix this, unlock your keyring"

    stored = cli(session, "key", "set", "--stdin", stdin=new_key())
    status = cli(session, "key", "status")
    deleted = cli(session, "key", "delete")
    sent = cli(session, "send", "--endpoint", sandbox.url)

    for result in (stored, status, deleted):
        assert result.returncode == 1
        assert_sentence(result, "The keyring is locked", unlock)
    assert sent.returncode == 2
    assert_sentence(sent, "The keyring is locked", unlock)
    assert sandbox.events() == []


# The key is in the keyring and nowhere else


def leak_forms(key: str) -> dict[str, bytes]:
    """The key as it might be written: raw, base64, and as the Basic-auth header."""
    userpass = base64.b64encode(f"{key}:".encode()).decode()
    return {
        "the key": key.encode(),
        "base64(key)": base64.b64encode(key.encode()),
        "base64(key + ':')": userpass.encode(),
        "the Authorization header": f"Basic {userpass}".encode(),
    }


def find_leaks(key: str, roots: list[Path]) -> list[str]:
    """'path: form' for each file under `roots` holding any form of `key`."""
    forms = leak_forms(key)
    found = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            data = path.read_bytes()
            found += [f"{path}: {name}" for name, form in forms.items() if form in data]
    return found


def test_the_leak_finder_finds_every_form(tmp_path: Path) -> None:
    key = new_key()
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    for name, form in leak_forms(key).items():
        (nested / name).write_bytes(b"before " + form + b" after")

    found = find_leaks(key, [tmp_path])

    for name in leak_forms(key):
        assert f"{nested / name}: {name}" in found
    assert find_leaks(new_key(), [tmp_path]) == []


def test_the_key_leaks_nowhere(secret_service: SecretServiceSession, sandbox: Sandbox) -> None:
    key = new_key()
    tmp = secret_service.home / "tmp"
    tmp.mkdir()
    roots = [
        secret_service.home,
        secret_service.config_home,
        secret_service.data_home,
        secret_service.cache_home,
        secret_service.state_home,
        tmp,
    ]
    env = {"TMPDIR": str(tmp), "TMP": str(tmp), "TEMP": str(tmp)}

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_cli(
            *args,
            stdin=stdin,
            env=cli_env(secret_service, **env),
            real_keyring=True,
            cwd=secret_service.home,
            timeout=30,
        )

    results = [
        run("key", "set", "--stdin", "--source", EU_SOURCE, stdin=f"{key}\n"),
        run("send", "--all", "--verbose", "--endpoint", sandbox.url, "--source", EU_SOURCE),
        run("send", "--all", "--batch", "--json", "--endpoint", sandbox.url, "--source", EU_SOURCE),
        run("key", "status", "--source", EU_SOURCE),
    ]

    for result in results:
        assert result.returncode == 0, result.stderr
    # The key really went out, so each form existed in the CLI's memory.
    events = sandbox.events()
    assert len(events) > 2
    assert {event.write_key for event in events} == {key}
    for result in results:
        for name, form in leak_forms(key).items():
            assert form.decode() not in result.stdout, f"{name} on stdout: {result.args}"
            assert form.decode() not in result.stderr, f"{name} on stderr: {result.args}"
    assert find_leaks(key, roots) == []

    # gnome-keyring-daemon runs with its own HOME here, so the CLI's XDG_DATA_HOME/keyrings
    # (scanned above) stays empty. Its store is checked too, not excluded: the login keyring
    # has a password, so it must be in the binary, encrypted format and not hold the key in
    # the clear (with an empty password gnome-keyring would write a plain-text file).
    keyring_files = sorted(p for p in secret_service.keyring_dir.rglob("*") if p.is_file())
    assert any(p.suffix == ".keyring" for p in keyring_files)
    for path in keyring_files:
        if path.suffix == ".keyring":
            assert path.read_bytes().startswith(ENCRYPTED_KEYRING_MAGIC), path
    assert find_leaks(key, [secret_service.keyring_dir]) == []
