"""The Segment Public API token in the OS keyring (or this session only), and nowhere else."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from app.key_storage import SESSION_LOCATION
from app.keystore import DEFAULT_TIMEOUT, SystemKeyring, pasted_problem
from app.redaction import mask

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = [
    "SERVICE_NAME",
    "TOKEN_ENV",
    "USERNAME",
    "InvalidToken",
    "KeyringTokenStore",
    "SessionTokenStore",
    "TokenStatus",
    "TokenStore",
    "check_token_text",
]

log = logging.getLogger(__name__)

# Scripts give the token here, as they give the write key in SEGMENT_WRITE_KEY.
TOKEN_ENV = "SEGMENT_API_TOKEN"  # noqa: S105 - a variable name
# Its own keyring service, apart from the write keys' (one entry per source name there), so
# that no source name can ever be mistaken for the token's entry.
SERVICE_NAME = "chatlio-segment-setup-public-api"
USERNAME = "token"
TOKEN = "the Public API token"  # noqa: S105 - how sentences name it
_WHERE_TO_GET = "Segment, under Settings → Access Management → Tokens"


class InvalidToken(ValueError):
    """Text that cannot be a token; the message says what to do, in a sentence."""


def check_token_text(raw: str) -> str:
    """The token as pasted, stripped; InvalidToken for empty text, spaces or control chars.

    The message never repeats the token. A token is sent in an HTTP header, so only printable
    ASCII can be one.
    """
    token = raw.strip()
    if token.lower().startswith("bearer ") and not any(c.isspace() for c in token[7:].strip()):
        raise InvalidToken("Paste only the token itself, without the word 'Bearer' in front of it.")
    problem = pasted_problem(token, "The Public API token", _WHERE_TO_GET)
    if problem is not None:
        raise InvalidToken(problem)
    if not token.isascii():
        raise InvalidToken(
            "The Public API token has characters that are not plain letters, digits or "
            f"punctuation, so it cannot be Segment's. Copy it again from {_WHERE_TO_GET}."
        )
    return token


@dataclass(frozen=True)
class TokenStatus:
    """Whether the token is stored, where, and its masked form."""

    stored: bool
    location: str
    masked: str | None = None

    def describe(self) -> str:
        """One line for a person."""
        if self.stored:
            return f"A Public API token ({self.masked}) is stored in {self.location}."
        return f"No Public API token is stored in {self.location}."


@runtime_checkable
class TokenStore(Protocol):
    """Where the one Public API token is kept; every call may block (keyring prompts)."""

    def location(self) -> str: ...

    def save(self, raw_token: str) -> str:
        """Store the token; returns the location it went to. Raises InvalidToken or
        app.keystore.KeystoreUnavailable."""
        ...

    def load(self) -> str | None: ...

    def delete(self) -> bool: ...

    def status(self) -> TokenStatus: ...


class KeyringTokenStore:
    """The token in the system keyring, with KeyStore's timeouts and error sentences.

    One entry: service SERVICE_NAME, user USERNAME. Every method blocks (call it off the GUI
    thread) and raises app.keystore.KeystoreUnavailable when the keyring cannot be used; it
    never falls back to a file. Thread-safe.
    """

    def __init__(
        self, timeout: float = DEFAULT_TIMEOUT, *, backend: KeyringBackend | None = None
    ) -> None:
        self._keyring = SystemKeyring(backend, timeout, secret=TOKEN)

    def location(self) -> str:
        return self._keyring.location()

    def save(self, raw_token: str) -> str:
        token = check_token_text(raw_token)

        def job(backend: KeyringBackend) -> str:
            backend.set_password(SERVICE_NAME, USERNAME, token)
            return self._keyring.location_of(backend)

        location = self._keyring.run("save", job)
        log.info("Saved the Public API token in %s", location)
        return location

    def load(self) -> str | None:
        return self._keyring.run(
            "read", lambda backend: backend.get_password(SERVICE_NAME, USERNAME)
        )

    def delete(self) -> bool:
        deleted = self._keyring.delete(SERVICE_NAME, USERNAME)
        if deleted:
            log.info("Deleted the Public API token")
        return deleted

    def status(self) -> TokenStatus:
        def job(backend: KeyringBackend) -> TokenStatus:
            token = backend.get_password(SERVICE_NAME, USERNAME)
            location = self._keyring.location_of(backend)
            if token is None:
                return TokenStatus(stored=False, location=location)
            return TokenStatus(stored=True, location=location, masked=mask(token))

        return self._keyring.run("read", job)


class SessionTokenStore:
    """The token in this process's memory only: the user's choice when no keyring works."""

    def __init__(self) -> None:
        self._token: str | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SessionTokenStore(stored={self._token is not None})"

    def location(self) -> str:
        return SESSION_LOCATION

    def save(self, raw_token: str) -> str:
        token = check_token_text(raw_token)
        with self._lock:
            self._token = token
        return SESSION_LOCATION

    def load(self) -> str | None:
        with self._lock:
            return self._token

    def delete(self) -> bool:
        with self._lock:
            had, self._token = self._token is not None, None
        return had

    def status(self) -> TokenStatus:
        with self._lock:
            token = self._token
        if token is None:
            return TokenStatus(stored=False, location=SESSION_LOCATION)
        return TokenStatus(stored=True, location=SESSION_LOCATION, masked=mask(token))
