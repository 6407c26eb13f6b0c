"""--self-test: the app checks, headless, that everything it needs at run time is really there.

Written for the frozen app, where a missing Qt plugin, keyring backend or CA bundle shows up only
when a person clicks: each check prints one line, `ok   <name>: <detail>` or
`FAIL <name>: <reason>`, and the exit status is non-zero when any check failed.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
import secrets
import ssl
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from app import APP_NAME, __version__
from app.exit_codes import ExitCode

if TYPE_CHECKING:
    from app.keystore import SystemKeyring

__all__ = ["CHECKS", "PROBE_SERVICE", "CheckFailed", "main", "run_self_test"]

# Modules imported besides every module of the app itself: what runs only when a person acts.
THIRD_PARTY_MODULES = (
    "httpx",
    "keyring",
    "truststore",
    "certifi",
    "PySide6.QtCore",
    "PySide6.QtGui",
    "PySide6.QtWidgets",
)
# Never imported by the check: the entry point (it runs the app) and this module.
_SKIPPED_MODULES = frozenset({"app.__main__", __name__})
# Modules that must be among those found, so that an empty package walk cannot pass.
_REQUIRED_APP_MODULES = ("app.cli", "app.keystore", "app.segment.client", "app.ui.app")
_KEYRING_TIMEOUT = 10.0
# The keyring check's throwaway item: a service of its own, never the app's real entries.
PROBE_SERVICE = "chatlio-segment-setup-self-test"
_PROBE_NAME = "a throwaway test item"
_ROUND_TRIP_TIMEOUT = 5.0


class CheckFailed(Exception):
    """A check found something missing; the message says what, and what to do, in a sentence."""


@dataclass(frozen=True)
class Check:
    """One named check: returns a short detail when all is well, raises CheckFailed if not."""

    name: str
    run: Callable[[], str]


def _app_modules() -> list[str]:
    import app

    names = [
        info.name
        for info in pkgutil.walk_packages(app.__path__, "app.", onerror=lambda _name: None)
        if info.name not in _SKIPPED_MODULES
    ]
    return sorted(set(names) | set(_REQUIRED_APP_MODULES))


def check_imports() -> str:
    """Every module of the app, and the libraries it loads lazily, imports."""
    modules = [*_app_modules(), *THIRD_PARTY_MODULES]
    failed: list[str] = []
    for name in modules:
        try:
            importlib.import_module(name)
        # Any exception (ImportError, a missing shared library, a bad hook) is a finding.
        except Exception as exc:  # noqa: BLE001
            failed.append(f"{name} ({type(exc).__name__}: {_first_line(exc)})")
    if failed:
        raise CheckFailed(
            f"{len(failed)} of {len(modules)} modules do not import: {'; '.join(failed)}"
        )
    return f"{len(modules)} modules"


def check_qt() -> str:
    """Qt paints, collates and draws the icon; the check lives with the UI, which owns Qt."""
    from app.ui.self_check import check_qt as check

    return check()


def check_keyring() -> str:
    """The system keyring stores, gives back and deletes a throwaway item.

    Finding the backend is not enough: under macOS's hardened runtime, or with Credential
    Manager disabled by policy, the backend is found and the first write fails. The item has a
    service name of its own and a fresh user name, so the user's write key and token entries
    are never read, written or deleted.
    """
    from app.keystore import KeyStore, KeystoreUnavailable, SystemKeyring

    try:
        where = KeyStore(timeout=_KEYRING_TIMEOUT).location()
        _probe_keyring(SystemKeyring(timeout=_KEYRING_TIMEOUT, secret=_PROBE_NAME))
    except KeystoreUnavailable as exc:
        raise CheckFailed(exc.message) from exc
    return f"{where}: stored, read back and deleted {_PROBE_NAME}"


def _probe_keyring(keyring: SystemKeyring) -> None:
    from app.keystore import KeystoreUnavailable

    user = f"self-test-{uuid.uuid4().hex}"
    secret = secrets.token_urlsafe(24)
    try:
        keyring.run("store", lambda backend: backend.set_password(PROBE_SERVICE, user, secret))
        read = keyring.run("read back", lambda backend: backend.get_password(PROBE_SERVICE, user))
    except KeystoreUnavailable:
        # A store that timed out may still have written: leave no item behind, and report the
        # first failure, not the clean-up's.
        with contextlib.suppress(KeystoreUnavailable):
            keyring.delete(PROBE_SERVICE, user)
        raise
    deleted = keyring.delete(PROBE_SERVICE, user)
    if read != secret:
        got = "nothing" if read is None else "a different secret"
        raise CheckFailed(f"the keyring stored {_PROBE_NAME} but gave back {got}")
    left = keyring.run("read back", lambda backend: backend.get_password(PROBE_SERVICE, user))
    if not deleted or left is not None:
        raise CheckFailed(
            f"the keyring did not delete {_PROBE_NAME}; remove the entry named "
            f"{PROBE_SERVICE!r} by hand"
        )


def _linux_store() -> tuple[str, int]:
    """Where OpenSSL (and so truststore) finds the system's CA certificates, and how many."""
    paths = ssl.get_default_verify_paths()
    if paths.cafile:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cafile=paths.cafile)
        return paths.cafile, context.cert_store_stats()["x509_ca"]
    if paths.capath:
        # A hashed directory is read lazily by OpenSSL: count its certificates instead.
        count = sum(1 for entry in Path(paths.capath).iterdir() if entry.suffix[1:].isdigit())
        return paths.capath, count
    return "nowhere", 0


