"""The keystore against a real GNOME Keyring Secret Service on a private D-Bus session."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import SecretService, chainer, fail, null

from app.keystore import (
    DEFAULT_SOURCE,
    DESKTOP_KEYRING_LOCATION,
    SERVICE_NAME,
    SESSION_LOCATION,
    CheckedKey,
    InvalidSourceName,
    InvalidWriteKey,
    KeyStatus,
    KeyStore,
    KeystoreUnavailable,
    Reason,
    SaveResult,
    SessionKeyStore,
    WriteKeyStore,
    check_write_key,
)
from app.redaction import mask
from tests.secret_service import DBusSession, SecretServiceSession

KEY = "q1W2e3R4t5Y6u7I8o9P0a1S2d3F4g5H6"
OTHER_KEY = "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp"
GNOME_KEYRING = "GNOME Keyring (Secret Service)"

keyring_test = pytest.mark.keyring


class PlaintextFileKeyring(KeyringBackend):
    """Stands in for keyrings.alt's file backends, which write secrets to disk."""

    # keyring registers every backend class it sees: keep this one out of its own detection.
    priority = -1.0

    def __init__(self) -> None:
        super().__init__()
        self.written: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.written.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.written[service, username] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.written[service, username]


class HangingSecretService(SecretService.Keyring):
    """A Secret Service whose reads never answer, like one waiting on an unlock prompt."""

    # Or keyring's detection in later tests would prefer it to the real one (same priority).
    priority = -1.0

    def __init__(self, release: threading.Event) -> None:
        super().__init__()
        self._release = release

    def get_password(self, service: str, username: str) -> str | None:
        self._release.wait(30)
        return None


def new(backend_class: type[KeyringBackend]) -> KeyringBackend:
    """An instance of keyring's `backend_class` (a direct call is untyped for mypy)."""
    return backend_class()


def assert_unavailable(excinfo: pytest.ExceptionInfo[KeystoreUnavailable], reason: Reason) -> None:
    error = excinfo.value
    assert error.reason == reason
    assert str(error) == error.message
    assert "To fix this" in error.message
    assert KEY not in str(error)
    assert KEY not in repr(error)


# Against the real Secret Service


@keyring_test
def test_round_trip_through_the_detected_keyring(secret_service: SecretServiceSession) -> None:
    store = KeyStore()
    assert store.load(DEFAULT_SOURCE) is None

    result = store.save(DEFAULT_SOURCE, KEY)

    assert result == SaveResult(location=GNOME_KEYRING, warning=None)
    assert store.load(DEFAULT_SOURCE) == KEY
    assert KeyStore(secret_service.backend()).load(DEFAULT_SOURCE) == KEY
    assert store.location() == GNOME_KEYRING


@keyring_test
def test_one_entry_per_source_named_exactly_as_typed(
    secret_service: SecretServiceSession,
) -> None:
    store = KeyStore(secret_service.backend())
    store.save("  Chatlio Café (EU) Prod \n", KEY)
    store.save(DEFAULT_SOURCE, OTHER_KEY)

    entries = {
        item.attributes["username"]: (item.attributes["service"], item.secret)
        for item in secret_service.items()
    }
    assert entries == {
        "Chatlio Café (EU) Prod": (SERVICE_NAME, KEY),
        DEFAULT_SOURCE: (SERVICE_NAME, OTHER_KEY),
    }
    assert secret_service.backend().get_password(SERVICE_NAME, "Chatlio Café (EU) Prod") == KEY
    assert store.load("Chatlio Café (EU) Prod") == KEY
    assert store.load("chatlio café (eu) prod") is None


@keyring_test
def test_saving_again_replaces_the_key(secret_service: SecretServiceSession) -> None:
    store = KeyStore(secret_service.backend())
    store.save(DEFAULT_SOURCE, KEY)
    store.save(DEFAULT_SOURCE, OTHER_KEY)

    assert store.load(DEFAULT_SOURCE) == OTHER_KEY
    assert [item.secret for item in secret_service.items()] == [OTHER_KEY]


