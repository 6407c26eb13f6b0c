"""What this run of the app knows: the source, the write key (in memory only), where events go."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from app.key_storage import KeyStorage
from app.segment import SANDBOX_KEY
from app.ui.settings import AppSettings

if TYPE_CHECKING:
    from app.keystore import WriteKeyStore
    from app.segment.endpoint import Endpoint
    from app.segment.retry import RetryPolicy
    from app.segment.sandbox import Sandbox
    from app.sending import Target


# The keyring may show an unlock prompt that a person has to answer: give them time. The window
# stays responsive meanwhile (calls run on a worker), and a hung keyring still ends.
KEYRING_TIMEOUT = 120.0


class Session:
    """Shared by the wizard pages and the test panel; blocking methods are for worker threads."""

    def __init__(self, settings: AppSettings, keystore: WriteKeyStore | None = None) -> None:
        self.settings = settings
        self._keystore = keystore
        self._key: str | None = None
        self.key_location: str | None = None
        self.use_sandbox = settings.key_storage == KeyStorage.SANDBOX
        self._sandbox: Sandbox | None = None
        self._lock = threading.Lock()
        # An address other than Segment's US host (a proxy of the company's, or a test receiver).
        self.custom_endpoint: Endpoint | None = None
        self.retry: RetryPolicy | None = None  # None: the official libraries' policy

    def __repr__(self) -> str:
        return f"Session(source={self.source_name!r}, sandbox={self.use_sandbox}, key=<hidden>)"

    @property
    def source_name(self) -> str:
        return self.settings.source_name or "Chatlio"

    @property
    def keystore(self) -> WriteKeyStore:
        """The OS keyring, created on first use (importing keyring is slow): call off the GUI."""
        with self._lock:
            if self._keystore is None:
                from app.keystore import KeyStore

                self._keystore = KeyStore(timeout=KEYRING_TIMEOUT)
            return self._keystore

    def set_key(self, key: str, location: str) -> None:
        self._key, self.key_location = key, location

    def forget_key(self) -> None:
        self._key, self.key_location = None, None

    def secrets(self) -> list[str]:
        """What must never be shown: the real key, whatever mode the session is in."""
        return [self._key] if self._key else []

    def write_key(self) -> str | None:
        """The key to send with; in sandbox mode always a made-up one, never the real key."""
        if self.use_sandbox:
            return SANDBOX_KEY
        return self._key

    def target(self) -> Target:
        """Where test events go, with which key; starts the sandbox in sandbox mode (off GUI).

        Raises LookupError when there is no key to send with.
        """
        from app.segment.endpoint import US
        from app.sending import Target

        if self.use_sandbox:
            return Target.sandbox(self.sandbox())
        if self._key is None:
            raise LookupError("no write key")
        return Target.segment(self.custom_endpoint or US, self._key)

    def sandbox(self) -> Sandbox:
        with self._lock:
            if self._sandbox is None:
                from app.segment.sandbox import Sandbox

                self._sandbox = Sandbox().start()
            return self._sandbox

    def close(self) -> None:
        with self._lock:
            if self._sandbox is not None:
                self._sandbox.stop()
                self._sandbox = None
