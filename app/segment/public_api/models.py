"""What the Public API's answers mean to this app, as small frozen records."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.segment.public_api import CHATLIO_METADATA_ID


@dataclass(frozen=True)
class Workspace:
    """`GET /`'s `data.workspace`."""

    id: str
    slug: str
    name: str


@dataclass(frozen=True)
class CatalogEntry:
    """A source's `metadata`: which kind of source it is (Chatlio, JavaScript website...)."""

    id: str
    slug: str
    name: str


@dataclass(frozen=True)
class Source:
    """A SourceV1. `write_keys` is empty when the token lacks Source Admin (not "no key")."""

    id: str
    slug: str
    name: str
    catalog: CatalogEntry
    enabled: bool
    workspace_id: str
    write_keys: tuple[str, ...] = field(default=(), repr=False)

    @property
    def is_chatlio(self) -> bool:
        return self.catalog.id == CHATLIO_METADATA_ID


@dataclass(frozen=True)
class Connection:
    """A destination or warehouse a source sends to (`connected-destinations/-warehouses`)."""

    id: str
    name: str
    enabled: bool
    catalog_name: str  # metadata.name: "Google Analytics 4", "Postgres"...


@dataclass(frozen=True)
class CountRow:
    """One row of a Delivery Overview dataset or an events-volume result."""

    total: int
    event_name: str | None = None
    event_type: str | None = None
    discard_reason: str | None = None  # failed-on-ingest only


@dataclass(frozen=True)
class Counts:
    """A count answer: its total and its rows (grouped as asked)."""

    total: int
    rows: tuple[CountRow, ...] = ()
