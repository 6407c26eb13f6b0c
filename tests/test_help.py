"""Help: every topic in plain words, one window reused, links opened in the browser."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QApplication, QLineEdit, QTextBrowser, QWidget
from pytestqt.qtbot import QtBot

from app.ui import browser
from app.ui.help import TOPICS, show_help

JARGON = re.compile(
    r"2xx|\bdns\b|\bconnection\b|ConnectError|ReadTimeout|\d\s?ms\b|\b1 tries|\bHTTP\b|"
    r"\bstatus code|\b[1-5]\d\d\b",
    re.IGNORECASE,
)


def help_windows() -> list[QWidget]:
    return [
        widget
        for widget in QApplication.topLevelWidgets()
        if widget.objectName() == "help_window" and widget.isVisible()
    ]


def help_text(parent: QWidget) -> QTextBrowser:
    window = parent.window().findChild(QWidget, "help_window")
    assert isinstance(window, QWidget)
    text = window.findChild(QTextBrowser, "help_text")
    assert isinstance(text, QTextBrowser)
    return text


@pytest.fixture
def owner(qtbot: QtBot) -> QWidget:
    widget = QWidget()
    widget.setWindowTitle("Owner")
    qtbot.addWidget(widget)
    widget.show()
    return widget


@pytest.mark.parametrize("topic", list(TOPICS))
def test_every_topic_has_its_title_and_plain_words(owner: QWidget, topic: str) -> None:
    show_help(owner, topic)
    text = help_text(owner).toPlainText()
    assert text.startswith(TOPICS[topic])
    assert len(text) > len(TOPICS[topic]) + 200
    assert not JARGON.search(text), JARGON.search(text)


def test_an_unknown_topic_shows_the_overview(owner: QWidget) -> None:
    show_help(owner, "no such topic")
    text = help_text(owner).toPlainText()
    assert text.startswith("Help")
    for step in ("Send test events", "Paste the key into Chatlio", "the test screen"):
        assert step in text


def test_the_window_is_reused_and_shows_the_new_topic(owner: QWidget, qtbot: QtBot) -> None:
    show_help(owner, "welcome")
    first = owner.findChild(QWidget, "help_window")
    show_help(owner, "chatlio")
    assert owner.findChild(QWidget, "help_window") is first
    assert len(owner.findChildren(QWidget, "help_window")) == 1
    assert len(help_windows()) == 1
    assert help_text(owner).toPlainText().startswith(TOPICS["chatlio"])
    assert isinstance(first, QWidget)
    assert first.isVisible()
    assert first.isWindow()
    assert not first.isModal()
    qtbot.keyClick(help_text(owner), Qt.Key.Key_Escape)
    assert not first.isVisible()


def test_the_window_moves_to_a_new_owner(owner: QWidget, qtbot: QtBot) -> None:
    show_help(owner, "finish")
    first = owner.findChild(QWidget, "help_window")
    other = QWidget()
    qtbot.addWidget(other)
    other.show()
    show_help(other, "main")
    assert other.findChild(QWidget, "help_window") is first
    assert owner.findChild(QWidget, "help_window") is None
    assert len(help_windows()) == 1


def test_a_link_opens_in_the_browser(
    owner: QWidget, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(browser, "open_url", opened.append)
    show_help(owner, "chatlio")
    text = help_text(owner)
    text.anchorClicked.emit(QUrl("https://chatlio.com/app/"))
    assert opened == ["https://chatlio.com/app/"]
    assert text.toPlainText().startswith(TOPICS["chatlio"])  # the help stays where it was


def test_a_help_link_shows_that_topic_without_the_browser(
    owner: QWidget, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(browser, "open_url", opened.append)
    show_help(owner, "finish")
    help_text(owner).anchorClicked.emit(QUrl("help:main"))
    assert help_text(owner).toPlainText().startswith(TOPICS["main"])
    assert opened == []


def test_every_link_in_the_help_is_https_or_another_topic(owner: QWidget) -> None:
    for topic in TOPICS:
        show_help(owner, topic)
        html = help_text(owner).toHtml()
        for href in re.findall(r'href="([^"]*)"', html):
            assert href.startswith("https://") or href.removeprefix("help:") in {
                *TOPICS,
                "overview",
            }, href


def test_when_the_browser_does_not_open_the_address_is_shown_to_copy(
    owner: QWidget, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(url: str) -> None:
        raise browser.UrlNotOpened(url)

    monkeypatch.setattr(browser, "open_url", refuse)
    show_help(owner, "chatlio")
    help_text(owner).anchorClicked.emit(QUrl("https://chatlio.com/app/"))
    address = owner.window().findChild(QLineEdit, "help_address")
    assert isinstance(address, QLineEdit)
    assert address.isVisible()
    assert address.text() == "https://chatlio.com/app/"


def test_the_help_window_is_readable_at_its_minimum_size(qtbot: QtBot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    show_help(parent, "write_key")
    window = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "help_window")
    assert window.minimumWidth() >= 320
    assert window.minimumHeight() >= 240
    window.close()
