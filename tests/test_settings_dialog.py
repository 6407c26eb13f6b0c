"""The settings dialog: checked as typed; OK saves and reloads the session; Cancel saves nothing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TypeVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app import sending
from app.segment.endpoint import Region, parse_endpoint
from app.segment.proxy import ProxyMode
from app.ui.session import Session
from app.ui.settings import AppSettings
from app.ui.settings_dialog import MIN_DEADLINE, SettingsDialog

T = TypeVar("T", bound=QWidget)


def make(tmp_path: Path, qtbot: QtBot, text: str = "") -> tuple[SettingsDialog, Session]:
    path = tmp_path / "settings.ini"
    if text:
        path.write_text(text)
    session = Session(AppSettings(str(path)))
    dialog = SettingsDialog(session)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog, session


def child(dialog: QWidget, kind: type[T], name: str) -> T:
    widget = dialog.findChild(kind, name)
    assert isinstance(widget, kind), name
    return widget


def ok(dialog: SettingsDialog) -> QPushButton:
    return child(dialog, QPushButton, "settings_ok")


def notice_text(dialog: SettingsDialog, name: str) -> str:
    notice = child(dialog, QWidget, name)
    if not notice.isVisible():
        return ""
    return " ".join(label.text() for label in notice.findChildren(QLabel) if label.text())


def test_a_bad_address_blocks_ok_with_a_sentence(tmp_path: Path, qtbot: QtBot) -> None:
    dialog, _session = make(tmp_path, qtbot)
    endpoint = child(dialog, QLineEdit, "endpoint")
    assert endpoint.placeholderText() == "https://api.segment.io"
    assert ok(dialog).isEnabled()
    qtbot.keyClicks(endpoint, "https://api.segment.io/v1/track")
    assert not ok(dialog).isEnabled()
    assert "without a path" in notice_text(dialog, "endpoint_notice")
    endpoint.setText("not an address at all")
    assert not ok(dialog).isEnabled()
    assert "space" in notice_text(dialog, "endpoint_notice")
    qtbot.keyClick(endpoint, Qt.Key.Key_Return)  # Enter does not accept while wrong
    assert dialog.isVisible()


def test_plain_http_to_another_computer_is_refused(tmp_path: Path, qtbot: QtBot) -> None:
    dialog, _session = make(tmp_path, qtbot)
    child(dialog, QLineEdit, "endpoint").setText("http://collector.example.com")
    assert not ok(dialog).isEnabled()
    assert "unencrypted" in notice_text(dialog, "endpoint_notice")


def test_ok_saves_and_the_session_follows(tmp_path: Path, qtbot: QtBot) -> None:
    dialog, session = make(tmp_path, qtbot)
    child(dialog, QLineEdit, "endpoint").setText("http://127.0.0.1:8471")
    assert ok(dialog).isEnabled()
    assert notice_text(dialog, "endpoint_notice") == ""
    child(dialog, QRadioButton, "proxy_manual").setChecked(True)
    proxy = child(dialog, QLineEdit, "proxy_url")
    assert proxy.isEnabled()
    assert not ok(dialog).isEnabled()  # an empty proxy address
    proxy.setText("proxy.example.com:3128")
    child(dialog, QSpinBox, "send_timeout").setValue(120)
    with qtbot.waitSignal(session.changed):
        qtbot.keyClick(proxy, Qt.Key.Key_Return)  # Enter = OK
    assert not dialog.isVisible()
    assert session.custom_endpoint is not None
    assert session.custom_endpoint.base_url == "http://127.0.0.1:8471"
    assert session.proxy.mode is ProxyMode.MANUAL
    assert session.proxy.url == "http://proxy.example.com:3128"
    assert session.deadline == 120
    saved = AppSettings(session.settings.path)
    assert saved.endpoint == "http://127.0.0.1:8471"
    assert saved.proxy_mode == "manual"
    assert saved.send_timeout == 120


def test_segments_own_address_is_saved_as_empty(tmp_path: Path, qtbot: QtBot) -> None:
    dialog, session = make(tmp_path, qtbot, "[network]\nendpoint=http://127.0.0.1:9\n")
    assert session.custom_endpoint is not None
    child(dialog, QLineEdit, "endpoint").setText("api.segment.io/")
    ok(dialog).click()
    assert session.settings.endpoint == ""
    assert session.custom_endpoint is None


def test_the_eu_host_is_accepted_with_a_warning(tmp_path: Path, qtbot: QtBot) -> None:
    dialog, _session = make(tmp_path, qtbot)
    child(dialog, QLineEdit, "endpoint").setText("https://events.eu1.segmentapis.com")
    assert ok(dialog).isEnabled()
    assert "Chatlio sources exist only in US workspaces" in notice_text(dialog, "endpoint_notice")


def test_a_bad_proxy_is_named_under_its_field(tmp_path: Path, qtbot: QtBot) -> None:
    dialog, _session = make(tmp_path, qtbot)
    child(dialog, QRadioButton, "proxy_manual").setChecked(True)
    child(dialog, QLineEdit, "proxy_url").setText("socks5://proxy.example.com:1080")
    assert not ok(dialog).isEnabled()
    assert "only http:// and https:// proxies" in notice_text(dialog, "proxy_notice")
    child(dialog, QRadioButton, "proxy_none").setChecked(True)  # the field no longer counts
    assert ok(dialog).isEnabled()
    assert not child(dialog, QLineEdit, "proxy_url").isEnabled()


def test_cancel_saves_nothing(tmp_path: Path, qtbot: QtBot) -> None:
    dialog, session = make(tmp_path, qtbot)
    changes: list[None] = []
    session.changed.connect(lambda: changes.append(None))
    child(dialog, QLineEdit, "endpoint").setText("https://collector.example.com")
    child(dialog, QRadioButton, "proxy_none").setChecked(True)
    child(dialog, QSpinBox, "send_timeout").setValue(300)
    dialog.activateWindow()
    qtbot.waitActive(dialog)
    qtbot.keyClick(dialog.focusWidget() or dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert changes == []
    assert session.custom_endpoint is None
    assert session.proxy.mode is ProxyMode.SYSTEM
    assert session.deadline == sending.DEFAULT_DEADLINE
    saved = Path(session.settings.path)
    assert not saved.exists() or "network" not in saved.read_text()


def test_restore_defaults_resets_the_fields_and_saves_only_on_ok(
    tmp_path: Path, qtbot: QtBot
) -> None:
    stored = (
        "[network]\nendpoint=https://collector.example.com\nproxy_mode=none\nsend_timeout=300\n"
    )
    dialog, session = make(tmp_path, qtbot, stored)
    assert child(dialog, QLineEdit, "endpoint").text() == "https://collector.example.com"
    assert child(dialog, QRadioButton, "proxy_none").isChecked()
    assert child(dialog, QSpinBox, "send_timeout").value() == 300
    child(dialog, QPushButton, "settings_defaults").click()
    assert child(dialog, QLineEdit, "endpoint").text() == ""
    assert child(dialog, QRadioButton, "proxy_system").isChecked()
    assert child(dialog, QSpinBox, "send_timeout").value() == 60
    assert session.settings.endpoint == "https://collector.example.com"  # not yet saved
    ok(dialog).click()
    assert session.settings.endpoint == ""
    assert session.settings.proxy_mode == "system"
    assert session.deadline == 60


def test_an_address_from_the_command_line_is_shown_read_only_and_not_saved(
    tmp_path: Path, qtbot: QtBot
) -> None:
    session = Session(AppSettings(str(tmp_path / "settings.ini")))
    session.use_endpoint_from_command_line(parse_endpoint("http://127.0.0.1:8471"))
    dialog = SettingsDialog(session)
    qtbot.addWidget(dialog)
    dialog.show()
    endpoint = child(dialog, QLineEdit, "endpoint")
    assert endpoint.isReadOnly()
    assert endpoint.text() == "http://127.0.0.1:8471"
    sentence = child(dialog, QLabel, "endpoint_from_command_line")
    assert sentence.isVisible()
    assert "command line" in sentence.text()
    assert "not saved" in sentence.text()
    child(dialog, QPushButton, "settings_defaults").click()
    assert endpoint.text() == "http://127.0.0.1:8471"
    ok(dialog).click()
    assert session.settings.endpoint == ""
    assert session.custom_endpoint is not None
    assert session.custom_endpoint.region is Region.LOCAL


@pytest.mark.parametrize(
    "stored",
    [
        "[network]\nendpoint=ftp://x y\nproxy_mode=carrier-pigeon\nsend_timeout=soon\n",
        "[network]\nproxy_mode=manual\nproxy_url=socks5://nope\nsend_timeout=-4\n",
        "[network]\nsend_timeout=99999\n",
    ],
)
def test_a_file_with_bad_values_still_opens_with_defaults(
    tmp_path: Path, qtbot: QtBot, stored: str
) -> None:
    dialog, _session = make(tmp_path, qtbot, stored)
    assert child(dialog, QLineEdit, "endpoint").text() == ""
    assert child(dialog, QRadioButton, "proxy_system").isChecked()
    timeout = child(dialog, QSpinBox, "send_timeout").value()
    assert timeout in (60, 3600)
    assert ok(dialog).isEnabled()


def test_the_time_limit_matches_the_senders_bounds(tmp_path: Path, qtbot: QtBot) -> None:
    dialog, _session = make(tmp_path, qtbot)
    timeout = child(dialog, QSpinBox, "send_timeout")
    assert timeout.minimum() == MIN_DEADLINE
    assert timeout.maximum() == sending.MAX_DEADLINE
    assert timeout.value() == sending.DEFAULT_DEADLINE


def test_every_control_has_a_name_and_its_own_mnemonic(tmp_path: Path, qtbot: QtBot) -> None:
    dialog, _session = make(tmp_path, qtbot)
    assert dialog.windowTitle() == "Settings"
    assert dialog.objectName() == "settings_dialog"
    mnemonics: list[str] = []
    labels = dialog.findChildren(QLabel)
    for control in dialog.findChildren(QWidget):
        if not control.isVisibleTo(dialog) or not isinstance(
            control, QAbstractButton | QLineEdit | QSpinBox
        ):
            continue
        if control.parent() is not None and isinstance(control.parent(), QSpinBox | QLineEdit):
            continue  # the parts inside a spin box or a line edit's clear button
        assert control.accessibleName(), control.objectName()
        if isinstance(control, QAbstractButton):
            text = control.text()
        else:
            if control.objectName() == "proxy_url":
                continue  # reached by its radio button's mnemonic (a test below)
            text = next((label.text() for label in labels if label.buddy() is control), "")
        found = re.search(r"&(\w)", text)
        assert found, f"{control.objectName()} has no mnemonic: {text!r}"
        mnemonics.append(found.group(1).lower())
    assert len(mnemonics) == len(set(mnemonics)), mnemonics
    assert len(mnemonics) >= 8


def test_the_proxy_mnemonic_leads_to_its_field(tmp_path: Path, qtbot: QtBot) -> None:
    dialog, _session = make(tmp_path, qtbot)
    dialog.activateWindow()
    qtbot.waitActive(dialog)
    endpoint = child(dialog, QLineEdit, "endpoint")
    endpoint.setFocus()
    qtbot.waitUntil(endpoint.hasFocus)
    qtbot.keyClick(endpoint, Qt.Key.Key_H, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(child(dialog, QRadioButton, "proxy_manual").isChecked)  # an animated click
    qtbot.waitUntil(child(dialog, QLineEdit, "proxy_url").hasFocus)


def test_the_dialog_fits_at_its_minimum_size(tmp_path: Path, qtbot: QtBot) -> None:
    dialog, _session = make(tmp_path, qtbot)
    dialog.resize(dialog.minimumSize())
    for name in ("settings_ok", "settings_cancel", "settings_defaults"):
        button = child(dialog, QPushButton, name)
        corner = button.mapTo(dialog, button.rect().bottomRight())
        assert dialog.rect().contains(corner), name
    endpoint = child(dialog, QLineEdit, "endpoint")
    assert endpoint.width() >= 200