@keyring_test
def test_delete(secret_service: SecretServiceSession) -> None:
    store = KeyStore(secret_service.backend())
    store.save(DEFAULT_SOURCE, KEY)
    store.save("Other", OTHER_KEY)

    assert store.delete(DEFAULT_SOURCE) is True
    assert store.load(DEFAULT_SOURCE) is None
    assert store.delete(DEFAULT_SOURCE) is False
    assert store.delete("Never stored") is False
    assert store.load("Other") == OTHER_KEY


@keyring_test
def test_status_describes_in_one_line(secret_service: SecretServiceSession) -> None:
    store = KeyStore(secret_service.backend())
    empty = store.status(DEFAULT_SOURCE)
    assert empty == KeyStatus(DEFAULT_SOURCE, stored=False, location=GNOME_KEYRING)
    assert empty.describe() == (f"No write key is stored for source 'Chatlio' in {GNOME_KEYRING}.")

    store.save(DEFAULT_SOURCE, KEY)
    full = store.status(f" {DEFAULT_SOURCE} ")

    assert full == KeyStatus(DEFAULT_SOURCE, stored=True, location=GNOME_KEYRING, masked="q1…H6")
    assert full.describe() == (
        f"A write key for source 'Chatlio' (q1…H6) is stored in {GNOME_KEYRING}."
    )
    assert KEY not in repr(full)


@keyring_test
def test_surrounding_whitespace_is_not_stored(secret_service: SecretServiceSession) -> None:
    store = KeyStore(secret_service.backend())
    store.save(DEFAULT_SOURCE, f"  \t{KEY}\r\n")

    assert store.load(DEFAULT_SOURCE) == KEY


@keyring_test
@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "is empty"),
        (" \n\t", "is empty"),
        (f"{KEY[:16]} {KEY[16:]}", "space or line break"),
        (f"{KEY[:16]}\n{KEY[16:]}", "space or line break"),
        (f"{KEY[:16]}\x00{KEY[16:]}", "control character"),
        (f"{KEY[:16]}\u200b{KEY[16:]}", "control character"),
    ],
)
def test_unusable_keys_are_refused_without_echoing_them(
    secret_service: SecretServiceSession, raw: str, says: str
) -> None:
    store = KeyStore(secret_service.backend())
    with pytest.raises(InvalidWriteKey, match=says) as excinfo:
        store.save(DEFAULT_SOURCE, raw)

    message = str(excinfo.value)
    assert message.endswith(".")
    assert "Settings → API Keys" in message
    assert KEY[:16] not in message
    assert KEY[16:] not in message
    assert secret_service.items() == []


@keyring_test
def test_unusual_key_is_stored_with_a_warning(secret_service: SecretServiceSession) -> None:
    store = KeyStore(secret_service.backend())
    result = store.save(DEFAULT_SOURCE, "abc-123")

    assert result.warning is not None
    assert "32 letters and digits" in result.warning
    assert "7 characters" in result.warning
    assert "abc-123" not in result.warning
    assert store.load(DEFAULT_SOURCE) == "abc-123"


@keyring_test
def test_empty_source_name_is_refused(secret_service: SecretServiceSession) -> None:
    store = KeyStore(secret_service.backend())
    with pytest.raises(InvalidSourceName, match="source name is empty"):
        store.save("  ", KEY)
    with pytest.raises(ValueError, match="source name is empty"):
        store.load("")
    assert secret_service.items() == []


@keyring_test
def test_key_survives_a_keyring_restart(secret_service: SecretServiceSession) -> None:
    KeyStore(secret_service.backend()).save(DEFAULT_SOURCE, KEY)
    secret_service.restart()

    assert KeyStore(secret_service.backend()).load(DEFAULT_SOURCE) == KEY


@keyring_test
def test_concurrent_calls(secret_service: SecretServiceSession) -> None:
    store = KeyStore(secret_service.backend())
    sources = [f"Source {n}" for n in range(8)]
    threads = [threading.Thread(target=store.save, args=(name, KEY)) for name in sources]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(item.attributes["username"] for item in secret_service.items()) == sources


