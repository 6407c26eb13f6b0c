"""Opening web pages: one function that tests replace, and a button that falls back to copying."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget


class UrlNotOpened(Exception):
    """The desktop did not open a web address; the caller shows it for copying instead."""


def open_url(url: str) -> None:
    """Open `url` in the user's browser; raise UrlNotOpened when the desktop could not."""
    if not QDesktopServices.openUrl(QUrl(url)):
        raise UrlNotOpened(url)


def open_or_offer(url: str, label: QLabel, field: QLineEdit) -> None:
    """Open `url` in the browser; if none opens, show it in `field` (under `label`), selected
    for copying."""
    try:
        open_url(url)
    except UrlNotOpened:
        field.setText(url)
        label.show()
        field.show()
        field.selectAll()
        field.setFocus()
    else:
        label.hide()
        field.hide()


class LinkButton(QWidget):
    """A button that opens a web page; if the desktop cannot, the address is shown to copy."""

    def __init__(self, text: str, url: Callable[[], str], accessible_name: str, name: str) -> None:
        super().__init__()
        self._url = url
        self.button = QPushButton(text)
        self.button.setAccessibleName(accessible_name)
        self.button.setObjectName(name)
        # Enter on a focused link goes on with the wizard (its default button), as in native
        # wizards; Space still opens the page.
        self.button.setAutoDefault(False)
        self.button.clicked.connect(self.on_button_clicked)
        self._fallback = QLineEdit()
        self._fallback.setReadOnly(True)
        self._fallback.setAccessibleName("Address to open in your browser")
        self._fallback.setObjectName(f"{name}_address")
        self._fallback_label = QLabel("Your browser did not open. Copy this address into it:")
        self._fallback_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self._fallback_label)
        layout.addWidget(self._fallback)
        self._fallback_label.hide()
        self._fallback.hide()

    @Slot()
    def on_button_clicked(self) -> None:
        url = self._url()
        self.button.setToolTip(url)
        open_or_offer(url, self._fallback_label, self._fallback)
