"""Which source of the workspace a write key belongs to, and whether it is a Chatlio source."""

from __future__ import annotations

from dataclasses import dataclass

from app.segment.public_api.client import PublicApiClient
from app.segment.public_api.models import Source


@dataclass(frozen=True)
class KeyOwner:
    """The answer to "is this the right key?".

    `source` is None when no source showed the key; `keys_visible` is False when every source
    came back with no write keys at all (the token lacks Source Admin), so "not found" cannot
    be said.
    """

    source: Source | None
    sources_seen: int
    keys_visible: bool

    @property
    def is_chatlio(self) -> bool:
        return self.source is not None and self.source.is_chatlio

    def describe(self) -> str:
        """One or two sentences: the source's name and kind, or why it could not be told.

        A non-Chatlio owner says the usual mistake (a website's JavaScript source key).
        """
        raise NotImplementedError


def find_key_owner(client: PublicApiClient, write_key: str) -> KeyOwner:
    """Look through every page of the workspace's sources for `write_key`."""
    raise NotImplementedError
