"""The Segment Public API token in the OS keyring (or this session only), and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

# Scripts give the token here, as they give the write key in SEGMENT_WRITE_KEY.
TOKEN_ENV = "SEGMENT_API_TOKEN"  # noqa: S105 - a variable name


class InvalidToken(ValueError):
    """Text that cannot be a token; the message says what to do, in a sentence."""


def check_token_text(raw: str) -> str:
    """The token as pasted, stripped; InvalidToken for empty text, spaces or control chars."""
    raise NotImplementedError


@dataclass(frozen=True)
class TokenStatus:
    stored: bool
    location: str
    masked: str | None = None

    def describe(self) -> str:
        raise NotImplementedError


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
    """The token in the system keyring, with KeyStore's timeouts and error sentences."""

    def __init__(self, timeout: float = 10.0) -> None:
        raise NotImplementedError

    def location(self) -> str:
        raise NotImplementedError

    def save(self, raw_token: str) -> str:
        raise NotImplementedError

    def load(self) -> str | None:
        raise NotImplementedError

    def delete(self) -> bool:
        raise NotImplementedError

    def status(self) -> TokenStatus:
        raise NotImplementedError
