"""The Segment write key in the operating system's keyring, and nowhere else."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast, runtime_checkable

from app.key_storage import SESSION_LOCATION
from app.redaction import mask

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = [
    "DEFAULT_SOURCE",
    "DESKTOP_KEYRING_LOCATION",
    "SERVICE_NAME",
    "SESSION_LOCATION",
    "CheckedKey",
    "InvalidSourceName",
    "InvalidWriteKey",
    "KeyStatus",
    "KeyStore",
    "KeystoreUnavailable",
    "Reason",
    "SaveResult",
    "SessionKeyStore",
    "SystemKeyring",
    "WriteKeyStore",
    "check_source",
    "check_write_key",
]

# Failures are logged at INFO: callers show the exception's message to the person, and with no
# logging configured Python would print warnings to stderr a second time.
log = logging.getLogger(__name__)

SERVICE_NAME = "chatlio-segment-setup"
DEFAULT_SOURCE = "Chatlio"
DEFAULT_TIMEOUT = 10.0
SEGMENT_KEY_LENGTH = 32
_WHERE_TO_COPY = "your source in Segment, under Settings → API Keys"
# What the keyring's error sentences call the secret they could not keep.
WRITE_KEY = "the write key"

DESKTOP_KEYRING_LOCATION = "the Secret Service keyring (GNOME Keyring or KWallet)"
_SECRET_SERVICE_PROVIDERS = {
    "gnome-keyring-d": "GNOME Keyring (Secret Service)",
    "kwalletd5": "KWallet (Secret Service)",
    "kwalletd6": "KWallet (Secret Service)",
    "ksecretd": "KWallet (Secret Service)",
    "keepassxc": "KeePassXC (Secret Service)",
}
# Backends that keep secrets in the operating system's keyring, matched anywhere in a backend's
# class hierarchy by name, so that checking needs no import of modules for other platforms.
# Everything else is refused: keyrings.alt's file backends would write the key to disk.
_SYSTEM_BACKENDS = {
    "keyring.backends.SecretService.Keyring": DESKTOP_KEYRING_LOCATION,
    "keyring.backends.libsecret.Keyring": DESKTOP_KEYRING_LOCATION,
    "keyring.backends.kwallet.DBusKeyring": "KWallet",
    "keyring.backends.macOS.Keyring": "macOS Keychain",
    "keyring.backends.Windows.WinVaultKeyring": "Windows Credential Manager",
}
_CHAINER = "keyring.backends.chainer.ChainerBackend"

T = TypeVar("T")


class InvalidWriteKey(ValueError):
    """The text given as a write key cannot be one; the message says why, without the key."""


class InvalidSourceName(ValueError):
    """The Segment source name is empty."""


class Reason(StrEnum):
    """Why the keyring could not be used."""

    NO_BACKEND = "no_backend"
    LOCKED = "locked"
    TIMEOUT = "timeout"
    ERROR = "error"


class KeystoreUnavailable(Exception):
    """The system keyring cannot be used; `message` tells a person why and how to fix it."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    @classmethod
    def because(
        cls,
        reason: Reason,
        *,
        action: str = "use",
        timeout: float = DEFAULT_TIMEOUT,
        secret: str = WRITE_KEY,
    ) -> KeystoreUnavailable:
        """The exception for `reason`, worded for this platform and the secret kept."""
        setup, unlock = _platform_fixes()
        if reason is Reason.NO_BACKEND:
            text = f"No system keyring was found to keep {secret} safe. To fix this, {setup}."
        elif reason is Reason.LOCKED:
            text = (
                "The keyring is locked, or the request to unlock it was dismissed. "
                f"To fix this, {unlock}."
            )
        elif reason is Reason.TIMEOUT:
            text = (
                f"The keyring did not answer within {timeout:g} seconds, probably because it is "
                f"locked and waiting for a password. To fix this, {unlock}."
            )
        else:
            text = (
                f"The keyring reported an error when asked to {action} {secret}. "
                f"To fix this, {setup}."
            )
        return cls(reason, text)


def _platform_fixes() -> tuple[str, str]:
    """What a person does here to get a working keyring, and to unlock it."""
    if sys.platform == "darwin":
        unlock = "open Keychain Access, unlock your login keychain, and try again"
        return unlock, unlock
    if sys.platform == "win32":
        fix = (
            "open Credential Manager in the Control Panel, check that Windows Credentials "
            "opens, and try again"
        )
        return fix, fix
    return (
        "install and start GNOME Keyring or KWallet (a Secret Service), unlock it, and try again",
        "unlock your keyring (in Passwords and Keys, or KDE Wallet Manager) and try again",
    )


