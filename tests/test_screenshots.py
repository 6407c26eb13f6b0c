"""Every screen rendered with the real xcb platform to build/screenshots/, and no key in any of it.

The PNGs are for people: open them after a change. The test also plants a unique write key,
runs the whole GUI flow with it, and finds it in no visible text, settings file or log line.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QTreeWidget,
    QTreeWidgetItemIterator,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.keystore import KeyStore
from app.segment.endpoint import parse_endpoint
from app.segment.retry import RetryPolicy
from app.segment.sandbox import Sandbox
from app.ui import browser
from app.ui.main_window import MainWindow
from app.ui.send_panel import SendPanel
from app.ui.session import Session
from app.ui.settings import AppSettings
from app.ui.wizard import PageId, SetupWizard
from tests.secret_service import SecretServiceSession
from tests.test_wizard import button, choose_region, click, go_next, line_edit

SHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"


def key_forms(key: str) -> list[str]:
    basic = base64.b64encode(f"{key}:".encode()).decode()
    return [key, basic, f"Basic {basic}", base64.b64encode(key.encode()).decode()]


def visible_text(root: QWidget) -> str:
    """Everything a person could read on screen: labels, fields as displayed, lists, tooltips."""
    parts: list[str] = []
    for widget in [root, *root.findChildren(QWidget)]:
        parts += [widget.toolTip(), widget.accessibleName(), widget.windowTitle()]
        if isinstance(widget, QLabel | QAbstractButton):
            parts.append(widget.text())
        elif isinstance(widget, QLineEdit):
            parts.append(widget.displayText())
        elif isinstance(widget, QPlainTextEdit):
            parts.append(widget.toPlainText())
        elif isinstance(widget, QListWidget):
            parts += [widget.item(i).text() for i in range(widget.count())]
        elif isinstance(widget, QTreeWidget):
            iterator = QTreeWidgetItemIterator(widget)
            while iterator.value():
                item = iterator.value()
                parts += [item.text(c) for c in range(item.columnCount())]
                iterator += 1
    return "\n".join(parts)


class Camera:
    """Saves numbered screenshots and checks each screen for the planted key."""

    def __init__(self, qtbot: QtBot, key: str) -> None:
        self._qtbot, self._forms = qtbot, key_forms(key)
        SHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(self, widget: QWidget, name: str) -> None:
        assert QGuiApplication.platformName() == "xcb", "screenshots need a real X display"
        self._qtbot.waitExposed(widget)
        self._qtbot.wait(50)  # let layouts settle and the progress bars paint
        assert widget.grab().save(str(SHOTS / f"{name}.png"))
        size = widget.size()
        widget.resize(widget.minimumSize())
        self._qtbot.wait(50)
        assert widget.grab().save(str(SHOTS / f"{name}-min.png"))
        widget.resize(size)
        text = visible_text(widget)
        for form in self._forms:
            assert form not in text, f"the write key is visible on {name}"


@pytest.fixture
def planted_key() -> str:
    return secrets.token_hex(16)


def test_every_screen_and_no_key_anywhere(
    qtbot: QtBot,
    tmp_path: Path,
    secret_service: SecretServiceSession,
    sandbox: Sandbox,
    planted_key: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(browser, "open_url", lambda url: None)
    camera = Camera(qtbot, planted_key)
    settings = AppSettings(str(tmp_path / "settings.ini"))
    session = Session(settings, keystore=KeyStore(backend=secret_service.backend()))
    session.custom_endpoint = parse_endpoint(sandbox.url)  # stands in for Segment
    wizard = SetupWizard(session, SendPanel)
    qtbot.addWidget(wizard, before_close_func=lambda w: w.discard())
    wizard.resize(800, 600)
    wizard.show()

    camera.shoot(wizard, "01-welcome")
    choose_region(qtbot, wizard, "us")
    camera.shoot(wizard, "02-welcome-us")
    go_next(qtbot, wizard)
    line_edit(wizard, "workspace_slug").setText("acme-inc")
    camera.shoot(wizard, "03-source")
    go_next(qtbot, wizard)

    line_edit(wizard, "write_key").setText(planted_key)
    camera.shoot(wizard, "04-write-key-entered")
    click(qtbot, button(wizard, "save_key"))
    status = wizard.currentPage().findChild(QWidget, "key_status")
    assert status is not None
    qtbot.waitUntil(lambda: "GNOME Keyring" in visible_text(status), timeout=10_000)
    camera.shoot(wizard, "05-write-key-saved")
    go_next(qtbot, wizard)

    assert wizard.currentId() == PageId.TEST
    panel = wizard.test_panel()
    assert isinstance(panel, SendPanel)
    camera.shoot(wizard, "06-test-events")
    with qtbot.waitSignal(panel.finished, timeout=10_000):
        panel.send_conversation()
    assert [e.write_key for e in sandbox.events()] == [planted_key] * 6
    meaning_label = panel.findChild(QLabel, "meaning")
    assert isinstance(meaning_label, QLabel)
    meaning = meaning_label.text()
    assert "not by Segment itself" in meaning, "an address of the user's is named, honestly"
    visitor = panel.findChild(QLineEdit, "visitor_id")
    assert isinstance(visitor, QLineEdit)
    assert visitor.text() == session.settings.visitor_id
    camera.shoot(wizard, "07-test-events-sent")
    session.retry = RetryPolicy(max_attempts=3, initial_backoff=0.05)
    sandbox.fail_next(503, times=20)
    with qtbot.waitSignal(panel.finished, timeout=20_000):
        panel.send_event("Live Chat Message Sent")
    camera.shoot(wizard, "08-test-events-failed")
    go_next(qtbot, wizard)

    camera.shoot(wizard, "09-connect-chatlio")
    for tick in wizard.currentPage().findChildren(QCheckBox):
        click(qtbot, tick)
    go_next(qtbot, wizard)
    camera.shoot(wizard, "10-destinations")
    go_next(qtbot, wizard)
    camera.shoot(wizard, "11-finish")
    wizard.accept()
    assert settings.setup_complete

    eu = SetupWizard(Session(AppSettings(str(tmp_path / "eu.ini"))), SendPanel)
    qtbot.addWidget(eu, before_close_func=lambda w: w.discard())
    eu.resize(800, 600)
    eu.show()
    choose_region(qtbot, eu, "eu")
    go_next(qtbot, eu)
    camera.shoot(eu, "12-eu-workspace")

    returning = Session(settings, keystore=KeyStore(backend=secret_service.backend()))
    returning.custom_endpoint = parse_endpoint(sandbox.url)
    window = MainWindow(returning)
    qtbot.addWidget(window)
    window.resize(800, 600)
    window.show()
    qtbot.waitUntil(lambda: returning.write_key() == planted_key, timeout=10_000)
    sandbox.clear_faults()
    with qtbot.waitSignal(window.panel.finished, timeout=10_000):
        window.panel.send_conversation()
    camera.shoot(window, "13-returning-user")
    window.close()

    settings.sync()
    files = [*tmp_path.rglob("*"), *(p for p in SHOTS.glob("*") if p.suffix != ".png")]
    for path in [p for p in files if p.is_file()]:
        content = path.read_bytes()
        for form in key_forms(planted_key):
            assert form.encode() not in content, f"the write key leaked into {path}"
    for form in key_forms(planted_key):
        assert form not in caplog.text
    session.close()
    returning.close()


@pytest.mark.parametrize(
    ("scale", "dark"), [pytest.param("2", False, id="2x"), pytest.param("1", True, id="dark")]
)
def test_every_screen_at_2x_and_in_dark(tmp_path: Path, scale: str, dark: bool) -> None:
    """The renderer draws each screen in its own process: scaling is fixed when Qt starts."""
    out = SHOTS / ("dark" if dark else f"scale-{scale}")
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "QT_SCALE_FACTOR": scale}
    env["XDG_CONFIG_HOME"] = str(tmp_path)
    command = [sys.executable, "-m", "tests.render_screens", str(out)]
    result = subprocess.run(
        [*command, *(["--dark"] if dark else [])],
        capture_output=True,
        text=True,
        env=env,
        timeout=90,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    shots = [line.split() for line in result.stdout.splitlines()]
    assert len(shots) >= 20
    for name, width in shots:
        shot = Path(name)
        image = QImage(str(shot))
        assert not image.isNull(), shot
        assert image.width() == int(width) * int(scale), f"{shot.name} not drawn at {scale}x"
        if dark:
            middle = image.pixelColor(image.width() // 2, image.height() - 8)
            assert middle.lightness() < 128, f"{shot.name} is not dark"
