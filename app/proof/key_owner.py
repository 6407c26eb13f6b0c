"""Which source of the workspace a write key belongs to, and whether it is a Chatlio source."""

from __future__ import annotations

from dataclasses import dataclass

from app.redaction import printable
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
    keyless: int = 0  # sources that showed no write keys (the token may lack Source Admin there)

    @property
    def is_chatlio(self) -> bool:
        return self.source is not None and self.source.is_chatlio

    def describe(self) -> str:
        """One or two sentences: the source's name and kind, or why it could not be told.

        A non-Chatlio owner says the usual mistake (a website's JavaScript source key).
        """
        source = self.source
        if source is not None:
            name = printable(source.name, 80)
            if source.is_chatlio:
                off = "" if source.enabled else " It is turned off: enable it in Segment."
                return f'The key belongs to source "{name}", a Chatlio source: the right one.{off}'
            kind = printable(source.catalog.name, 60) or "another kind of"
            return (
                f'The key belongs to source "{name}", a {kind} source, not a Chatlio one. '
                "This is the usual mistake: the key of the website's JavaScript source was "
                "copied instead of the Chatlio source's. Copy the key from the Chatlio source's "
                "settings in Segment, or create a Chatlio source."
            )
        if self.sources_seen == 0:
            return (
                "The workspace has no sources yet, so this key is not one of its sources'. "
                "Create a Chatlio source first."
            )
        if not self.keys_visible:
            return (
                "The token cannot see write keys, so the app cannot tell which of the "
                f"workspace's {_sources(self.sources_seen)} this key belongs to. A Workspace "
                "Owner can give the token Source Admin."
            )
        if self.keyless:
            shown = self.sources_seen - self.keyless
            return (
                f"None of the {_sources(shown)} whose write keys the token can see has this "
                f"key, but {_sources(self.keyless)} showed none (the token may lack Source "
                "Admin on them), so it may be one of those. A Workspace Owner can give the token "
                "Source Admin on every source."
            )
        return (
            f"None of the workspace's {_sources(self.sources_seen)} has this key: it may belong "
            "to another workspace, or to a source that was deleted, or it was mistyped. Copy it "
            "again from the Chatlio source's settings in Segment."
        )


def find_key_owner(client: PublicApiClient, write_key: str) -> KeyOwner:
    """Look through every page of the workspace's sources for `write_key`."""
    sources = client.sources()
    key = write_key.strip()
    owner = next((s for s in sources if key and key in s.write_keys), None)
    visible = not sources or any(s.write_keys for s in sources)
    keyless = sum(1 for s in sources if not s.write_keys) if visible else 0
    return KeyOwner(owner, len(sources), visible, keyless)


def _sources(count: int) -> str:
    return "1 source" if count == 1 else f"{count} sources"
