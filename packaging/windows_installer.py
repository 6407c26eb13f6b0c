"""Inno Setup's compiler for the Windows installer: where it is, and its command line.

build.py fails the build when ISCC.exe cannot be found (unless --no-installers), and passes
packaging/windows/chatlio-segment-setup.iss the version twice: as text (`AppVersion`, shown
everywhere, `0.2.0rc1`) and as Windows' four numbers (`AppNumericVersion`, `0.2.0.0`, all that
Inno Setup's VersionInfoVersion accepts). Stdlib only: it runs with the build machine's Python.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

import versions  # packaging/versions.py: this script's folder is on sys.path

__all__ = ["ISCC_MISSING", "SCRIPT", "find_iscc", "iscc_command"]

SCRIPT = Path(__file__).resolve().parent / "windows" / "chatlio-segment-setup.iss"
ISCC_MISSING = (
    "Inno Setup 6's compiler (ISCC.exe) was not found, so no installer can be built. Install "
    "Inno Setup 6 (`winget install JRSoftware.InnoSetup`, `choco install innosetup`, or "
    "https://jrsoftware.org/isdl.php) and put its folder on PATH (its default folders are "
    "searched too), or build without installers: python packaging/build.py --no-installers"
)


def find_iscc(env: Mapping[str, str]) -> str | None:
    """ISCC.exe on PATH, else in Inno Setup 6's default folders (for all users, or this user)."""
    path = env.get("PATH", "")
    found = shutil.which("iscc", path=path) or shutil.which("ISCC", path=path)
    if found:
        return found
    folders = [
        Path(env[variable]) / "Inno Setup 6"
        for variable in ("ProgramFiles(x86)", "ProgramFiles")
        if env.get(variable)
    ]
    if env.get("LOCALAPPDATA"):
        folders.append(Path(env["LOCALAPPDATA"]) / "Programs" / "Inno Setup 6")
    for candidate in (folder / "ISCC.exe" for folder in folders):
        if candidate.is_file():
            return str(candidate)
    return None


def iscc_command(
    iscc: str, version: str, folder: Path, out_dir: Path, sign_tool: str | None = None
) -> list[str]:
    """iscc's command line for `version` (text) over the PyInstaller `folder`.

    `sign_tool` is iscc's /S option (windows_signing.inno_sign_tool): with it the .iss's `Sign`
    define makes Inno Setup sign the installer and its uninstaller. Raises versions.VersionError
    when `version` has no four-number form.
    """
    numeric = versions.parse(version).windows
    signing = [sign_tool, "/DSign=1"] if sign_tool else []
    return [
        iscc,
        f"/DAppVersion={version}",
        f"/DAppNumericVersion={numeric}",
        f"/DSourceDir={folder}",
        f"/DOutputDir={out_dir}",
        *signing,
        str(SCRIPT),
    ]
