"""A secret on the clipboard: hidden from clipboard managers' history, and cleared after a while."""

from __future__ import annotations

import math

from PySide6.QtCore import QByteArray, QMimeData, QObject, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication

CLEAR_AFTER_MS = 60_000


class SecretClipboard(QObject):
    """Copies one secret at a time and clears it again, unless the user copied something else.

    Signals: cleared() — the timer (or clear_now) took the secret off the clipboard.
    """

    cleared = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.clear_after_ms = CLEAR_AFTER_MS
        self._copied: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear_now)

    @property
    def seconds(self) -> int:
        return max(1, math.ceil(self.clear_after_ms / 1000))

    def is_pending(self) -> bool:
        return self._timer.isActive()

    def copy(self, text: str) -> None:
        data = QMimeData()
        data.setText(text)
        # Asks clipboard managers (Klipper, and others that honour it) not to keep a history.
        data.setData("x-kde-passwordManagerHint", QByteArray(b"secret"))
        QGuiApplication.clipboard().setMimeData(data)
        self._copied = text
        self._timer.start(self.clear_after_ms)

    @Slot()
    def clear_now(self) -> bool:
        """Clear the clipboard if it still holds the secret; True if it did."""
        self._timer.stop()
        copied, self._copied = self._copied, None
        clipboard = QGuiApplication.clipboard()
        if copied is None or clipboard.text() != copied:
            return False
        clipboard.clear()
        self.cleared.emit()
        return True
