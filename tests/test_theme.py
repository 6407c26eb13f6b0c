"""The colour scheme: dark gives a dark, readable palette; light gives the standard one back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from app.ui.theme import dark_palette, follow_system_color_scheme, set_color_scheme

Role = QPalette.ColorRole


def luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )


def contrast(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio, 1 to 21."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.fixture
def app(qapp: QApplication) -> Iterator[QApplication]:
    """The test application, put back to light afterwards for the tests that follow."""
    yield qapp
    set_color_scheme(qapp, Qt.ColorScheme.Light)


def test_dark_makes_the_window_dark_and_the_text_light(app: QApplication, qtbot: QtBot) -> None:
    light_window = app.palette().color(Role.Window)
    set_color_scheme(app, Qt.ColorScheme.Dark)
    palette = app.palette()
    assert palette.color(Role.Window).lightness() < 128
    assert palette.color(Role.Base).lightness() < 128
    assert palette.color(Role.WindowText).lightness() > 192
    assert palette.color(Role.Text).lightness() > 192
    label = QLabel("Hello")
    qtbot.addWidget(label)
    assert label.palette().color(Role.Window).lightness() < 128  # widgets follow

    set_color_scheme(app, Qt.ColorScheme.Light)
    assert app.palette().color(Role.Window) == light_window
    assert app.palette().color(Role.WindowText).lightness() < 128


def test_dark_twice_and_light_twice_change_nothing_more(app: QApplication) -> None:
    set_color_scheme(app, Qt.ColorScheme.Dark)
    set_color_scheme(app, Qt.ColorScheme.Dark)
    set_color_scheme(app, Qt.ColorScheme.Light)
    set_color_scheme(app, Qt.ColorScheme.Light)
    assert app.palette().color(Role.Window).lightness() > 128


@pytest.mark.parametrize("scheme", [Qt.ColorScheme.Light, Qt.ColorScheme.Dark])
def test_links_are_readable_in_both_schemes(app: QApplication, scheme: Qt.ColorScheme) -> None:
    set_color_scheme(app, scheme)
    palette = app.palette()
    for background in (Role.Base, Role.Window):
        assert contrast(palette.color(Role.Link), palette.color(background)) >= 4.5


def test_every_pair_of_the_dark_palette_is_readable() -> None:
    palette = dark_palette()
    for background in (Role.Base, Role.Window, Role.AlternateBase):
        assert contrast(palette.color(Role.Link), palette.color(background)) >= 4.5
        assert contrast(palette.color(Role.LinkVisited), palette.color(background)) >= 4.5
        assert contrast(palette.color(Role.Text), palette.color(background)) >= 7
    assert contrast(palette.color(Role.ButtonText), palette.color(Role.Button)) >= 7
    assert contrast(palette.color(Role.HighlightedText), palette.color(Role.Highlight)) >= 4.5
    assert contrast(palette.color(Role.ToolTipText), palette.color(Role.ToolTipBase)) >= 7
    assert contrast(palette.color(Role.PlaceholderText), palette.color(Role.Base)) >= 4.5


def test_disabled_text_is_dimmer_than_enabled_but_still_visible() -> None:
    palette = dark_palette()
    disabled = palette.color(QPalette.ColorGroup.Disabled, Role.Text)
    enabled = palette.color(QPalette.ColorGroup.Active, Role.Text)
    base = palette.color(Role.Base)
    assert contrast(disabled, base) < contrast(enabled, base)
    assert contrast(disabled, base) >= 3


def test_following_the_system_keeps_this_platforms_palette(app: QApplication) -> None:
    """Xvfb's platform states no scheme: the app keeps what it has, and may be called again."""
    before = app.palette().color(Role.Window)
    follow_system_color_scheme(app)
    follow_system_color_scheme(app)
    if app.styleHints().colorScheme() is not Qt.ColorScheme.Dark:
        assert app.palette().color(Role.Window) == before
    else:
        assert app.palette().color(Role.Window).lightness() < 128


def test_a_scheme_change_announced_by_the_system_is_followed(app: QApplication) -> None:
    follow_system_color_scheme(app)
    app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert app.palette().color(Role.Window).lightness() < 128
    app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert app.palette().color(Role.Window).lightness() > 128
