"""macOS: sign, notarize and staple the PyInstaller .app, put it in a DMG, and check each step.

    python packaging/macos/dmg.py "build/pyinstaller-dist/Chatlio Segment Setup.app" out.dmg 0.1.0

`python packaging/build.py` runs this on macOS. Each step runs only when configured, and says
so when it is skipped:

  MACOS_SIGNING_IDENTITY   "Developer ID Application: Name (TEAMID)" in the keychain: sign the
                           app (hardened runtime, secure timestamp) and the DMG
  APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD (an app-specific password): notarize with
                           notarytool and staple the tickets (needs the signing identity too)

Unsigned, the DMG still works for testing: PyInstaller has signed the app ad hoc, and macOS asks
the user to allow the first start (System Settings, Privacy & Security, Open Anyway).

Apple's verdict is read, not assumed: `notarytool submit --wait` exits 0 when the answer is
Invalid, so its JSON status must say Accepted, and otherwise Apple's log is fetched and shown.
The app-specific password never appears in what this prints.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # packaging/, for macho.py
import macho

MACOS = sys.platform == "darwin"
HERE = Path(__file__).resolve().parent
ENTITLEMENTS = HERE / "entitlements.plist"
VOLUME = "Chatlio Segment Setup"
# `hdiutil create` fails now and then with "Resource busy" (Spotlight or an antivirus has the
# new image open); it succeeds when tried again a moment later. Other failures are real.
HDIUTIL_PAUSES = (2.0, 5.0, 10.0)
# Apple's ticket reaches its servers a little after notarization says Accepted; until then
# `stapler staple` fails (CloudKit "Record not found", error 65). Stapling again is harmless.
STAPLE_PAUSES = (15.0, 30.0, 30.0, 60.0)
# Apple's time-stamp service is sometimes briefly unavailable while signing.
TIMESTAMP_PAUSES = (5.0, 15.0)
NOTARY_TIMEOUT = "30m"
REDACTED = "********"
# Folders that are code bundles of their own, signed as one after their contents.
_BUNDLE_SUFFIXES = (".framework", ".app", ".bundle", ".plugin", ".xpc", ".appex")

NO_IDENTITY = "set MACOS_SIGNING_IDENTITY to a Developer ID Application identity"
NO_NOTARY = "set APPLE_ID, APPLE_TEAM_ID and APPLE_APP_PASSWORD"


class StepError(Exception):
    """A step failed; the message says which and what the tool or Apple answered."""


@dataclass(frozen=True)
class Notary:
    apple_id: str
    team_id: str
    password: str = field(repr=False)

    def arguments(self) -> list[str]:
        return [
            "--apple-id",
            self.apple_id,
            "--team-id",
            self.team_id,
            "--password",
            self.password,
        ]


@dataclass(frozen=True)
class Config:
    identity: str | None
    notary: Notary | None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Config:
        identity = environ.get("MACOS_SIGNING_IDENTITY") or None
        apple_id, team_id, password = (
            environ.get(name, "") for name in ("APPLE_ID", "APPLE_TEAM_ID", "APPLE_APP_PASSWORD")
        )
        notary = Notary(apple_id, team_id, password) if apple_id and team_id and password else None
        return cls(identity, notary)

    @property
    def notarizes(self) -> bool:
        return self.identity is not None and self.notary is not None


class Tools:
    """Runs the command-line tools, echoing each command with the secrets blanked out."""

    def __init__(
        self, secrets: Iterable[str] = (), sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._secrets = [secret for secret in secrets if secret]
        self.sleep = sleep

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def shown(self, command: Sequence[str]) -> str:
        """The command line as printed: each argument blanked before quoting, which could
        otherwise split a secret so that part of it shows."""
        return shlex.join(self.redact(arg) for arg in command)

    def _echo(self, args: Sequence[str | Path]) -> list[str]:
        command = [str(arg) for arg in args]
        print("$ " + self.shown(command), flush=True)
        return command

    def run(self, args: Sequence[str | Path]) -> None:
        """Run a tool whose output needs no blanking; StepError when it fails."""
        command = self._echo(args)
        try:
            subprocess.run(command, check=True)  # noqa: S603
        except OSError as exc:
            raise StepError(f"{self.shown(command)} failed: {exc}") from None
        except subprocess.CalledProcessError as exc:
            raise StepError(
                f"{self.shown(command)} failed (exit status {exc.returncode})"
            ) from None

    def capture(self, args: Sequence[str | Path], *, merge: bool = False) -> tuple[int, str, str]:
        """(exit status, stdout, stderr), each blanked; with `merge`, stderr is in stdout."""
        command = self._echo(args)
        try:
            result = subprocess.run(  # noqa: S603
                command,
                check=False,
                capture_output=not merge,
                stdout=subprocess.PIPE if merge else None,
                stderr=subprocess.STDOUT if merge else None,
                text=True,
            )
        except OSError as exc:
            raise StepError(f"{self.shown(command)} failed: {exc}") from None
        return result.returncode, self.redact(result.stdout or ""), self.redact(result.stderr or "")

    def run_retrying(
        self,
        args: Sequence[str | Path],
        pauses: Sequence[float],
        transient: Callable[[str], bool],
        what: str,
    ) -> None:
        """Run a tool; after each pause, try again while its output says the failure passes."""
        for attempt, pause in enumerate((*pauses, None), start=1):
            status, output, _ = self.capture(args, merge=True)
            if output.strip():
                print(output.rstrip(), flush=True)
            if status == 0:
                return
            if pause is None or not transient(output):
                raise StepError(f"{what} failed (exit status {status}, attempt {attempt})")
            print(f"{what}: trying again in {pause:g} s", flush=True)
            self.sleep(pause)


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def skip(message: str) -> None:
    print(f"--> skipped: {message}", flush=True)


# --- signing ----------------------------------------------------------------------------------


def _depth(app: Path, path: Path) -> tuple[int, str]:
    return (-len(path.relative_to(app).parts), str(path))


def _nested_bundles(app: Path) -> list[Path]:
    """Code bundles inside the app (Qt's frameworks); a framework is signed per version."""
    found = []
    for folder in app.rglob("*"):
        if folder.is_symlink() or not folder.is_dir() or not folder.name.endswith(_BUNDLE_SUFFIXES):
            continue
        versions = folder / "Versions"
        if folder.suffix == ".framework" and versions.is_dir():
            found += [v for v in versions.iterdir() if v.is_dir() and not v.is_symlink()]
        else:
            found.append(folder)
    return found


def signing_order(app: Path) -> list[tuple[Path, bool]]:
    """What to sign, inside out, and whether with the entitlements (only executables get them).

    Every Mach-O file, deepest first; then each nested bundle, deepest first, which seals its
    resources; the app last. (`codesign --deep` would sign in the wrong order.)
    """
    files = []
    for path in app.rglob("*"):
        image = macho.read(path)
        if image is not None:
            files.append((path, image.filetype == macho.MH_EXECUTE))
    files.sort(key=lambda item: _depth(app, item[0]))
    bundles = sorted(_nested_bundles(app), key=lambda path: _depth(app, path))
    return [*files, *((bundle, False) for bundle in bundles), (app, True)]


def sign_app(tools: Tools, app: Path, identity: str) -> None:
    for path, entitled in signing_order(app):
        entitlements: list[str | Path] = ["--entitlements", ENTITLEMENTS] if entitled else []
        command = ["codesign", "--force", "--timestamp", "--options", "runtime", *entitlements]
        tools.run_retrying(
            [*command, "--sign", identity, path],
            TIMESTAMP_PAUSES,
            _timestamp_unavailable,
            f"codesign {path.name}",
        )


def _timestamp_unavailable(output: str) -> bool:
    return "timestamp service is not available" in output


def verify_app(tools: Tools, app: Path) -> None:
    tools.run(["codesign", "--verify", "--deep", "--strict", "--verbose=2", app])


# --- notarization -----------------------------------------------------------------------------


def _json_object(text: str) -> dict[str, object] | None:
    """The JSON object notarytool printed (the whole output, or its last JSON line)."""
    for candidate in [text, *reversed(text.splitlines())]:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def notarize(tools: Tools, path: Path, notary: Notary) -> None:
    """Submit `path`, wait for Apple's verdict; StepError (with Apple's log) unless Accepted."""
    status, out, err = tools.capture(
        [
            "xcrun",
            "notarytool",
            "submit",
            path,
            *notary.arguments(),
            "--wait",
            "--timeout",
            NOTARY_TIMEOUT,
            "--output-format",
            "json",
        ]
    )
    for text in (err, out):
        if text.strip():
            print(text.rstrip(), flush=True)
    # The verdict decides, whatever the exit status; without one, the submission (if any) can
    # still be looked up later.
    answer = _json_object(out) or {}
    verdict, submission = answer.get("status"), answer.get("id")
    if verdict == "Accepted":
        print(f"Apple accepted {path.name} (submission {submission})", flush=True)
        return
    if verdict is None:
        later = f"; ask later with `xcrun notarytool info {submission}`" if submission else ""
        raise StepError(
            f"notarytool submit {path.name} failed (exit status {status}) without a verdict{later}"
        )
    if isinstance(submission, str) and submission:
        print(f"Apple's notarization log for submission {submission}:", flush=True)
        log_status, log_out, log_err = tools.capture(
            ["xcrun", "notarytool", "log", submission, *notary.arguments()]
        )
        print((log_out or log_err).rstrip() or "(empty)", flush=True)
        if log_status != 0:
            print(f"(notarytool log exited with status {log_status})", flush=True)
    else:
        print("(no submission id in notarytool's answer, so no log to fetch)", flush=True)
    message = answer.get("message")
    raise StepError(
        f"Apple did not accept {path.name}: status {verdict!r}"
        + (f" ({message})" if message else "")
        + "; see the log above"
    )


def staple(tools: Tools, path: Path) -> None:
    tools.run_retrying(
        ["xcrun", "stapler", "staple", path], STAPLE_PAUSES, lambda _output: True, "stapler staple"
    )
    tools.run(["xcrun", "stapler", "validate", path])


# --- the DMG ----------------------------------------------------------------------------------


def create_image(tools: Tools, source: Path, dmg: Path, volume: str) -> None:
    """`hdiutil create`, tried again after a pause while it says "Resource busy"."""
    command: list[str | Path] = [
        "hdiutil",
        "create",
        "-volname",
        volume,
        "-srcfolder",
        source,
        "-fs",
        "HFS+",
        "-format",
        "UDZO",
        "-imagekey",
        "zlib-level=9",
        "-ov",
        dmg,
    ]
    tools.run_retrying(
        command, HDIUTIL_PAUSES, lambda output: "Resource busy" in output, "hdiutil create"
    )


def make_dmg(tools: Tools, app: Path, dmg: Path, volume: str) -> None:
    """The app and a link to /Applications to drag it onto."""
    dmg.parent.mkdir(parents=True, exist_ok=True)
    dmg.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="dmg-staging-") as staging:
        tools.run(["ditto", app, Path(staging) / app.name])
        (Path(staging) / "Applications").symlink_to("/Applications")
        create_image(tools, Path(staging), dmg, volume)
    if not dmg.is_file():
        raise StepError(f"hdiutil exited 0 but wrote no {dmg}")


