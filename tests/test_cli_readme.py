"""The README's Public API flow against the sandbox runs as written, and prints what it shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.segment.sandbox import Sandbox
from tests.cli_api_helpers import REPO
from tests.secret_service import SecretServiceSession

pytestmark = pytest.mark.keyring

README = REPO / "README.md"
README_PORT = "8471"


def flow_commands() -> list[tuple[str, list[str]]]:
    """Each `$ command` of the second console block after "The whole flow", with what the
    README shows it printing ("…" lines left out)."""
    text = README.read_text()
    after = text.split("The whole flow, against the sandbox", 1)[1]
    blocks = re.findall(r"```console\n(.*?)```", after, flags=re.DOTALL)
    steps: list[tuple[str, list[str]]] = []
    for line in blocks[1].splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif line.strip() != "…":
            steps[-1][1].append(line)
    return steps


def test_the_readme_flow_runs_as_written(secret_service: SecretServiceSession) -> None:
    steps = flow_commands()
    assert [command.split()[1] for command, _ in steps[1:]] == ["source", "source", "send", "key"]
    with Sandbox() as sandbox:
        port = sandbox.url.rsplit(":", 1)[1]
        env = secret_service.environ()
        env.pop("SEGMENT_WRITE_KEY", None)
        env.pop("SEGMENT_API_TOKEN", None)
        bin_dir = Path(sys.executable).parent
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
        script = "set -e\n" + "\n".join(
            f"echo '>>> {index}'\n{command.replace(README_PORT, port)}"
            for index, (command, _) in enumerate(steps)
        )
        result = subprocess.run(
            ["bash", "-c", script],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            timeout=120,
            check=False,
        )

    assert result.returncode == 0, result.stdout + result.stderr
    outputs = re.split(r">>> \d+\n", result.stdout)[1:]
    assert len(outputs) == len(steps)
    for (command, shown), printed in zip(steps, outputs, strict=True):
        for line in shown:
            assert line.replace(README_PORT, port) in printed, (command, printed)
    assert "Traceback" not in result.stderr