@keyring_test
def test_nothing_secret_in_logs(
    secret_service: SecretServiceSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = KeyStore(secret_service.backend())
    store.save(DEFAULT_SOURCE, KEY)
    store.status(DEFAULT_SOURCE)
    store.delete(DEFAULT_SOURCE)

    assert "Chatlio" in caplog.text
    assert KEY not in caplog.text


# When the keyring cannot be used


@pytest.mark.parametrize(
    "backend", [new(fail.Keyring), new(null.Keyring), PlaintextFileKeyring()], ids=type
)
def test_backends_that_are_not_system_keyrings_are_refused(backend: KeyringBackend) -> None:
    store = KeyStore(backend)
    for call in (
        store.location,
        lambda: store.save(DEFAULT_SOURCE, KEY),
        lambda: store.load(DEFAULT_SOURCE),
        lambda: store.delete(DEFAULT_SOURCE),
        lambda: store.status(DEFAULT_SOURCE),
    ):
        with pytest.raises(KeystoreUnavailable) as excinfo:
            call()
        assert_unavailable(excinfo, Reason.NO_BACKEND)
        assert "GNOME Keyring or KWallet" in excinfo.value.message
    assert not getattr(backend, "written", {})


@keyring_test
def test_chainer_uses_only_its_system_keyring(
    secret_service: SecretServiceSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    plaintext = PlaintextFileKeyring()
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [plaintext, secret_service.backend()])

    KeyStore(new(chainer.ChainerBackend)).save(DEFAULT_SOURCE, KEY)

    assert plaintext.written == {}
    assert [item.secret for item in secret_service.items()] == [KEY]


def test_chainer_without_a_system_keyring_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    plaintext = PlaintextFileKeyring()
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [plaintext])

    with pytest.raises(KeystoreUnavailable) as excinfo:
        KeyStore(new(chainer.ChainerBackend)).save(DEFAULT_SOURCE, KEY)

    assert_unavailable(excinfo, Reason.NO_BACKEND)
    assert plaintext.written == {}


@keyring_test
def test_bus_without_secret_service(dbus_without_secret_service: DBusSession) -> None:
    with pytest.raises(KeystoreUnavailable) as detected:
        KeyStore().save(DEFAULT_SOURCE, KEY)
    assert_unavailable(detected, Reason.NO_BACKEND)

    store = KeyStore(new(SecretService.Keyring))
    with pytest.raises(KeystoreUnavailable) as forced:
        store.load(DEFAULT_SOURCE)
    assert_unavailable(forced, Reason.NO_BACKEND)
    # Nobody owns the bus name, so the location cannot be narrowed down to one program.
    assert store.location() == DESKTOP_KEYRING_LOCATION


