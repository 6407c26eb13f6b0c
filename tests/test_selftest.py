"""--self-test: every check passes on a working install, and names what is missing when not."""

from __future__ import annotations

import io
import ssl
import sys
from pathlib import Path
from typing import TextIO

import pytest
from keyring.backends import SecretService
from pytestqt.qtbot import QtBot

from app import selftest
from app.keystore import SERVICE_NAME, KeyStore
from app.segment.sandbox import Sandbox
from app.selftest import PROBE_SERVICE
from app.token_store import SERVICE_NAME as TOKEN_SERVICE
from app.token_store import KeyringTokenStore
from app.ui import self_check
from tests.secret_service import DBusSession, SecretServiceSession, StoredItem

PLANTED_KEY = "plantedWriteKey0123456789abcdefAB"
PLANTED_TOKEN = "sgp_plantedTokenForTheSelfTest0123456789"

CHECK_NAMES = ["imports", "qt", "keyring", "tls", "round-trip", "history"]


def run_checks() -> tuple[int, list[str]]:
    out = io.StringIO()
    code = selftest.run_self_test(out)
    return code, out.getvalue().splitlines()


def only(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Run just the named checks (the others may need what a test does not set up)."""
    monkeypatch.setattr(selftest, "CHECKS", [c for c in selftest.CHECKS if c.name in names])


@pytest.fixture
def failing_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Sandbox answers its first API request with 503."""
    original = Sandbox.start

    def start(self: Sandbox) -> Sandbox:
        started = original(self)
        started.fail_next(503)
        return started

    monkeypatch.setattr(Sandbox, "start", start)


@pytest.mark.keyring
def test_everything_in_place_passes(qtbot: QtBot, secret_service: SecretServiceSession) -> None:
    code, lines = run_checks()

    assert code == 0, "\n".join(lines)
    assert lines[0].startswith("Chatlio Segment Setup ")
    assert [line[:5] for line in lines[1:-1]] == ["ok   "] * len(CHECK_NAMES)
    assert [line[5:].split(":")[0] for line in lines[1:-1]] == CHECK_NAMES
    assert "GNOME Keyring" in lines[3]
    assert lines[-1].startswith("Self-test passed: 6 checks in ")


@pytest.mark.keyring
def test_no_keyring_fails_with_the_reason_and_a_fix(
    qtbot: QtBot, dbus_without_secret_service: DBusSession
) -> None:
    code, lines = run_checks()

    assert code == 1
    keyring_line = next(line for line in lines if "keyring" in line.split(":")[0])
    assert keyring_line.startswith("FAIL keyring: No system keyring was found")
    assert "GNOME Keyring or KWallet" in keyring_line
    assert lines[-1].startswith("Self-test FAILED: 1 of 6 checks (keyring) in ")
    assert sum(line.startswith("ok   ") for line in lines) == len(CHECK_NAMES) - 1


class RecordingKeyring(SecretService.Keyring):
    """keyring's real Secret Service backend, recording every call (and optionally misbehaving)."""

    def __init__(
        self,
        *,
        give_back: str | None = None,
        keep_deleted: bool = False,
        fail_after_store: bool = False,
    ) -> None:
        super().__init__()
        self.calls: list[tuple[str, str, str]] = []
        self._give_back = give_back
        self._keep_deleted = keep_deleted
        self._fail_after_store = fail_after_store

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls.append(("set", service, username))
        super().set_password(service, username, password)
        if self._fail_after_store:
            raise RuntimeError("the keyring wrote the item, then failed")

    def get_password(self, service: str, username: str) -> str | None:
        self.calls.append(("get", service, username))
        secret = super().get_password(service, username)
        return self._give_back if self._give_back is not None and secret is not None else secret

    def delete_password(self, service: str, username: str) -> None:
        self.calls.append(("delete", service, username))
        if not self._keep_deleted:
            super().delete_password(service, username)


@pytest.fixture
def planted(secret_service: SecretServiceSession) -> list[StoredItem]:
    """The user's own write key and token, stored before the self-test runs."""
    KeyStore().save("Chatlio", PLANTED_KEY)
    KeyringTokenStore().save(PLANTED_TOKEN)
    items = secret_service.items()
    assert len(items) == 2
    return items


def use_backend(monkeypatch: pytest.MonkeyPatch, backend: RecordingKeyring) -> None:
    import keyring.core

    monkeypatch.setattr(keyring.core, "_keyring_backend", backend)


def probe_items(secret_service: SecretServiceSession) -> list[StoredItem]:
    return [i for i in secret_service.items() if i.attributes.get("service") == PROBE_SERVICE]


@pytest.mark.keyring
def test_keyring_check_stores_reads_and_deletes_only_a_throwaway_item(
    secret_service: SecretServiceSession, planted: list[StoredItem], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = RecordingKeyring()
    use_backend(monkeypatch, backend)

    detail = selftest.check_keyring()

    assert detail.endswith(": stored, read back and deleted a throwaway test item")
    assert [call[0] for call in backend.calls] == ["set", "get", "delete", "get"]
    assert {call[1] for call in backend.calls} == {PROBE_SERVICE}
    assert len({call[2] for call in backend.calls}) == 1
    assert PROBE_SERVICE not in (SERVICE_NAME, TOKEN_SERVICE)
    assert secret_service.items() == planted


@pytest.mark.keyring
def test_each_run_uses_a_fresh_item_name(
    secret_service: SecretServiceSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = RecordingKeyring()
    use_backend(monkeypatch, backend)

    selftest.check_keyring()
    selftest.check_keyring()

    assert len({call[2] for call in backend.calls}) == 2


@pytest.mark.keyring
def test_a_keyring_that_gives_back_another_secret_fails_and_is_cleaned_up(
    secret_service: SecretServiceSession, planted: list[StoredItem], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_backend(monkeypatch, RecordingKeyring(give_back="something else"))

    with pytest.raises(selftest.CheckFailed, match="gave back a different secret"):
        selftest.check_keyring()

    assert probe_items(secret_service) == []
    assert secret_service.items() == planted


@pytest.mark.keyring
def test_a_keyring_that_does_not_delete_fails_and_names_the_entry(
    secret_service: SecretServiceSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_backend(monkeypatch, RecordingKeyring(keep_deleted=True))

    with pytest.raises(selftest.CheckFailed) as failure:
        selftest.check_keyring()

    assert str(failure.value) == (
        "the keyring did not delete a throwaway test item; remove the entry named "
        f"'{PROBE_SERVICE}' by hand"
    )
    assert len(probe_items(secret_service)) == 1


@pytest.mark.keyring
def test_a_store_that_fails_after_writing_is_reported_and_leaves_no_item(
    secret_service: SecretServiceSession, planted: list[StoredItem], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_backend(monkeypatch, RecordingKeyring(fail_after_store=True))

    with pytest.raises(selftest.CheckFailed) as failure:
        selftest.check_keyring()

    assert str(failure.value).startswith(
        "The keyring reported an error when asked to store a throwaway test item."
    )
    assert probe_items(secret_service) == []
    assert secret_service.items() == planted


@pytest.mark.keyring
def test_a_locked_keyring_fails_the_check_though_the_backend_is_found(
    qtbot: QtBot, secret_service: SecretServiceSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_service.lock()
    only(monkeypatch, "keyring")

    code, lines = run_checks()

    assert code == 1
    assert lines[1].startswith("FAIL keyring: The keyring is locked")


def test_a_module_that_does_not_import_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    only(monkeypatch, "imports")
    monkeypatch.setattr(
        selftest, "THIRD_PARTY_MODULES", (*selftest.THIRD_PARTY_MODULES, "no_such_module_xyz")
    )

    code, lines = run_checks()

    assert code == 1
    assert lines[1].startswith("FAIL imports: 1 of ")
    assert (
        "no_such_module_xyz (ModuleNotFoundError: No module named 'no_such_module_xyz')"
        in (lines[1])
    )


def test_imports_cover_every_app_module() -> None:
    modules = selftest._app_modules()

    assert {"app.cli", "app.keystore", "app.segment.sandbox", "app.ui.app", "app.ui.wizard"} <= set(
        modules
    )
    assert "app.__main__" not in modules
    assert "app.selftest" not in modules


def test_qt_check_uses_the_running_application(qtbot: QtBot) -> None:
    detail = selftest.check_qt()

    assert detail.startswith("platform ")
    assert "drew the SVG icon" in detail


def test_missing_app_icon_fails_the_qt_check(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(self_check, "_app_icon_path", lambda: None)

    with pytest.raises(selftest.CheckFailed, match=r"app icon resources/icons/app\.svg"):
        selftest.check_qt()


def test_tls_reports_its_trust_store() -> None:
    detail = selftest.check_tls()

    assert "CA certificates" in detail
    assert "truststore" in detail or "certifi" in detail


def test_missing_ca_bundle_fails_tls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import certifi

    monkeypatch.setattr(certifi, "where", lambda: str(tmp_path / "cacert.pem"))
    only(monkeypatch, "tls")

    code, lines = run_checks()

    missing = tmp_path / "cacert.pem"
    assert code == 1
    assert (
        lines[1]
        == f"FAIL tls: certifi's CA bundle, the fallback trust store, is missing: {missing}"
    )


def test_empty_system_store_fails_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.segment.client import make_ssl_context

    if not type(make_ssl_context()).__module__.startswith("truststore"):
        pytest.skip("this machine has no system trust store, so certifi is used")
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(selftest, "_linux_store", lambda: ("/etc/ssl/empty.pem", 0))

    with pytest.raises(selftest.CheckFailed, match="has no CA certificates; install the ca-cert"):
        selftest.check_tls()


def test_tls_without_verification_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.segment.client

    monkeypatch.setattr(app.segment.client, "make_ssl_context", ssl._create_unverified_context)

    with pytest.raises(selftest.CheckFailed, match="does not verify certificates"):
        selftest.check_tls()


def test_round_trip_sends_one_event() -> None:
    detail = selftest.check_round_trip()

    assert detail.startswith("'Live Chat Conversation Started' sent and received in ")


@pytest.mark.usefixtures("failing_sandbox")
def test_round_trip_failure_says_what_the_sandbox_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    only(monkeypatch, "round-trip")

    code, lines = run_checks()

    assert code == 1
    assert lines[1].startswith(
        "FAIL round-trip: sending one event to the local sandbox failed (503)"
    )


def test_history_keeps_a_send_in_a_file_of_its_own() -> None:
    from app.history.store import HistoryStore, default_path

    detail = selftest.check_history()

    assert detail.startswith("SQLite 3.")
    assert str(default_path()) in detail
    assert not default_path().exists(), "the user's own history is not touched"
    assert HistoryStore().count() == 0


def test_a_history_that_cannot_be_written_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.history.store import HistoryStore, HistoryUnavailable

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise HistoryUnavailable("The disk is full, so the send history cannot be written.")

    monkeypatch.setattr(HistoryStore, "record", refuse)
    only(monkeypatch, "history")

    code, lines = run_checks()

    assert code == 1
    assert lines[1] == "FAIL history: The disk is full, so the send history cannot be written."


def test_a_crashing_check_is_a_failure_with_its_location(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> str:
        return str(1 / 0)

    monkeypatch.setattr(selftest, "CHECKS", [selftest.Check("broken", broken)])

    code, lines = run_checks()

    assert code == 1
    assert lines[1].startswith("FAIL broken: unexpected ZeroDivisionError: division by zero (at ")
    assert "test_selftest.py:" in lines[1]
    assert lines[-1].startswith("Self-test FAILED: 1 of 1 checks (broken)")


def test_main_takes_no_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert selftest.main(["--verbose"]) == 2
    assert "--self-test takes no arguments" in capsys.readouterr().err


def test_the_command_line_runs_the_self_test(monkeypatch: pytest.MonkeyPatch) -> None:
    from app import cli

    calls: list[object] = []

    def fake(out: TextIO) -> int:
        calls.append(out)
        return 0

    monkeypatch.setattr(selftest, "run_self_test", fake)

    assert cli.run(["--self-test"], out=io.StringIO()) == 0
    assert len(calls) == 1
