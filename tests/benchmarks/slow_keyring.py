"""A Secret Service keyring that answers after a delay and keeps passwords in memory only.

It subclasses keyring's SecretService backend so that the app's KeyStore accepts it as the
system keyring (it refuses file backends by class), but it never touches D-Bus. Its priority
is -1, so keyring's autodetection never picks it: a process uses it only when asked, through
PYTHON_KEYRING_BACKEND=tests.benchmarks.slow_keyring.SlowKeyring.
"""

from __future__ import annotations

import os
import threading
import time

from keyring.backends import SecretService

DELAY_ENV = "BENCH_KEYRING_DELAY"
BACKEND_NAME = f"{__name__}.SlowKeyring"


class SlowKeyring(SecretService.Keyring):
    """Every read and write takes BENCH_KEYRING_DELAY seconds (default 2), like a slow keyring."""

    priority = -1

    def __init__(self) -> None:
        super().__init__()
        self.delay = float(os.environ.get(DELAY_ENV, "2"))
        self._passwords: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def get_password(self, service: str, username: str) -> str | None:
        time.sleep(self.delay)
        with self._lock:
            return self._passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        time.sleep(self.delay)
        with self._lock:
            self._passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        time.sleep(self.delay)
        with self._lock:
            self._passwords.pop((service, username), None)
