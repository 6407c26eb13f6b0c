"""`chatlio-segment-setup --endpoint URL` (and `--api-endpoint URL`) with no command opens the
app sending (and asking the Public API) there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.__main__ import gui_addresses, main
from app.ui.app import EXIT_AFTER_PAINT_ENV


def test_only_the_addresses_mean_the_app() -> None:
    assert gui_addresses(["--endpoint", "https://events.example.com"]) == {
        "--endpoint": "https://events.example.com"
    }
    assert gui_addresses(["--endpoint=http://127.0.0.1:8471"]) == {
        "--endpoint": "http://127.0.0.1:8471"
    }
    assert gui_addresses(["--api-endpoint", "http://127.0.0.1:1/public-api", "--endpoint=x"]) == {
        "--api-endpoint": "http://127.0.0.1:1/public-api",
        "--endpoint": "x",
    }
    assert gui_addresses([]) == {}
    for command in (
        ["send", "--endpoint", "x"],
        ["--endpoint"],
        ["--endpoint", "x", "--endpoint", "y"],
        ["--endpoint", "x", "send"],
        ["--verbose"],
    ):
        assert gui_addresses(command) is None, command


def test_the_checked_address_reaches_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.segment.endpoint import Endpoint, Region
    from app.segment.public_api.hosts import ApiEndpoint
    from app.ui import app as gui

    opened: list[tuple[Endpoint | None, ApiEndpoint | None]] = []

    def run_gui(
        argv: object, endpoint: Endpoint | None = None, api_endpoint: ApiEndpoint | None = None
    ) -> int:
        opened.append((endpoint, api_endpoint))
        return 0

    monkeypatch.setattr(gui, "run_gui", run_gui)
    assert main(["--endpoint=http://localhost:8471/"]) == 0
    assert main([]) == 0
    assert main(["--api-endpoint", "http://127.0.0.1:8471/public-api"]) == 0
    assert opened == [
        (Endpoint("http://localhost:8471", Region.LOCAL), None),
        (None, None),
        (None, ApiEndpoint("http://127.0.0.1:8471/public-api", Region.LOCAL)),
    ]


def test_a_bad_address_is_a_sentence_and_no_window(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--endpoint", "http://events.example.com"]) == 2
    err = capsys.readouterr().err
    assert "unencrypted" in err
    assert "Traceback" not in err
    assert main(["--api-endpoint", "http://api.example.com"]) == 2
    err = capsys.readouterr().err
    assert "http" in err
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


@pytest.mark.parametrize("option", ["--endpoint", "--api-endpoint"])
def test_the_app_s_options_before_a_command_say_where_they_go(
    option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([option, "http://127.0.0.1:8471", "token", "status"]) == 2
    err = capsys.readouterr().err
    assert f"put it after the command: chatlio-segment-setup send {option} URL" in err
    assert "Traceback" not in err
