"""Pytest plugin: a private D-Bus session with a real GNOME Keyring Secret Service for tests."""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = [
    "DBusSession",
    "SecretServiceSession",
    "StoredItem",
    "dbus_without_secret_service",
    "locked_secret_service",
    "reset_keyring_detection",
    "secret_service",
]

SECRETS_BUS_NAME = "org.freedesktop.secrets"
KEYRING_PASSWORD = "test-login-password"
START_TIMEOUT = 10.0

# Only our own (empty) service directory: the standard one would let the bus start the system's
# gnome-keyring or its password prompter, whose window waits forever under Xvfb.
_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{service_dir}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

_XDG_DIRS = {
    "XDG_CONFIG_HOME": ".config",
    "XDG_CACHE_HOME": ".cache",
    "XDG_DATA_HOME": ".local/share",
    "XDG_STATE_HOME": ".local/state",
}


def _require_binaries() -> None:
    """Skip where the daemons are missing; fail instead in CI (CI=true), which must run them."""
    if not sys.platform.startswith("linux"):
        pytest.skip("a Secret Service on a private D-Bus session needs Linux")
    missing = [name for name in ("dbus-daemon", "gnome-keyring-daemon") if not shutil.which(name)]
    if not missing:
        return
    reason = (
        f"{' and '.join(missing)} not found: install the Debian packages dbus and gnome-keyring "
        "(bash scripts/dev setup does) to run the real-keyring tests"
    )
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _die_with_parent() -> None:
    """Runs in the child before exec: a killed test run must not leave daemons behind."""
    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def _stop(process: subprocess.Popen[Any] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _connect(address: str) -> Any:
    """A jeepney connection to the bus at `address`, ready for secretstorage calls."""
    from jeepney.io.blocking import (  # type: ignore[import-untyped, unused-ignore]
        open_dbus_connection,
    )
    from secretstorage.util import add_match_rules

    connection = open_dbus_connection(bus=address)
    add_match_rules(connection)
    return connection


def _name_has_owner(address: str, name: str) -> bool:
    from jeepney.bus_messages import message_bus  # type: ignore[import-untyped, unused-ignore]

    with contextlib.closing(_connect(address)) as connection:
        reply = connection.send_and_get_reply(message_bus.NameHasOwner(name), timeout=2)
        return bool(reply.body[0])


def reset_keyring_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make keyring detect its backend afresh in this test and again after it.

    keyring caches both the chosen backend and the list of viable ones process-wide, so a test
    that ran earlier without a Secret Service would otherwise decide the backend for this one.
    """
    import keyring.backend
    import keyring.core

    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    _forget_viable_backends()
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)


def _forget_viable_backends() -> None:
    import keyring.backend

    vars(keyring.backend.get_all_keyring).pop("saved_result", None)


@dataclass(frozen=True)
class StoredItem:
    """One item in the Secret Service's default collection, as another client sees it."""

    label: str
    attributes: dict[str, str]
    secret: str = field(repr=False)


class _Bus:
    """A dbus-daemon on a private socket that activates nothing."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runtime_dir = root / "runtime"
        self.runtime_dir.mkdir(mode=0o700)
        service_dir = root / "services"
        service_dir.mkdir()
        config = root / "bus.conf"
        config.write_text(
            _BUS_CONFIG.format(socket=self.runtime_dir / "bus", service_dir=service_dir)
        )
        self.process = subprocess.Popen(
            ["dbus-daemon", "--nofork", "--print-address=1", f"--config-file={config}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 -- tests run fixtures on one thread
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT)
        line = self.process.stdout.readline().decode().strip() if ready else ""
        self.process.stdout.close()
        if not line:
            _stop(self.process)
            pytest.fail(f"dbus-daemon did not start within {START_TIMEOUT:g} s", pytrace=False)
        self.address = line

    def stop(self) -> None:
        _stop(self.process)


class _Keyring:
    """gnome-keyring-daemon (secrets component only) on a `_Bus`, with its own HOME."""

    def __init__(self, bus: _Bus, home: Path) -> None:
        self.bus = bus
        self.home = home
        self.data_dir = home / ".local/share/keyrings"
        self.log = home / "gnome-keyring.log"
        self.process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "XDG_RUNTIME_DIR": str(self.bus.runtime_dir),
            "DBUS_SESSION_BUS_ADDRESS": self.bus.address,
        }
        env.update({name: str(self.home / sub) for name, sub in _XDG_DIRS.items()})
        return env

    def start(self, *, unlock: bool = True, forget: bool = False) -> None:
        self.stop()
        if forget:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        self.home.mkdir(parents=True, exist_ok=True)
        args = ["gnome-keyring-daemon", "--foreground", "--components=secrets"]
        if unlock:
            args.append("--unlock")
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                args,
                env=self.env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=log,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 -- tests run fixtures on one thread
            )
        assert self.process.stdin is not None
        # --unlock reads the login keyring's password from stdin until end of file.
        if unlock:
            self.process.stdin.write(KEYRING_PASSWORD.encode())
        self.process.stdin.close()
        self._wait_until_serving()

    def _wait_until_serving(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if _name_has_owner(self.bus.address, SECRETS_BUS_NAME):
                return
            time.sleep(0.01)
        log = self.log.read_text(errors="replace")[-2000:]
        self.stop()
        pytest.fail(
            f"gnome-keyring-daemon did not serve {SECRETS_BUS_NAME} within {START_TIMEOUT:g} s;"
            f" its log ends with:\n{log}",
            pytrace=False,
        )

    def stop(self) -> None:
        _stop(self.process)
        self.process = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "gnome-keyring-daemon is not running"
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class DBusSession:
    """A private D-Bus session for one test, with its own HOME and XDG directories.

    `env` holds the variables that point at it (DBUS_SESSION_BUS_ADDRESS, HOME, XDG_*);
    they are already set in os.environ for the test. `environ()` is a full environment for
    subprocesses such as the CLI.
    """

    def __init__(self, bus: _Bus, home: Path) -> None:
        self.bus_address = bus.address
        self.runtime_dir = bus.runtime_dir
        self.home = home
        self.config_home = home / _XDG_DIRS["XDG_CONFIG_HOME"]
        self.cache_home = home / _XDG_DIRS["XDG_CACHE_HOME"]
        self.data_home = home / _XDG_DIRS["XDG_DATA_HOME"]
        self.state_home = home / _XDG_DIRS["XDG_STATE_HOME"]
        for directory in (self.config_home, self.cache_home, self.data_home, self.state_home):
            directory.mkdir(parents=True, exist_ok=True)
        self.env: dict[str, str] = {
            "HOME": str(home),
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "XDG_CONFIG_HOME": str(self.config_home),
            "XDG_CACHE_HOME": str(self.cache_home),
            "XDG_DATA_HOME": str(self.data_home),
            "XDG_STATE_HOME": str(self.state_home),
            "DBUS_SESSION_BUS_ADDRESS": self.bus_address,
        }

    def environ(self) -> dict[str, str]:
        """os.environ with this session's variables, and no keyring backend forced."""
        merged = {**os.environ, **self.env}
        merged.pop("PYTHON_KEYRING_BACKEND", None)
        return merged

    def _apply(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name, value in self.env.items():
            monkeypatch.setenv(name, value)
        reset_keyring_detection(monkeypatch)


class SecretServiceSession(DBusSession):
    """A `DBusSession` with gnome-keyring serving org.freedesktop.secrets, unlocked.

    The login keyring's files live in `keyring_dir`. Helpers: `backend()` (keyring's
    SecretService backend), `items()` (what is stored, read with secretstorage), `lock()`,
    `restart()`, `frozen()` (the daemon stops answering) and `keyring_pid`.
    """

    def __init__(self, bus: _Bus, home: Path, daemon: _Keyring) -> None:
        super().__init__(bus, home)
        self._daemon = daemon
        self.keyring_dir = daemon.data_dir
        self.password = KEYRING_PASSWORD
        self._disturbed = False

    @property
    def keyring_pid(self) -> int:
        return self._daemon.pid

    def backend(self) -> KeyringBackend:
        """A new keyring SecretService backend (it talks to DBUS_SESSION_BUS_ADDRESS)."""
        from keyring.backends import SecretService

        backend: KeyringBackend = SecretService.Keyring()
        return backend

    def items(self) -> list[StoredItem]:
        """Every item in the default collection (which must be unlocked), ordered by label.

        gnome-keyring adds its own ``xdg:schema`` attribute once it has written an item to disk
        and read it back, which happens at a moment no client controls; it is left out so that
        the same item compares equal before and after.
        """
        import secretstorage

        with contextlib.closing(_connect(self.bus_address)) as connection:
            collection = secretstorage.get_default_collection(connection)
            items = [
                StoredItem(
                    label=item.get_label(),
                    attributes={
                        name: value
                        for name, value in item.get_attributes().items()
                        if not name.startswith("xdg:")
                    },
                    secret=item.get_secret().decode(),
                )
                for item in collection.get_all_items()
            ]
        return sorted(items, key=lambda item: item.label)

    def is_locked(self) -> bool:
        import secretstorage

        with contextlib.closing(_connect(self.bus_address)) as connection:
            return bool(secretstorage.get_default_collection(connection).is_locked())

    def lock(self) -> None:
        """Lock the login keyring: with no prompter on this bus it cannot be unlocked again."""
        import secretstorage

        self._disturbed = True
        with contextlib.closing(_connect(self.bus_address)) as connection:
            collection = secretstorage.get_default_collection(connection)
            collection.lock()
            assert collection.is_locked()

    def restart(self, *, unlock: bool = True, forget: bool = False) -> None:
        """Restart gnome-keyring-daemon; `forget` deletes the keyring files first.

        unlock=False leaves an existing login keyring locked; with forget=True as well there is
        no keyring at all, and creating one needs a prompt that cannot appear (dismissed).
        """
        if not unlock or forget:
            self._disturbed = True
        self._daemon.start(unlock=unlock, forget=forget)

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """Stop the daemon (SIGSTOP) so calls hang as with an unanswered prompt; resume after."""
        os.kill(self.keyring_pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self.keyring_pid, signal.SIGCONT)

    def _clear(self) -> None:
        import secretstorage

        with contextlib.closing(_connect(self.bus_address)) as connection:
            collection = secretstorage.get_default_collection(connection)
            for item in list(collection.get_all_items()):
                item.delete()

    def _reset(self) -> None:
        """Leave the shared daemon as the next test expects it: running, unlocked and empty."""
        if self._disturbed or not self._daemon.running():
            self._daemon.start(unlock=True, forget=True)
        else:
            self._clear()


@pytest.fixture(scope="session")
def secret_service_daemons() -> Iterator[tuple[_Bus, _Keyring]]:
    """One bus and one gnome-keyring-daemon for the whole run (each test starts clean)."""
    _require_binaries()
    root = Path(tempfile.mkdtemp(prefix="kr-"))
    bus: _Bus | None = None
    daemon: _Keyring | None = None
    try:
        bus = _Bus(root)
        daemon = _Keyring(bus, root / "keyring-home")
        daemon.start()
        yield bus, daemon
    finally:
        if daemon is not None:
            daemon.stop()
        if bus is not None:
            bus.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def secret_service(
    secret_service_daemons: tuple[_Bus, _Keyring], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SecretServiceSession]:
    """A real, unlocked, empty Secret Service; os.environ points at it for this test."""
    bus, daemon = secret_service_daemons
    if not daemon.running():
        daemon.start(unlock=True, forget=True)
    home = Path(tempfile.mkdtemp(prefix="home-", dir=bus.root))
    session = SecretServiceSession(bus, home, daemon)
    session._apply(monkeypatch)
    try:
        yield session
    finally:
        session._reset()
        _forget_viable_backends()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def locked_secret_service(secret_service: SecretServiceSession) -> SecretServiceSession:
    """`secret_service` with its login keyring locked (the next test gets a fresh one)."""
    secret_service.lock()
    return secret_service


@pytest.fixture
def dbus_without_secret_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[DBusSession]:
    """A private D-Bus session where nothing owns or can start org.freedesktop.secrets."""
    _require_binaries()
    root = Path(tempfile.mkdtemp(prefix="bus-"))
    bus: _Bus | None = None
    try:
        bus = _Bus(root)
        session = DBusSession(bus, root / "home")
        session._apply(monkeypatch)
        yield session
    finally:
        if bus is not None:
            bus.stop()
        _forget_viable_backends()
        shutil.rmtree(root, ignore_errors=True)