@keyring_test
def test_a_keyring_started_later_is_found_on_retry(
    secret_service: SecretServiceSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS")
    store = KeyStore()
    with pytest.raises(KeystoreUnavailable) as excinfo:
        store.save(DEFAULT_SOURCE, KEY)
    assert_unavailable(excinfo, Reason.NO_BACKEND)

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", secret_service.bus_address)

    assert store.save(DEFAULT_SOURCE, KEY).location == GNOME_KEYRING
    assert [item.secret for item in secret_service.items()] == [KEY]


@keyring_test
def test_locked_keyring(locked_secret_service: SecretServiceSession) -> None:
    # A long timeout: were a prompt waiting for a person, the calls would end in TIMEOUT.
    store = KeyStore(locked_secret_service.backend(), timeout=30)
    for call in (
        lambda: store.save(DEFAULT_SOURCE, KEY),
        lambda: store.load(DEFAULT_SOURCE),
        lambda: store.delete(DEFAULT_SOURCE),
        lambda: store.status(DEFAULT_SOURCE),
    ):
        with pytest.raises(KeystoreUnavailable) as excinfo:
            call()
        assert_unavailable(excinfo, Reason.LOCKED)
        assert "unlock your keyring" in excinfo.value.message


@keyring_test
def test_keyring_left_locked_at_login(secret_service: SecretServiceSession) -> None:
    KeyStore(secret_service.backend()).save(DEFAULT_SOURCE, KEY)
    secret_service.restart(unlock=False)

    with pytest.raises(KeystoreUnavailable) as excinfo:
        KeyStore(secret_service.backend(), timeout=30).load(DEFAULT_SOURCE)

    assert_unavailable(excinfo, Reason.LOCKED)


@keyring_test
def test_no_login_keyring_and_unlock_prompt_dismissed(
    secret_service: SecretServiceSession,
) -> None:
    secret_service.restart(unlock=False, forget=True)

    with pytest.raises(KeystoreUnavailable) as excinfo:
        KeyStore(timeout=30).save(DEFAULT_SOURCE, KEY)

    assert_unavailable(excinfo, Reason.LOCKED)


@keyring_test
def test_keyring_that_does_not_answer_times_out(secret_service: SecretServiceSession) -> None:
    store = KeyStore(secret_service.backend(), timeout=0.5)
    store.save(DEFAULT_SOURCE, KEY)

    with secret_service.frozen():
        started = time.monotonic()
        with pytest.raises(KeystoreUnavailable) as excinfo:
            store.load(DEFAULT_SOURCE)
        elapsed = time.monotonic() - started

    assert_unavailable(excinfo, Reason.TIMEOUT)
    assert "within 0.5 seconds" in excinfo.value.message
    assert elapsed < 10  # the frozen service would never answer
    assert store.load(DEFAULT_SOURCE) == KEY


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def test_backend_call_that_hangs_times_out(release: threading.Event) -> None:
    store = KeyStore(HangingSecretService(release), timeout=0.2)
    started = time.monotonic()

    with pytest.raises(KeystoreUnavailable) as excinfo:
        store.status(DEFAULT_SOURCE)

    assert_unavailable(excinfo, Reason.TIMEOUT)
    assert time.monotonic() - started < 10  # the backend hangs until the test ends


# Session-only store and plain helpers


def test_session_store() -> None:
    store = SessionKeyStore()
    assert store.location() == SESSION_LOCATION
    assert store.status(DEFAULT_SOURCE).describe() == (
        f"No write key is stored for source 'Chatlio' in {SESSION_LOCATION}."
    )

    assert store.save(f" {DEFAULT_SOURCE}", f"{KEY}\n") == SaveResult(SESSION_LOCATION)
    assert store.load(DEFAULT_SOURCE) == KEY
    assert store.load("Other") is None
    assert store.status(DEFAULT_SOURCE).describe() == (
        f"A write key for source 'Chatlio' (q1…H6) is stored in {SESSION_LOCATION}."
    )
    assert store.save("Other", "short").warning is not None
    assert store.delete(DEFAULT_SOURCE) is True
    assert store.delete(DEFAULT_SOURCE) is False
    assert store.load("Other") == "short"
    with pytest.raises(InvalidWriteKey):
        store.save(DEFAULT_SOURCE, "two words")
    with pytest.raises(InvalidSourceName):
        store.status(" ")
    assert KEY not in repr(store)


def test_both_stores_satisfy_the_protocol() -> None:
    assert isinstance(KeyStore(), WriteKeyStore)
    assert isinstance(SessionKeyStore(), WriteKeyStore)


@pytest.mark.parametrize(
    ("key", "masked"),
    [(KEY, "q1…H6"), ("abcdefgh", "ab…gh"), ("abcdefg", "••••"), ("", "••••")],
)
def test_mask(key: str, masked: str) -> None:
    assert mask(key) == masked


def test_reprs_never_show_the_key() -> None:
    checked = check_write_key(KEY)
    assert checked == CheckedKey(KEY, None)
    for value in (checked, SaveResult("x"), KeyStatus("s", stored=True, location="x")):
        assert KEY not in repr(value)
        assert KEY not in str(value)


def test_importing_the_keystore_does_not_import_keyring() -> None:
    code = (
        "import sys, app.keystore; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'keyring', 'secretstorage',"
        " 'jeepney', 'PySide6'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
