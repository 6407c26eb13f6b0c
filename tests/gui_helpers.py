"""Shared pieces for GUI tests: isolated settings and sessions."""

from __future__ import annotations

from pathlib import Path

from app.keystore import SESSION_LOCATION
from app.ui.session import Session
from app.ui.settings import AppSettings


def make_session(tmp_path: Path, *, key: str | None = None, sandbox: bool = True) -> Session:
    """A session with its own settings file; sandbox mode unless told otherwise."""
    session = Session(AppSettings(str(tmp_path / "settings.ini")))
    session.use_sandbox = sandbox
    if key is not None:
        session.set_key(key, SESSION_LOCATION)
    return session
