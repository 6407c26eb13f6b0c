"""`chatlio-segment-setup --endpoint URL` with no command opens the app sending there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.__main__ import gui_endpoint, main
from app.ui.app import EXIT_AFTER_PAINT_ENV


def test_only_endpoint_means_the_app() -> None:
    assert gui_endpoint(["--endpoint", "https://events.example.com"]) == (
        "https://events.example.com"
    )
    assert gui_endpoint(["--endpoint=http://127.0.0.1:8471"]) == "http://127.0.0.1:8471"
    assert gui_endpoint(["send", "--endpoint", "x"]) is None
    assert gui_endpoint([]) is None


def test_the_checked_address_reaches_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.segment.endpoint import Endpoint, Region
    from app.ui import app as gui

    opened: list[Endpoint | None] = []

    def run_gui(argv: object, endpoint: Endpoint | None = None) -> int:
        opened.append(endpoint)
        return 0

    monkeypatch.setattr(gui, "run_gui", run_gui)
    assert main(["--endpoint=http://localhost:8471/"]) == 0
    assert main([]) == 0
    assert opened == [Endpoint("http://localhost:8471", Region.LOCAL), None]


def test_a_bad_address_is_a_sentence_and_no_window(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--endpoint", "http://events.example.com"]) == 2
    err = capsys.readouterr().err
    assert "unencrypted" in err
    assert "Traceback" not in err


@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs a display (pytest-xvfb)")
def test_the_app_opens_with_the_address(tmp_path: Path) -> None:
    env = {**os.environ, EXIT_AFTER_PAINT_ENV: "1", "XDG_CONFIG_HOME": str(tmp_path)}
    env["QT_QPA_PLATFORM"] = "xcb"
    result = subprocess.run(
        [sys.executable, "-m", "app", "--endpoint", "http://127.0.0.1:8471"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "first-paint" in result.stdout
    assert not list(tmp_path.rglob("*.ini")) or "8471" not in "".join(
        p.read_text() for p in tmp_path.rglob("*.ini")
    ), "an address from the command line is not saved"
