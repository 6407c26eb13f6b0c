"""Run the real command line in a subprocess, as scripts and CI will."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(
    *args: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    real_keyring: bool = False,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m app ARGS` with a clean environment: no inherited write key, no real keyring.

    real_keyring=True leaves the keyring backend to keyring's own detection (for tests that pass
    a Secret Service session's `environ()` as `env`) instead of forcing keyring's fail backend.
    """
    base = {k: v for k, v in os.environ.items() if k != "SEGMENT_WRITE_KEY"}
    if not real_keyring:
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
        cwd=cwd,
    )
