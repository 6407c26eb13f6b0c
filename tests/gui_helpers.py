"""Shared pieces for GUI tests: isolated settings and sessions, widgets shown and found."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.key_storage import SESSION_LOCATION
from app.ui.session import Session
from app.ui.settings import AppSettings

W = TypeVar("W", bound=QWidget)


def make_session(tmp_path: Path, *, key: str | None = None, sandbox: bool = True) -> Session:
    """A session with its own settings file; sandbox mode unless told otherwise."""
    session = Session(AppSettings(str(tmp_path / "settings.ini")))
    session.use_sandbox = sandbox
    if key is not None:
        session.set_key(key, SESSION_LOCATION)
    return session


def shown(qtbot: QtBot, widget: W, width: int, height: int) -> W:
    """`widget` at `width` by `height`, on screen, closed after the test."""
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def child(root: QWidget, kind: type[W], name: str) -> W:
    """The `kind` called `name` (its objectName) under `root`."""
    found = root.findChild(kind, name)
    assert found is not None, name
    return found