# --- the whole recipe -------------------------------------------------------------------------


def package(tools: Tools, app: Path, dmg: Path, version: str, config: Config) -> Path:
    if not app.is_dir():
        raise StepError(f"no app bundle at {app}")

    # 1. Signing, inside out, with the hardened runtime that notarization requires.
    if config.identity:
        step(f"Signing {app} as {config.identity}")
        sign_app(tools, app, config.identity)
    else:
        skip(f"signing ({NO_IDENTITY})")
    step("Checking the app's signature" + ("" if config.identity else " (PyInstaller's, ad hoc)"))
    verify_app(tools, app)

    # 2. Notarizing the app, so that it stays trusted once copied out of the DMG, offline too.
    if config.notarizes:
        assert config.notary is not None
        step("Notarizing the app")
        with tempfile.TemporaryDirectory(prefix="notarize-") as folder:
            archive = Path(folder) / f"{app.stem}.zip"
            tools.run(["ditto", "-c", "-k", "--keepParent", app, archive])
            notarize(tools, archive, config.notary)
        staple(tools, app)
        step("Gatekeeper's assessment of the app")
        tools.run(["spctl", "--assess", "--type", "execute", "-vv", app])
    elif config.notary is not None:
        skip(f"notarization: Apple only notarizes signed apps ({NO_IDENTITY})")
    else:
        skip(f"notarization ({NO_NOTARY})")
    if not config.notarizes:
        skip("Gatekeeper's assessment: only a notarized app passes it")

    # 3. The DMG.
    step(f"Creating {dmg}")
    make_dmg(tools, app, dmg, f"{VOLUME} {version}")
    if config.identity:
        step("Signing the DMG")
        tools.run(["codesign", "--force", "--timestamp", "--sign", config.identity, dmg])
        tools.run(["codesign", "--verify", "--strict", "--verbose=2", dmg])
    else:
        skip(f"signing the DMG ({NO_IDENTITY})")
    if config.notarizes:
        assert config.notary is not None
        step("Notarizing the DMG")
        notarize(tools, dmg, config.notary)
        staple(tools, dmg)
        step("Gatekeeper's assessment of the DMG")
        tools.run(
            ["spctl", "-a", "-t", "open", "--context", "context:primary-signature", "-vv", dmg]
        )
    step(f"Done: {dmg} ({dmg.stat().st_size / 1e6:.1f} MB)")
    return dmg


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 3:
        print("usage: dmg.py APP.app OUT.dmg VERSION", file=sys.stderr)
        return 2
    if not MACOS:
        print("dmg: needs macOS (codesign, hdiutil)", file=sys.stderr)
        return 1
    config = Config.from_environment(os.environ if environ is None else environ)
    tools = Tools(secrets=[config.notary.password] if config.notary else [])
    try:
        package(tools, Path(args[0]), Path(args[1]), args[2], config)
    except StepError as exc:
        print(f"dmg: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
