"""Authenticode signing of the Windows executables and installer, when a certificate is set up.

The environment says how (nothing set: nothing is signed, and the build says so in one line):

    WINDOWS_CERTIFICATE_PATH      a .pfx (PKCS #12) file holding the code-signing certificate
    WINDOWS_CERTIFICATE_PASSWORD  its password (never printed)
    WINDOWS_TIMESTAMP_URL         an RFC 3161 time-stamp server (default: DigiCert's)
    WINDOWS_SIGNTOOL              signtool.exe, when it is neither on PATH nor in the Windows SDK

Each file is signed with SHA-256 and time-stamped (so the signature outlives the certificate),
then checked with `signtool verify /pa`. build.py signs the two executables before it packs the
.zip and compiles the installer; Inno Setup signs the installer and its uninstaller by running
this file as its SignTool (`python windows_signing.py FILE`), so the password is on no command
line that iscc or build.py prints. Stdlib only: it runs with the build machine's Python.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "INNO_SIGN_TOOL",
    "NOT_CONFIGURED",
    "Signing",
    "SigningError",
    "find_signtool",
    "from_environment",
    "inno_sign_tool",
    "sign",
]

CERTIFICATE = "WINDOWS_CERTIFICATE_PATH"
PASSWORD = "WINDOWS_CERTIFICATE_PASSWORD"  # noqa: S105 - the variable's name
TIMESTAMP_URL = "WINDOWS_TIMESTAMP_URL"
SIGNTOOL = "WINDOWS_SIGNTOOL"
DEFAULT_TIMESTAMP_URL = "http://timestamp.digicert.com"
# The name the .iss's `SignTool=` directive refers to, defined by iscc's /S option.
INNO_SIGN_TOOL = "signtool"
NOT_CONFIGURED = (
    f"Not signing the Windows executables and installer: set {CERTIFICATE} (a .pfx file) "
    f"and {PASSWORD} to sign them"
)
# Time-stamp servers fail now and then; a second or third try a few seconds later usually works.
ATTEMPTS = 3
REDACTED = "********"


class SigningError(Exception):
    """Signing is set up but cannot be done; the message says why (never with the password)."""


@dataclass(frozen=True)
class Signing:
    """How to sign: the tool, the certificate, its password and the time-stamp server."""

    signtool: str
    certificate: Path
    password: str = field(repr=False)
    timestamp_url: str = DEFAULT_TIMESTAMP_URL

    def sign_command(self, files: Sequence[Path]) -> list[str]:
        password = ["/p", self.password] if self.password else []
        return [
            self.signtool,
            "sign",
            "/fd",
            "SHA256",
            "/f",
            str(self.certificate),
            *password,
            "/tr",
            self.timestamp_url,
            "/td",
            "SHA256",
            *(str(path) for path in files),
        ]

    def verify_command(self, path: Path) -> list[str]:
        return [self.signtool, "verify", "/pa", str(path)]

    def redact(self, text: str) -> str:
        return text.replace(self.password, REDACTED) if self.password else text

    def printable(self, args: Sequence[str]) -> str:
        """`args` as a command line to show, the password replaced before any quoting."""
        return subprocess.list2cmdline([self.redact(arg) for arg in args])


def _version_key(folder: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", folder.name))


def find_signtool(env: Mapping[str, str], which: Callable[[str], str | None]) -> str | None:
    """WINDOWS_SIGNTOOL, else signtool on PATH, else the newest Windows 10/11 SDK's x64 one."""
    if env.get(SIGNTOOL):
        return env[SIGNTOOL]
    found = which("signtool")
    if found:
        return found
    for variable in ("ProgramFiles(x86)", "ProgramFiles"):
        if not env.get(variable):
            continue
        kits = Path(env[variable]) / "Windows Kits" / "10" / "bin"
        tools = [path for path in kits.glob("*/x64/signtool.exe") if path.is_file()]
        if tools:
            return str(max(tools, key=lambda path: _version_key(path.parent.parent)))
    return None


def from_environment(
    env: Mapping[str, str], which: Callable[[str], str | None] = shutil.which
) -> Signing | None:
    """The signing set up in `env`; None when it is not; SigningError when it is, but wrongly."""
    certificate = env.get(CERTIFICATE, "")
    if not certificate:
        return None
    path = Path(certificate)
    if not path.is_file():
        raise SigningError(f"{CERTIFICATE} is {certificate!r}, which is not a file")
    signtool = find_signtool(env, which)
    if signtool is None:
        raise SigningError(
            "signtool.exe was not found: install the Windows SDK's signing tools, put signtool "
            f"on PATH or set {SIGNTOOL} to its path"
        )
    url = env.get(TIMESTAMP_URL) or DEFAULT_TIMESTAMP_URL
    return Signing(signtool, path, env.get(PASSWORD, ""), url)


def _say(line: str) -> None:
    print(line, flush=True)


def _run(
    signing: Signing, args: list[str], echo: Callable[[str], None]
) -> subprocess.CompletedProcess[str]:
    echo("$ " + signing.printable(args))
    try:
        result = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603
    except OSError as exc:
        raise SigningError(f"Cannot run {args[0]}: {exc.strerror}") from None
    output = signing.redact(result.stdout + result.stderr).strip()
    if output:
        echo(output)
    return result


def sign(
    signing: Signing,
    files: Iterable[Path],
    *,
    echo: Callable[[str], None] = _say,
    pause: Callable[[float], None] = time.sleep,
) -> None:
    """Sign and time-stamp `files`, then verify each; SigningError when either fails."""
    paths = list(files)
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise SigningError(f"Nothing to sign at {', '.join(missing)}")
    for attempt in range(1, ATTEMPTS + 1):
        result = _run(signing, signing.sign_command(paths), echo)
        if result.returncode == 0:
            break
        if attempt == ATTEMPTS:
            raise SigningError(
                f"signtool could not sign {', '.join(path.name for path in paths)} "
                f"(exit status {result.returncode}, {ATTEMPTS} tries; its output is above)"
            )
        echo(f"signtool failed (exit status {result.returncode}); trying again")
        pause(5.0 * attempt)
    for path in paths:
        result = _run(signing, signing.verify_command(path), echo)
        if result.returncode != 0:
            raise SigningError(
                f"{path.name} was signed but its signature does not verify "
                f"(signtool verify /pa, exit status {result.returncode}; its output is above)"
            )


def inno_sign_tool(python: str) -> str:
    """iscc's /S option: Inno Setup runs this file to sign the installer and the uninstaller.

    In Inno's sign tool command `$q` is a double quote and `$f` the quoted file to sign; the
    password stays in the environment, which iscc passes on.
    """
    return f"/S{INNO_SIGN_TOOL}=$q{python}$q $q{Path(__file__).resolve()}$q $f"


def main(argv: Sequence[str]) -> int:
    """Sign and verify the files named (Inno Setup's SignTool), as the environment says."""
    if not argv:
        print(f"usage: python {Path(__file__).name} FILE...", file=sys.stderr)
        return 2
    try:
        signing = from_environment(os.environ)
        if signing is None:
            raise SigningError(NOT_CONFIGURED)
        sign(signing, [Path(name) for name in argv])
    except SigningError as exc:
        print(f"Signing failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
