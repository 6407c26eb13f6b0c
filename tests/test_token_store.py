"""The Public API token store against a real GNOME Keyring Secret Service, and in memory."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import SecretService, fail, null

from app import keystore
from app.key_storage import SESSION_LOCATION
from app.keystore import KeyStore, KeystoreUnavailable, Reason
from app.token_store import (
    SERVICE_NAME,
    USERNAME,
    InvalidToken,
    KeyringTokenStore,
    SessionTokenStore,
    TokenStatus,
    TokenStore,
    check_token_text,
)
from tests.secret_service import DBusSession, SecretServiceSession

TOKEN = "sgp_PlantedTokenXk3q9Zt0b7Vw2mN4rL8sD1fH6jY5cA"
OTHER_TOKEN = "sgp_OtherTokenQ8w7e6r5t4y3u2i1o0pAsDfGhJkL"
KEY = "q1W2e3R4t5Y6u7I8o9P0a1S2d3F4g5H6"
GNOME_KEYRING = "GNOME Keyring (Secret Service)"

keyring_test = pytest.mark.keyring


class HangingSecretService(SecretService.Keyring):
    """A Secret Service whose reads never answer, like one waiting on an unlock prompt."""

    priority = -1.0  # keep it out of keyring's own detection in later tests

    def __init__(self, release: threading.Event) -> None:
        super().__init__()
        self._release = release

    def get_password(self, service: str, username: str) -> str | None:
        self._release.wait(30)
        return None


def new(backend_class: type[KeyringBackend]) -> KeyringBackend:
    return backend_class()


def assert_unavailable(excinfo: pytest.ExceptionInfo[KeystoreUnavailable], reason: Reason) -> None:
    error = excinfo.value
    assert error.reason == reason
    assert "To fix this" in error.message
    assert TOKEN not in str(error) + repr(error)


# Against the real Secret Service


@keyring_test
def test_round_trip_through_the_detected_keyring(secret_service: SecretServiceSession) -> None:
    store = KeyringTokenStore()
    assert store.load() is None

    assert store.save(f"  {TOKEN}\n") == GNOME_KEYRING

    assert store.load() == TOKEN
    assert KeyringTokenStore(backend=secret_service.backend()).load() == TOKEN
    assert store.location() == GNOME_KEYRING
    [item] = secret_service.items()
    assert item.attributes["service"] == SERVICE_NAME
    assert item.attributes["username"] == USERNAME
    assert item.secret == TOKEN


@keyring_test
def test_the_token_and_the_write_keys_never_share_an_entry(
    secret_service: SecretServiceSession,
) -> None:
    keys = KeyStore(secret_service.backend())
    tokens = KeyringTokenStore(backend=secret_service.backend())
    # A source named like the token's entry is still a write key of its own.
    keys.save(USERNAME, KEY)
    keys.save(SERVICE_NAME, KEY)
    tokens.save(TOKEN)

    assert keys.load(USERNAME) == KEY
    assert tokens.load() == TOKEN
    assert keys.delete(USERNAME)
    assert tokens.load() == TOKEN
    assert tokens.delete()
    assert keys.load(SERVICE_NAME) == KEY
    entries = {(i.attributes["service"], i.attributes["username"]) for i in secret_service.items()}
    assert entries == {(keystore.SERVICE_NAME, SERVICE_NAME)}


@keyring_test
def test_saving_again_replaces_the_token(secret_service: SecretServiceSession) -> None:
    store = KeyringTokenStore(backend=secret_service.backend())
    store.save(TOKEN)
    store.save(OTHER_TOKEN)

    assert store.load() == OTHER_TOKEN
    assert [item.secret for item in secret_service.items()] == [OTHER_TOKEN]


@keyring_test
def test_status_and_delete(secret_service: SecretServiceSession) -> None:
    store = KeyringTokenStore(backend=secret_service.backend())
    empty = store.status()
    assert empty == TokenStatus(stored=False, location=GNOME_KEYRING)
    assert empty.describe() == f"No Public API token is stored in {GNOME_KEYRING}."

    store.save(TOKEN)
    full = store.status()

    assert full == TokenStatus(stored=True, location=GNOME_KEYRING, masked="sg…cA")
    assert full.describe() == f"A Public API token (sg…cA) is stored in {GNOME_KEYRING}."
    assert TOKEN not in repr(full)
    assert store.delete() is True
    assert store.load() is None
    assert store.delete() is False
    assert secret_service.items() == []


@keyring_test
def test_the_token_survives_a_keyring_restart(secret_service: SecretServiceSession) -> None:
    KeyringTokenStore(backend=secret_service.backend()).save(TOKEN)
    secret_service.restart()

    assert KeyringTokenStore(backend=secret_service.backend()).load() == TOKEN


@keyring_test
def test_nothing_secret_in_logs(
    secret_service: SecretServiceSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = KeyringTokenStore(backend=secret_service.backend())
    store.save(TOKEN)
    store.status()
    store.load()
    store.delete()

    assert "Public API token" in caplog.text
    assert TOKEN not in caplog.text


@keyring_test
def test_unusable_tokens_are_refused_without_echoing_them(
    secret_service: SecretServiceSession,
) -> None:
    store = KeyringTokenStore(backend=secret_service.backend())
    with pytest.raises(InvalidToken) as excinfo:
        store.save(f"{TOKEN[:20]} {TOKEN[20:]}")

    assert TOKEN[:20] not in str(excinfo.value)
    assert TOKEN[20:] not in str(excinfo.value)
    assert secret_service.items() == []


# When the keyring cannot be used


@pytest.mark.parametrize("backend", [new(fail.Keyring), new(null.Keyring)], ids=type)
def test_backends_that_are_not_system_keyrings_are_refused(backend: KeyringBackend) -> None:
    store = KeyringTokenStore(backend=backend)
    for call in (store.location, lambda: store.save(TOKEN), store.load, store.delete, store.status):
        with pytest.raises(KeystoreUnavailable) as excinfo:
            call()
        assert_unavailable(excinfo, Reason.NO_BACKEND)
        assert "to keep the Public API token safe" in excinfo.value.message


@keyring_test
def test_bus_without_secret_service(dbus_without_secret_service: DBusSession) -> None:
    with pytest.raises(KeystoreUnavailable) as excinfo:
        KeyringTokenStore().save(TOKEN)
    assert_unavailable(excinfo, Reason.NO_BACKEND)


@keyring_test
def test_locked_keyring(locked_secret_service: SecretServiceSession) -> None:
    store = KeyringTokenStore(30, backend=locked_secret_service.backend())
    for call in (lambda: store.save(TOKEN), store.load, store.status, store.delete):
        with pytest.raises(KeystoreUnavailable) as excinfo:
            call()
        assert_unavailable(excinfo, Reason.LOCKED)


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def test_a_call_that_hangs_times_out(release: threading.Event) -> None:
    store = KeyringTokenStore(0.2, backend=HangingSecretService(release))
    started = time.monotonic()

    with pytest.raises(KeystoreUnavailable) as excinfo:
        store.load()

    assert_unavailable(excinfo, Reason.TIMEOUT)
    assert "within 0.2 seconds" in excinfo.value.message
    assert time.monotonic() - started < 10  # the backend hangs until the test ends


def test_the_write_keys_sentences_are_unchanged() -> None:
    with pytest.raises(KeystoreUnavailable) as excinfo:
        KeyStore(new(fail.Keyring)).load("Chatlio")
    assert "to keep the write key safe" in excinfo.value.message


# Session-only store and the text check


def test_session_store() -> None:
    store = SessionTokenStore()
    assert store.location() == SESSION_LOCATION
    assert store.status().describe() == f"No Public API token is stored in {SESSION_LOCATION}."
    assert store.load() is None

    assert store.save(f"\t{TOKEN} ") == SESSION_LOCATION

    assert store.load() == TOKEN
    assert store.status() == TokenStatus(stored=True, location=SESSION_LOCATION, masked="sg…cA")
    assert TOKEN not in repr(store)
    with pytest.raises(InvalidToken):
        store.save("two words")
    assert store.load() == TOKEN
    assert store.delete() is True
    assert store.delete() is False
    assert store.load() is None


def test_both_stores_satisfy_the_protocol() -> None:
    assert isinstance(KeyringTokenStore(), TokenStore)
    assert isinstance(SessionTokenStore(), TokenStore)


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "is empty"),
        (" \n\t", "is empty"),
        (f"Bearer {TOKEN}", "without the word 'Bearer'"),
        (f"{TOKEN[:20]} {TOKEN[20:]}", "space or line break"),
        (f"{TOKEN[:20]}\n{TOKEN[20:]}", "space or line break"),
        (f"{TOKEN[:20]}\x00{TOKEN[20:]}", "control character"),
        (f"{TOKEN[:20]}\u200b{TOKEN[20:]}", "control character"),
        (f"{TOKEN[:20]}é{TOKEN[20:]}", "not plain letters"),
    ],
)
def test_text_that_cannot_be_a_token(raw: str, says: str) -> None:
    with pytest.raises(InvalidToken, match=says) as excinfo:
        check_token_text(raw)
    message = str(excinfo.value)
    assert message.endswith(".")
    assert TOKEN[:20] not in message
    assert TOKEN[20:] not in message


def test_a_token_is_taken_as_pasted_without_surrounding_whitespace() -> None:
    assert check_token_text(f"  {TOKEN}\r\n") == TOKEN
    assert check_token_text("short") == "short"
