"""Where the app keeps its data (the send history): the platform's per-user data directory.

The GUI and the CLI both ask here, so both find the same files without Qt. The places are the
ones each platform documents for application data, as Qt's AppDataLocation and platformdirs
also choose them:
- Linux and other Unix: $XDG_DATA_HOME/chatlio-segment-setup, else ~/.local/share/…
- macOS: ~/Library/Application Support/chatlio-segment-setup
- Windows: %LOCALAPPDATA%\\chatlio-segment-setup (this computer only, not roamed)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DIRECTORY_NAME = "chatlio-segment-setup"


def data_dir() -> Path:
    """This user's data directory for the app (not created here)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Application Support")
    else:
        xdg = os.environ.get("XDG_DATA_HOME", "")
        # The XDG spec: a relative path is invalid and is to be ignored.
        base = xdg if os.path.isabs(xdg) else str(Path.home() / ".local" / "share")
    return Path(base) / DIRECTORY_NAME