@dataclass(frozen=True)
class CheckedKey:
    """A write key ready to store, and a warning when it does not look like Segment's."""

    key: str = field(repr=False)
    warning: str | None = None


@dataclass(frozen=True)
class SaveResult:
    """Where a write key went, and any doubt about the key itself."""

    location: str
    warning: str | None = None


@dataclass(frozen=True)
class KeyStatus:
    """Whether a write key is stored for a source, where, and its masked form."""

    source: str
    stored: bool
    location: str
    masked: str | None = None

    def describe(self) -> str:
        """One line for a person."""
        if self.stored:
            return (
                f"A write key for source '{self.source}' ({self.masked}) "
                f"is stored in {self.location}."
            )
        return f"No write key is stored for source '{self.source}' in {self.location}."


def pasted_problem(secret: str, name: str, where: str) -> str | None:
    """What makes stripped, pasted text unusable as a secret ("The write key ..."), or None:
    empty, a space or line break inside, an invisible control character."""
    if not secret:
        return f"{name} is empty. Copy it from {where}."
    if any(char.isspace() for char in secret):
        return (
            f"{name} has a space or line break in the middle. Copy it again, as one piece, "
            f"from {where}."
        )
    if any(unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"} for char in secret):
        return f"{name} contains an invisible control character. Copy it again from {where}."
    return None


def check_write_key(raw: str) -> CheckedKey:
    """Strip what surrounds a pasted write key; refuse text that cannot be one.

    Raises InvalidWriteKey for an empty key or one with whitespace or control characters
    inside. A key that is not 32 letters and digits is accepted with a warning.
    """
    key = raw.strip()
    problem = pasted_problem(key, "The write key", _WHERE_TO_COPY)
    if problem is not None:
        raise InvalidWriteKey(problem)
    warning = None
    if not (len(key) == SEGMENT_KEY_LENGTH and key.isascii() and key.isalnum()):
        symbols = "" if key.isascii() and key.isalnum() else ", not all of them letters or digits"
        warning = (
            "This does not look like a Segment write key, which is normally "
            f"{SEGMENT_KEY_LENGTH} letters and digits (this one has {len(key)} characters"
            f"{symbols}). It was accepted; check that you copied the whole key."
        )
    return CheckedKey(key, warning)


def check_source(source: str) -> str:
    """The Segment source name as typed, without surrounding whitespace."""
    name = source.strip()
    if not name:
        raise InvalidSourceName(
            "The source name is empty. Type the name of your Segment source, "
            f"for example '{DEFAULT_SOURCE}'."
        )
    return name


@runtime_checkable
class WriteKeyStore(Protocol):
    """Where write keys are kept, one per Segment source; every call may block."""

    def location(self) -> str: ...

    def save(self, source: str, raw_key: str) -> SaveResult: ...

    def load(self, source: str) -> str | None: ...

    def delete(self, source: str) -> bool: ...

    def status(self, source: str) -> KeyStatus: ...


class SystemKeyring:
    """The system keyring (Keychain, Credential Manager, Secret Service, KWallet), never a file.

    `run(action, job)` calls `job(backend)` in a daemon worker thread and gives up after
    `timeout` seconds with KeystoreUnavailable(reason TIMEOUT): the keyring may show an unlock
    prompt and wait for a person. A call that timed out may still complete later, when the
    keyring answers. Every failure becomes KeystoreUnavailable, its sentence naming `secret`
    ("the write key"). The backend is the one given, or keyring's own choice if it is a system
    keyring; a refused or failed choice is detected afresh next time. Thread-safe.
    """

    def __init__(
        self,
        backend: KeyringBackend | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        secret: str = WRITE_KEY,
    ) -> None:
        self._given = backend
        self._timeout = timeout
        self._secret = secret
        self._lock = threading.Lock()
        self._backend: KeyringBackend | None = None
        self._location: str | None = None
        self._detected_before = False

    def location(self) -> str:
        """A person's name for where secrets go, e.g. 'macOS Keychain'."""
        return self.run("find", self.location_of)

    def location_of(self, backend: KeyringBackend) -> str:
        """`location()` for a job that already has the backend."""
        with self._lock:
            if self._location is None:
                self._location = _location_name(backend)
            return self._location

    def delete(self, service: str, username: str) -> bool:
        """Remove one entry; False when there was none."""

        def job(backend: KeyringBackend) -> bool:
            try:
                backend.delete_password(service, username)
            except Exception as exc:
                if _is_a(exc, "keyring.errors.PasswordDeleteError"):
                    return False
                raise
            return True

        return self.run("delete", job)

    def run(self, action: str, job: Callable[[KeyringBackend], T]) -> T:
        """Run `job` on the backend in a worker thread, translating every failure."""
        outcome: list[tuple[bool, Any]] = []
        done = threading.Event()

        def work() -> None:
            try:
                outcome.append((True, job(self._resolve())))
            # Any failure is handed to the calling thread, which translates it for the user.
            except Exception as exc:  # noqa: BLE001
                outcome.append((False, exc))
            finally:
                done.set()

        threading.Thread(target=work, name=f"keystore-{action}", daemon=True).start()
        if not done.wait(self._timeout):
            log.info("The keyring did not answer within %g s (%s)", self._timeout, action)
            raise KeystoreUnavailable.because(
                Reason.TIMEOUT, timeout=self._timeout, secret=self._secret
            )
        if not outcome:
            raise KeystoreUnavailable.because(Reason.ERROR, action=action, secret=self._secret)
        succeeded, value = outcome[0]
        if succeeded:
            return cast(T, value)
        error = cast(Exception, value)
        if isinstance(error, KeystoreUnavailable):
            raise error
        reason = _reason_for(error)
        log.info("The keyring failed to %s (%s: %s)", action, type(error).__name__, reason)
        raise KeystoreUnavailable.because(reason, action=action, secret=self._secret) from error

    def _resolve(self) -> KeyringBackend:
        """The backend to use: the one given, or keyring's choice, if it is a system keyring."""
        with self._lock:
            if self._backend is not None:
                return self._backend
            if self._given is not None:
                candidate = self._given
            else:
                fresh, self._detected_before = self._detected_before, True
                candidate = _detect_backend(fresh=fresh)
            backend = _system_backend(candidate)
            if backend is None:
                log.info("Refused keyring backend %s", _class_name(type(candidate)))
                raise KeystoreUnavailable.because(Reason.NO_BACKEND, secret=self._secret)
            self._backend = backend
            return backend


class KeyStore:
    """Write keys in the system keyring, one entry per source name (a `SystemKeyring`).

    Every method blocks: the keyring may show an unlock prompt and wait for a person, so the
    GUI calls them off its thread. Each call gives up after `timeout` seconds with
    KeystoreUnavailable(reason TIMEOUT); a call that timed out may still complete later, when
    the keyring answers. Methods raise KeystoreUnavailable whenever the keyring cannot be used,
    never falling back to a file. Thread-safe.
    """

    def __init__(
        self, backend: KeyringBackend | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self._keyring = SystemKeyring(backend, timeout)

    def location(self) -> str:
        """A person's name for where keys go, e.g. 'macOS Keychain'."""
        return self._keyring.location()

    def save(self, source: str, raw_key: str) -> SaveResult:
        """Store the key for `source`, replacing any key stored for it before."""
        name = check_source(source)
        checked = check_write_key(raw_key)

        def job(backend: KeyringBackend) -> SaveResult:
            backend.set_password(SERVICE_NAME, name, checked.key)
            return SaveResult(self._keyring.location_of(backend), checked.warning)

        result = self._keyring.run("save", job)
        log.info("Saved the write key for source %r in %s", name, result.location)
        return result

    def load(self, source: str) -> str | None:
        """The key stored for `source`, or None."""
        name = check_source(source)
        return self._keyring.run("read", lambda backend: backend.get_password(SERVICE_NAME, name))

    def delete(self, source: str) -> bool:
        """Remove the key for `source`; False when none was stored."""
        name = check_source(source)
        deleted = self._keyring.delete(SERVICE_NAME, name)
        if deleted:
            log.info("Deleted the write key for source %r", name)
        return deleted

    def status(self, source: str) -> KeyStatus:
        """Whether a key is stored for `source`, and where."""
        name = check_source(source)

        def job(backend: KeyringBackend) -> KeyStatus:
            key = backend.get_password(SERVICE_NAME, name)
            location = self._keyring.location_of(backend)
            if key is None:
                return KeyStatus(name, stored=False, location=location)
            return KeyStatus(name, stored=True, location=location, masked=mask(key))

        return self._keyring.run("read", job)


class SessionKeyStore:
    """Write keys in this process's memory only: the user's choice when no keyring works."""

    def __init__(self) -> None:
        self._keys: dict[str, str] = {}
        self._lock = threading.Lock()

    def location(self) -> str:
        return SESSION_LOCATION

    def save(self, source: str, raw_key: str) -> SaveResult:
        name = check_source(source)
        checked = check_write_key(raw_key)
        with self._lock:
            self._keys[name] = checked.key
        return SaveResult(SESSION_LOCATION, checked.warning)

    def load(self, source: str) -> str | None:
        name = check_source(source)
        with self._lock:
            return self._keys.get(name)

    def delete(self, source: str) -> bool:
        name = check_source(source)
        with self._lock:
            return self._keys.pop(name, None) is not None

    def status(self, source: str) -> KeyStatus:
        name = check_source(source)
        with self._lock:
            key = self._keys.get(name)
        if key is None:
            return KeyStatus(name, stored=False, location=SESSION_LOCATION)
        return KeyStatus(name, stored=True, location=SESSION_LOCATION, masked=mask(key))


def _class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _is_a(obj: object, qualified_name: str) -> bool:
    """isinstance by class name, so that the class's module need not be imported."""
    return any(_class_name(cls) == qualified_name for cls in type(obj).__mro__)


def _system_kind(backend: KeyringBackend) -> str | None:
    for cls in type(backend).__mro__:
        location = _SYSTEM_BACKENDS.get(_class_name(cls))
        if location is not None:
            return location
    return None


def _system_backend(backend: KeyringBackend) -> KeyringBackend | None:
    """`backend` if it is a system keyring; for keyring's chainer, its best system keyring."""
    if _system_kind(backend) is not None:
        return backend
    if _is_a(backend, _CHAINER):
        chained = cast("list[KeyringBackend]", getattr(backend, "backends", []))
        return next((each for each in chained if _system_kind(each) is not None), None)
    return None


def _detect_backend(*, fresh: bool) -> KeyringBackend:
    """keyring's own choice (it honours the user's keyringrc and PYTHON_KEYRING_BACKEND).

    keyring caches its choice for the whole process; `fresh` detects again, so that a keyring
    started after a failed attempt is found when the person tries again.
    """
    import keyring
    import keyring.backend
    import keyring.core

    if fresh:
        vars(keyring.backend.get_all_keyring).pop("saved_result", None)
        keyring.core.init_backend()
    return keyring.get_keyring()


def _location_name(backend: KeyringBackend) -> str:
    kind = _system_kind(backend) or "the system keyring"
    if kind == DESKTOP_KEYRING_LOCATION:
        return _secret_service_provider() or kind
    return kind


def _secret_service_provider() -> str | None:
    """Which program serves org.freedesktop.secrets on the session bus, if that can be told."""
    try:
        from jeepney.bus_messages import message_bus  # type: ignore[import-untyped, unused-ignore]
        from jeepney.io.blocking import (  # type: ignore[import-untyped, unused-ignore]
            open_dbus_connection,
        )
        from jeepney.wrappers import unwrap_msg  # type: ignore[import-untyped, unused-ignore]

        with contextlib.closing(open_dbus_connection(bus="SESSION")) as connection:
            reply = connection.send_and_get_reply(
                message_bus.GetConnectionUnixProcessID("org.freedesktop.secrets"), timeout=2
            )
            pid = int(unwrap_msg(reply)[0])
        program = Path(f"/proc/{pid}/comm").read_text().strip()
    # Only a nicer name is at stake: the generic one is right whatever went wrong here.
    except Exception:  # noqa: BLE001
        return None
    return _SECRET_SERVICE_PROVIDERS.get(program)


def _reason_for(error: BaseException) -> Reason:
    """Classify an exception from keyring or secretstorage, following its causes."""
    names: set[str] = set()
    texts: list[str] = []
    seen: BaseException | None = error
    for _ in range(8):
        if seen is None:
            break
        names.update(_class_name(cls) for cls in type(seen).__mro__)
        texts.append(str(seen))
        seen = seen.__cause__ or seen.__context__
    if names & {
        "keyring.errors.KeyringLocked",
        "secretstorage.exceptions.LockedException",
        "secretstorage.exceptions.PromptDismissedException",
    } or any("Prompt dismissed" in text for text in texts):
        return Reason.LOCKED
    if names & {
        "keyring.errors.NoKeyringError",
        "secretstorage.exceptions.SecretServiceNotAvailableException",
    }:
        return Reason.NO_BACKEND
    return Reason.ERROR
