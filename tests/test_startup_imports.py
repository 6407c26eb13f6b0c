"""The first window paints before anything heavy is imported (a guard, not a timing test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.ui.app import EXIT_AFTER_PAINT_ENV

HEAVY = (
    "httpx",
    # The send history (SQLite): read on a worker once a view asks for it.
    "sqlite3",
    "app.history",
    "keyring",
    "uuid",
    "app.keystore",
    "app.ui.key_entry",
    "app.ui.send_panel",
    "app.ui.response_view",
    # The Public API's client, its use cases and the token's widgets: only once asked for.
    "app.proof",
    "app.segment.public_api",
    "app.token_store",
    "app.ui.token_entry",
    "app.ui.api_task",
    # Every page but the first, which alone is built before the first paint.
    "app.ui.pages.source",
    "app.ui.pages.write_key",
    "app.ui.pages.test_events",
    "app.ui.pages.chatlio",
    "app.ui.pages.destinations",
    "app.ui.pages.finish",
    "app.ui.pages.eu_workspace",
)


@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs a display (pytest-xvfb)")
def test_nothing_heavy_is_imported_before_the_first_paint(tmp_path: Path) -> None:
    env = {**os.environ, EXIT_AFTER_PAINT_ENV: "1", "XDG_CONFIG_HOME": str(tmp_path)}
    env["QT_QPA_PLATFORM"] = "xcb"
    # -X importtime writes each import to stderr as it happens; merged with stdout, the
    # order shows what was imported before the app printed its first-paint line.
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "app"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    before, marker, _after = result.stdout.partition("first-paint")
    assert marker, "the app never reported its first paint"
    imported = {line.rsplit("|", 1)[-1].strip() for line in before.splitlines() if "|" in line}
    assert "app.ui.wizard" in imported
    assert "app.ui.pages.welcome" in imported
    assert sorted(set(HEAVY) & imported) == []
