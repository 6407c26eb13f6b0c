"""A token the app did not check in this run: one stored by `token set` is found by the window,
and its workspace's region is found before the first call, so an EU token is not refused."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.key_storage import SESSION_LOCATION, KeyStorage
from app.keystore import KeyStore
from app.segment.endpoint import Region
from app.segment.public_api.hosts import ApiEndpoint
from app.token_store import KeyringTokenStore, SessionTokenStore
from app.ui.session import Session
from app.ui.settings import AppSettings
from tests.gui_helpers import shown
from tests.public_api_server import ApiServer, Reply, Seen, errors_reply, json_reply
from tests.secret_service import SecretServiceSession
from tests.test_screenshots import visible_text


@pytest.fixture
def planted() -> str:
    return "sgp_" + secrets.token_urlsafe(32)


@pytest.fixture
def us_refuses() -> Iterator[ApiServer]:
    with ApiServer(lambda seen: errors_reply(401, "Unauthorized")) as server:
        yield server


@pytest.fixture
def eu_accepts() -> Iterator[ApiServer]:
    def answer(seen: Seen) -> Reply:
        return json_reply({"workspace": {"id": "ws-eu", "slug": "acme-eu", "name": "Acme EU"}})

    with ApiServer(answer) as server:
        yield server


def test_a_token_stored_on_the_command_line_is_found_by_the_window(
    qtbot: QtBot, tmp_path: Path, secret_service: SecretServiceSession, planted: str
) -> None:
    """`token set` cannot tell the app's settings; the key's keyring is read anyway."""
    from app.ui.main_window import MainWindow

    store = KeyringTokenStore(backend=secret_service.backend())
    store.save(planted)
    settings = AppSettings(str(tmp_path / "settings.ini"))
    settings.key_storage = KeyStorage.KEYRING  # and token_stored never set by the app
    session = Session(settings, keystore=KeyStore(backend=fail.Keyring()), token_store=store)
    window = shown(qtbot, MainWindow(session), 900, 600)
    qtbot.waitUntil(lambda: session.api_token() == planted, timeout=20_000)
    assert settings.token_stored
    header = window.findChild(QWidget, "header")
    assert header is not None
    assert planted not in visible_text(window)
    assert planted not in (tmp_path / "settings.ini").read_text()


def test_without_a_stored_token_nothing_is_said_missing(
    qtbot: QtBot, tmp_path: Path, secret_service: SecretServiceSession
) -> None:
    from app.ui.main_window import MainWindow

    settings = AppSettings(str(tmp_path / "settings.ini"))
    settings.key_storage = KeyStorage.KEYRING
    store = KeyringTokenStore(backend=secret_service.backend())
    session = Session(settings, keystore=KeyStore(backend=fail.Keyring()), token_store=store)
    window = shown(qtbot, MainWindow(session), 900, 600)
    header = window.findChild(QWidget, "header")
    assert header is not None
    qtbot.waitUntil(lambda: "No Public API token" in visible_text(header), timeout=20_000)
    assert "no longer" not in visible_text(header)


def test_an_unchecked_token_finds_its_region_before_the_first_call(
    tmp_path: Path, us_refuses: ApiServer, eu_accepts: ApiServer, planted: str
) -> None:
    hosts = (ApiEndpoint(us_refuses.url, Region.US), ApiEndpoint(eu_accepts.url, Region.EU))
    session = Session(
        AppSettings(str(tmp_path / "settings.ini")),
        keystore=KeyStore(backend=fail.Keyring()),
        token_store=SessionTokenStore(),
        api_hosts=hosts,
    )
    session.use_sandbox = False
    session.set_token(planted, SESSION_LOCATION)  # as read from the keyring at start
    with session.api_client() as client:
        assert client.endpoint.region is Region.EU
    check = session.token_check
    assert check is not None
    assert check.workspace.slug == "acme-eu"
    asked = len(us_refuses.seen) + len(eu_accepts.seen)
    with session.api_client() as client:  # checked once, not at every call
        assert client.endpoint.region is Region.EU
    assert len(us_refuses.seen) + len(eu_accepts.seen) == asked


def owner_of(session: Session) -> object:
    """A call: type checkers do not pin the property between changes."""
    return session.key_owner


def test_a_new_token_forgets_which_source_the_key_belongs_to(tmp_path: Path, planted: str) -> None:
    from app.proof.key_owner import KeyOwner

    session = Session(
        AppSettings(str(tmp_path / "settings.ini")),
        keystore=KeyStore(backend=fail.Keyring()),
        token_store=SessionTokenStore(),
    )
    session.set_token(planted, SESSION_LOCATION)
    before = session.token_generation
    session.key_owner = KeyOwner(None, 3, True)
    session.set_token(planted + "x", SESSION_LOCATION)  # another workspace may answer now
    assert owner_of(session) is None
    assert session.token_generation != before
    session.key_owner = KeyOwner(None, 3, True)
    session.forget_token()
    assert owner_of(session) is None
