"""The system's light or dark colour scheme: a dark palette where the platform has none."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    from PySide6.QtCore import Qt

# Fusion-like dark colours. Text and links are checked against Base and Window for contrast
# (tests/test_theme.py): WCAG's 4.5:1 for normal text.
_DARK = {
    "Window": "#353535",
    "WindowText": "#e8e8e8",
    "Base": "#262626",
    "AlternateBase": "#303030",
    "ToolTipBase": "#454545",
    "ToolTipText": "#f0f0f0",
    "PlaceholderText": "#9c9c9c",
    "Text": "#e8e8e8",
    "Button": "#3c3c3c",
    "ButtonText": "#e8e8e8",
    "BrightText": "#ff6b6b",
    "Light": "#505050",
    "Midlight": "#454545",
    "Mid": "#2b2b2b",
    "Dark": "#1f1f1f",
    "Shadow": "#141414",
    "Highlight": "#2f6fb3",
    "HighlightedText": "#ffffff",
    "Link": "#6cb4ff",
    "LinkVisited": "#c39bff",
    "Accent": "#2f6fb3",
}
_DARK_DISABLED = {
    "WindowText": "#8a8a8a",
    "Text": "#8a8a8a",
    "ButtonText": "#8a8a8a",
    "Base": "#2e2e2e",
    "Highlight": "#4a4a4a",
    "HighlightedText": "#b0b0b0",
    "PlaceholderText": "#6e6e6e",
}

# The palette the app had before a dark one was applied; restored for a light scheme.
_saved: dict[str, QPalette] = {}


def dark_palette() -> QPalette:
    """A coherent dark palette, for every colour group, disabled colours dimmed."""
    palette = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    for name, colour in _DARK.items():
        palette.setColor(getattr(role, name), QColor(colour))
    for name, colour in _DARK_DISABLED.items():
        palette.setColor(group.Disabled, getattr(role, name), QColor(colour))
    return palette


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def follow_system_color_scheme(app: QApplication) -> None:
    """Apply the system's colour scheme now, and again whenever it changes."""
    hints = app.styleHints()
    _apply(app, hints.colorScheme().name)
    if not app.property("chatlio_follows_scheme"):
        app.setProperty("chatlio_follows_scheme", True)
        hints.colorSchemeChanged.connect(lambda scheme: _apply(app, scheme.name))


def set_color_scheme(app: QApplication, scheme: Qt.ColorScheme) -> None:
    """Ask for `scheme` (Qt 6.8+), and apply its palette if the platform ignored the request."""
    hints = app.styleHints()
    if hasattr(hints, "setColorScheme"):
        hints.setColorScheme(scheme)
    _apply(app, scheme.name)


def _apply(app: QApplication, scheme: str) -> None:
    if scheme == "Dark":
        if is_dark(app.palette()):
            return  # the platform's own dark palette, or ours already
        _saved.setdefault("light", app.palette())
        app.setPalette(dark_palette())
    elif scheme == "Light" and "light" in _saved:
        app.setPalette(_saved.pop("light"))
    # Unknown: the platform does not say; keep what it gave.
