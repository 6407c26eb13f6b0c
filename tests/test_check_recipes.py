"""The README's `check` recipes — cron, the systemd units, the GitHub Actions step — run as
written, the secrets where each recipe puts them. Segment's servers cannot be reached here, so
each command gets the sandbox's addresses appended; nothing else about it changes."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from app.segment import SANDBOX_KEY
from app.segment.sandbox import Sandbox
from tests.cli_api_helpers import REPO, TOKEN

README = (REPO / "README.md").read_text()
UNITS = REPO / "packaging" / "systemd"
SERVICE = UNITS / "chatlio-segment-check.service"
TIMER = UNITS / "chatlio-segment-check.timer"


@pytest.fixture
def with_chatlio() -> Iterator[Sandbox]:
    with Sandbox(chatlio_source=True) as running:
        yield running


def section() -> str:
    return README.split("### `check`", 1)[1].split("\n### ", 1)[0]


def block_after(title: str) -> str:
    """The first fenced block after `title` in the check section."""
    after = section().split(title, 1)[1]
    return after.split("```", 2)[1].split("\n", 1)[1]


def sandbox_args(sandbox: Sandbox) -> str:
    return f" --endpoint {sandbox.url} --api-endpoint {sandbox.public_api_url}"


def shell(command: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`command` through /bin/sh, as cron and the unit run it; the app on PATH, no keyring."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SEGMENT_")}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    environment["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    environment.update(env)
    return subprocess.run(
        ["/bin/sh", "-c", command],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def secret_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    path.chmod(0o600)


def test_the_cron_line(with_chatlio: Sandbox, tmp_path: Path) -> None:
    line = block_after("**cron**").strip()
    assert len(line.splitlines()) == 1
    schedule, command = line.split(maxsplit=5)[:5], line.split(maxsplit=5)[5]
    assert schedule == ["*/15", "*", "*", "*", "*"]
    assert "%" not in command  # cron would cut the line there
    config = tmp_path / ".config" / "chatlio-segment-setup"
    secret_file(config / "write-key", SANDBOX_KEY)
    secret_file(config / "api-token", TOKEN)
    (tmp_path / ".cache").mkdir()
    result = shell(command + sandbox_args(with_chatlio), HOME=str(tmp_path))
    log = (tmp_path / ".cache" / "chatlio-segment-check.log").read_text()
    assert result.returncode == 0, log
    assert "The sandbox counted the 4 test events in source Chatlio" in log
    assert "key from file descriptor 3" in log
    assert SANDBOX_KEY not in log


def exec_start() -> str:
    [line] = [x for x in SERVICE.read_text().splitlines() if x.startswith("ExecStart=")]
    return line.removeprefix("ExecStart=")


def test_the_systemd_service(with_chatlio: Sandbox, tmp_path: Path) -> None:
    text = SERVICE.read_text()
    credentials = dict(
        line.removeprefix("LoadCredential=").split(":", 1)
        for line in text.splitlines()
        if line.startswith("LoadCredential=")
    )
    assert credentials == {
        "segment-write-key": "/etc/chatlio-segment-setup/write-key",
        "segment-api-token": "/etc/chatlio-segment-setup/api-token",
    }
    # systemd passes "$$" on as "$": the shell, not systemd, reads the credentials folder.
    program, flag, inner = shlex.split(exec_start().replace("$$", "$"))
    assert (program, flag) == ("/bin/sh", "-c")
    for name in credentials:
        assert f'"${{CREDENTIALS_DIRECTORY}}/{name}"' in inner
    folder = tmp_path / "credentials"
    secret_file(folder / "segment-write-key", SANDBOX_KEY)
    secret_file(folder / "segment-api-token", TOKEN)
    result = shell(inner + sandbox_args(with_chatlio), CREDENTIALS_DIRECTORY=str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "token from file descriptor 4" in result.stdout
    assert [e.payload["integrations"] for e in with_chatlio.events()] == [{"All": False}] * 4


def test_the_units_are_valid_systemd_units() -> None:
    timer = TIMER.read_text()
    assert "OnUnitActiveSec=15min" in timer
    assert "WantedBy=timers.target" in timer
    assert "Type=oneshot" in SERVICE.read_text()
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd package has it)")
    result = subprocess.run(
        [analyze, "verify", str(SERVICE), str(TIMER)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # verify prints what it does not like and still exits 0 for some of it.
    assert not re.search(r"chatlio-segment-check\.(service|timer):", result.stderr), result.stderr


def test_the_github_actions_step(with_chatlio: Sandbox) -> None:
    [step] = yaml.safe_load(block_after("**GitHub Actions**"))
    assert step["env"] == {
        "SEGMENT_WRITE_KEY": "${{ secrets.SEGMENT_WRITE_KEY }}",
        "SEGMENT_API_TOKEN": "${{ secrets.SEGMENT_API_TOKEN }}",
    }
    install, command = step["run"].strip().splitlines()
    assert install.startswith("pip install ")  # there is no network here to run it
    assert "git+https://github.com/chatlio-segment-setup/chatlio-segment-setup" in install
    result = shell(
        command + sandbox_args(with_chatlio), SEGMENT_WRITE_KEY=SANDBOX_KEY, SEGMENT_API_TOKEN=TOKEN
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["status"] == "confirmed"
