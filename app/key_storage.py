"""Where the wizard put the write key — never the key itself; cheap to import at start-up."""

from __future__ import annotations

from enum import StrEnum


class KeyStorage(StrEnum):
    """The value is what the settings file stores (`setup/key_storage`)."""

    KEYRING = "keyring"  # the operating system's keyring
    SESSION = "session"  # in memory for this run only
    SANDBOX = "sandbox"  # no real key: events go to the built-in sandbox with a made-up one


# Where a key kept for this run only is "stored", as the windows and the CLI say it.
SESSION_LOCATION = "this session only (forgotten when the app closes)"
