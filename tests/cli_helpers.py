"""Run the real command line in a subprocess, as scripts and CI will."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m app ARGS` with a clean environment: no inherited write key, no real keyring."""
    base = {k: v for k, v in os.environ.items() if k != "SEGMENT_WRITE_KEY"}
    base["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=base,
        timeout=timeout,
        check=False,
    )