def check_tls() -> str:
    """TLS verifies certificates against a CA store that has certificates in it."""
    import certifi

    from app.segment.client import make_ssl_context

    context = make_ssl_context()
    if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
        raise CheckFailed("the TLS context does not verify certificates and host names")

    bundle = Path(certifi.where())
    if not bundle.is_file():
        raise CheckFailed(f"certifi's CA bundle, the fallback trust store, is missing: {bundle}")
    fallback = ssl.create_default_context(cafile=str(bundle)).cert_store_stats()["x509_ca"]
    if fallback == 0:
        raise CheckFailed(f"certifi's CA bundle {bundle} holds no CA certificates")

    if type(context).__module__.startswith("truststore"):
        if sys.platform.startswith("linux"):
            where, count = _linux_store()
            if count == 0:
                raise CheckFailed(
                    f"the system trust store ({where}) has no CA certificates; "
                    "install the ca-certificates package"
                )
            store = f"system trust store {where} ({count} CA certificates)"
        else:
            store = "macOS Keychain" if sys.platform == "darwin" else "Windows certificate store"
        return f"{store} via truststore; certifi fallback has {fallback}"
    count = context.cert_store_stats()["x509_ca"]
    if count == 0:
        raise CheckFailed("the TLS context has no CA certificates loaded")
    return f"certifi CA bundle ({count} CA certificates)"


def check_round_trip() -> str:
    """One event goes through the real send path to an in-process sandbox, and arrives."""
    from app.chatlio import Conversation
    from app.segment.payload import Visitor
    from app.segment.retry import RetryPolicy
    from app.sending import Target, built_in_sandbox, send_test_events

    conversation = Conversation()
    events = conversation.events()[:1]
    with built_in_sandbox() as sandbox:
        outcome = send_test_events(
            Target.sandbox(sandbox),
            events,
            Visitor(conversation.visitor_id),
            conversation_id=conversation.conversation_id,
            deadline=_ROUND_TRIP_TIMEOUT,
            retry=RetryPolicy(max_attempts=1),
        )
        [result] = outcome.results
        if not result.ok:
            raise CheckFailed(
                f"sending one event to the local sandbox failed ({result.status}): {result.message}"
            )
        try:
            received = sandbox.wait_for_events(1, timeout=_ROUND_TRIP_TIMEOUT)
        except TimeoutError as exc:
            raise CheckFailed("the local sandbox answered but recorded no event") from exc
    if result.message_id not in [each.payload.get("messageId") for each in received]:
        raise CheckFailed("the local sandbox recorded a different event from the one sent")
    return f"'{result.event}' sent and received in {result.elapsed_ms:.0f} ms"


