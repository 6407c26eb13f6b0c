"""Window sizes that fit the screen they are on: shared by the wizard and the main window."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSize
from PySide6.QtWidgets import QWidget


def fit_to_screen(widget: QWidget, wanted: QSize) -> QSize:
    """`wanted`, shrunk to the screen's free area (at 2x scaling 1600x1000 is 800x500)."""
    free = widget.screen().availableGeometry().size()
    # Room for the window's frame and title bar, which the size does not include.
    return wanted.boundedTo(QSize(free.width() - 16, free.height() - 48)).expandedTo(
        widget.minimumSize()
    )


def keep_on_screen(window: QWidget) -> None:
    """A window restored onto a screen that is gone, or larger than this one, comes back
    whole onto the screen, title bar included."""
    free = window.screen().availableGeometry()
    window.resize(window.size().boundedTo(fit_to_screen(window, free.size())))
    frame = window.frameGeometry()
    left = min(max(frame.left(), free.left()), free.right() - frame.width() + 1)
    top = min(max(frame.top(), free.top()), free.bottom() - frame.height() + 1)
    if (left, top) != (frame.left(), frame.top()):
        window.move(QPoint(max(left, free.left()), max(top, free.top())))
