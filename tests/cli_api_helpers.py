"""What the Public API command tests share: the CLI on a test's keyring, a terminal, leak search."""

from __future__ import annotations

import base64
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from app.segment import SANDBOX_TOKEN
from tests.secret_service import DBusSession

REPO = Path(__file__).resolve().parents[1]
GNOME_KEYRING = "GNOME Keyring (Secret Service)"
TOKEN_ENV = "SEGMENT_API_TOKEN"
# The only token the sandbox's Public API accepts: the one these tests plant and look for.
TOKEN = SANDBOX_TOKEN


def cli_env(session: DBusSession | None, **extra: str) -> dict[str, str]:
    """A subprocess environment on `session`'s bus and HOME; no key or token inherited."""
    env = session.environ() if session is not None else dict(os.environ)
    for name in ("SEGMENT_WRITE_KEY", TOKEN_ENV):
        env.pop(name, None)
    env.update(extra)
    return env


def cli(
    session: DBusSession | None, *args: str, stdin: str | None = None, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess: on `session`'s keyring, or with keyring's fail backend."""
    env = cli_env(session, **extra_env)
    if session is None:
        env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=env,
        timeout=90,
        check=False,
        cwd=REPO,
    )


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr


def leak_forms(secret: str) -> dict[str, bytes]:
    """The secret as it might be written: raw, base64, Basic-auth user, bearer header."""
    userpass = base64.b64encode(f"{secret}:".encode()).decode()
    return {
        "the secret": secret.encode(),
        "base64(secret)": base64.b64encode(secret.encode()),
        "base64(secret + ':')": userpass.encode(),
    }


def leaks_in_text(secret: str, text: str) -> list[str]:
    return [name for name, form in leak_forms(secret).items() if form.decode() in text]


def leaks_in_files(secret: str, roots: Sequence[Path]) -> list[str]:
    """'path: form' for each file under `roots` holding any form of `secret`."""
    found = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            data = path.read_bytes()
            found += [f"{path}: {n}" for n, form in leak_forms(secret).items() if form in data]
    return found


class Terminal:
    """The CLI on a new pseudo-terminal: wait for text, type a line, read to the end.

    Use it as a context manager: a test that fails before `finish()` kills the program.
    """

    def __init__(self, args: Sequence[str], env: dict[str, str]) -> None:
        self.output = bytearray()
        self._ended = False
        self._deadline = time.monotonic() + 60
        self.pid, self._fd = pty.fork()
        if self.pid == 0:  # the child: the pty is its terminal, stdin, stdout and stderr
            try:
                os.chdir(REPO)
                os.execve(sys.executable, [sys.executable, "-m", "app", *args], env)
            finally:
                os._exit(127)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *_exc: object) -> None:
        if not self._ended:
            self.kill()

    def wait_for(self, text: str) -> None:
        self._read(text.encode())

    def type(self, line: str) -> None:
        os.write(self._fd, line.encode() + b"\r")

    def finish(self) -> tuple[int, str]:
        """Read until the program exits; its exit code and everything the terminal showed."""
        self._read(None)
        _, status = os.waitpid(self.pid, 0)
        self._ended = True
        os.close(self._fd)
        return os.waitstatus_to_exitcode(status), self.shown

    def kill(self) -> None:
        self._ended = True
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self._fd)

    @property
    def shown(self) -> str:
        return self.output.decode(errors="replace")

    def _read(self, until: bytes | None) -> None:
        while until is None or until not in self.output:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"waited for {until!r}; the terminal shows {self.shown!r}")
            ready, _, _ = select.select([self._fd], [], [], remaining)
            if not ready:
                continue
            try:
                chunk = os.read(self._fd, 4096)
            except OSError:  # EIO: every process holding the terminal has exited
                chunk = b""
            if not chunk:
                if until is None:
                    return
                raise EOFError(f"no {until!r} on the terminal; it shows {self.shown!r}")
            self.output.extend(chunk)