def check_history() -> str:
    """A send is kept in, and read back from, a history file (SQLite) in a temporary directory:
    the user's own history is not touched."""
    import sqlite3
    import tempfile
    from datetime import UTC, datetime
    from pathlib import Path

    from app.chatlio import Conversation
    from app.history.records import Face
    from app.history.store import HistoryStore, HistoryUnavailable, default_path
    from app.segment.payload import Visitor
    from app.sending import Target, built_in_sandbox, send_test_events

    conversation = Conversation()
    with built_in_sandbox() as sandbox:
        outcome = send_test_events(
            Target.sandbox(sandbox),
            conversation.events()[:1],
            Visitor(conversation.visitor_id),
            conversation_id=conversation.conversation_id,
            deadline=_ROUND_TRIP_TIMEOUT,
        )
    with tempfile.TemporaryDirectory() as directory:
        store = HistoryStore(Path(directory) / "history.sqlite3")
        try:
            kept = store.record(
                outcome, source="self-test", face=Face.CLI, started_at=datetime.now(UTC)
            )
            back = None if kept is None else store.get(kept)
        except HistoryUnavailable as exc:
            raise CheckFailed(exc.message) from exc
        finally:
            store.close()
    if back is None or back.results != outcome.results:
        raise CheckFailed("a send kept in a history file did not read back the same")
    return f"SQLite {sqlite3.sqlite_version}; the history is kept in {default_path()}"


CHECKS: list[Check] = [
    Check("imports", check_imports),
    Check("qt", check_qt),
    Check("keyring", check_keyring),
    Check("tls", check_tls),
    Check("round-trip", check_round_trip),
    Check("history", check_history),
]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def run_self_test(out: TextIO) -> int:
    """Run every check, print one line each and a summary; 0 when all passed, else 1."""
    started = time.monotonic()
    frozen = " (frozen)" if getattr(sys, "frozen", False) else ""
    print(f"{APP_NAME} {__version__}{frozen} self-test, Python {sys.version.split()[0]}", file=out)
    failed: list[str] = []
    for check in CHECKS:
        try:
            detail = check.run()
        except CheckFailed as exc:
            failed.append(check.name)
            print(f"FAIL {check.name}: {exc}", file=out)
        # A crash inside a check is a failure of that check, reported with where it happened.
        except Exception as exc:  # noqa: BLE001
            failed.append(check.name)
            where = traceback.extract_tb(exc.__traceback__)[-1]
            print(
                f"FAIL {check.name}: unexpected {type(exc).__name__}: {_first_line(exc)} "
                f"(at {Path(where.filename).name}:{where.lineno})",
                file=out,
            )
        else:
            print(f"ok   {check.name}: {detail}", file=out)
        out.flush()
    seconds = time.monotonic() - started
    if failed:
        print(
            f"Self-test FAILED: {len(failed)} of {len(CHECKS)} checks ({', '.join(failed)}) "
            f"in {seconds:.1f} s.",
            file=out,
        )
        return ExitCode.FAILED
    print(f"Self-test passed: {len(CHECKS)} checks in {seconds:.1f} s.", file=out)
    return ExitCode.OK


def main(argv: Sequence[str] | None = None) -> int:
    """`chatlio-segment-setup --self-test`; takes no further arguments."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args:
        print(f"--self-test takes no arguments (got {' '.join(args)})", file=sys.stderr)
        return ExitCode.USAGE
    return run_self_test(sys.stdout)
