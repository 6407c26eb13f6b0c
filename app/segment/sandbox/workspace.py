"""The sandbox's one workspace: its catalog, its sources and what they connect to; thread-safe."""

from __future__ import annotations

import re
import secrets
import string
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Final

from app.segment import SANDBOX_KEY
from app.segment.public_api import CHATLIO_METADATA_ID

WORKSPACE_ID: Final = "sandbox-workspace"
WORKSPACE_SLUG: Final = "sandbox"
WORKSPACE_NAME: Final = "Sandbox workspace"
CHATLIO_ID: Final = CHATLIO_METADATA_ID
JAVASCRIPT_ID: Final = "IqDTy1TpoU"
HTTP_API_ID: Final = "xRxEq5n8Rn"  # made up: the filler sources' kind
WEBSITE_KEY: Final = "sandbox-website-key"
WEBSITE_SOURCE_ID: Final = "sandboxWebsiteSource"
# A source's slug as the sandbox accepts it: what Segment's app makes of a name.
SLUG: Final = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,98}[a-z0-9])?")
# Past this many sources a POST /sources or add_sources is refused: the sandbox stays small.
MAX_SOURCES: Final = 10_000
# What marks the stand-in Chatlio source (see Workspace) in its `labels`.
STAND_IN_LABELS: Final = (("sandbox", "stand-in until a Chatlio source is created"),)
_KEY_CHARS: Final = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Catalog:
    """One entry of Segment's source catalog (a SourceV1's metadata)."""

    id: str
    slug: str
    name: str
    description: str
    categories: tuple[str, ...]
    cloud: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "slug": self.slug,
            "description": self.description,
            "logos": {"default": f"https://cdn.filepicker.io/api/file/sandbox-{self.slug}"},
            "options": [],
            "categories": list(self.categories),
            "isCloudEventSource": self.cloud,
            "status": "PUBLIC",
        }


CATALOG: Final[dict[str, Catalog]] = {
    entry.id: entry
    for entry in (
        Catalog(
            CHATLIO_ID,
            "chatlio",
            "Chatlio",
            "Live chat for Slack: chat events sent to Segment.",
            ("Livechat",),
            cloud=True,
        ),
        Catalog(
            JAVASCRIPT_ID,
            "javascript",
            "Javascript",
            "Analytics.js, Segment's library for websites.",
            ("Website",),
            cloud=False,
        ),
        Catalog(
            HTTP_API_ID,
            "http-api",
            "HTTP API",
            "Send data from any server with plain HTTP requests.",
            ("Server",),
            cloud=False,
        ),
    )
}


@dataclass(frozen=True)
class Connection:
    """A destination or warehouse a source sends to."""

    id: str
    name: str
    catalog_id: str
    catalog_slug: str
    catalog_name: str
    enabled: bool = True

    def to_json(self, source_id: str, kind: str) -> dict[str, Any]:
        metadata = {"id": self.catalog_id, "slug": self.catalog_slug, "name": self.catalog_name}
        document: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "enabled": self.enabled,
            "workspaceId": WORKSPACE_ID,
            "metadata": metadata,
            "settings": {},
        }
        if kind == "destination":
            document["sourceId"] = source_id
        return document


@dataclass(frozen=True)
class Source:
    """A source of the workspace, never changed once made; write_keys stay out of repr."""

    id: str
    slug: str
    name: str
    catalog: Catalog
    enabled: bool = True
    write_keys: tuple[str, ...] = field(default=(), repr=False)
    settings: dict[str, Any] = field(default_factory=dict)
    destinations: tuple[Connection, ...] = ()
    warehouses: tuple[Connection, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()

    def to_json(self, *, hide_keys: bool) -> dict[str, Any]:
        """The SourceV1 as Segment answers it; no write keys for a token without Source Admin."""
        return {
            "id": self.id,
            "slug": self.slug,
            "name": self.name,
            "metadata": self.catalog.to_json(),
            "workspaceId": WORKSPACE_ID,
            "enabled": self.enabled,
            "writeKeys": [] if hide_keys else list(self.write_keys),
            "settings": dict(self.settings),
            "labels": [{"key": key, "value": value} for key, value in self.labels],
        }


class SourceError(Exception):
    """A source that cannot be created: status (409, 422), the field, and the sentence."""

    def __init__(self, status: int, field_name: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.field = field_name
        self.message = message


def _chatlio_connections(n: int) -> tuple[tuple[Connection, ...], tuple[Connection, ...]]:
    destinations = (
        Connection(
            f"sandboxDestination{n:04d}",
            "Google Analytics 4",
            "60ad7ba6d7f38e11ff34f5e5",
            "actions-google-analytics-4",
            "Google Analytics 4 Cloud",
        ),
    )
    warehouses = (
        Connection(f"sandboxWarehouse{n:04d}", "Postgres", "aea3cb3ZCT", "postgres", "Postgres"),
    )
    return destinations, warehouses


def _website() -> Source:
    return Source(
        WEBSITE_SOURCE_ID,
        "website",
        "Website",
        CATALOG[JAVASCRIPT_ID],
        write_keys=(WEBSITE_KEY,),
        destinations=(
            Connection(
                "sandboxDestinationWeb",
                "Google Analytics 4",
                "60ad7ba6d7f38e11ff34f5e5",
                "actions-google-analytics-4",
                "Google Analytics 4 Cloud",
            ),
            Connection(
                "sandboxDestinationAmp",
                "Amplitude",
                "5f7dd6d21ad74f3842b1fc47",
                "actions-amplitude",
                "Amplitude (Actions)",
            ),
        ),
        warehouses=(
            Connection("sandboxWarehouseWeb", "Postgres", "aea3cb3ZCT", "postgres", "Postgres"),
        ),
    )


def made_up_key() -> str:
    """A fresh write key of Segment's shape: 32 letters and digits."""
    return "".join(secrets.choice(_KEY_CHARS) for _ in range(32))


class Workspace:
    """The sources, in the order they were made; every method is thread-safe.

    The first Chatlio source gets SANDBOX_KEY, so what the app sends in sandbox mode is
    counted there; later ones get made-up keys.
    """

    def __init__(self, *, chatlio_source: bool = False, chatlio_stand_in: bool = False) -> None:
        self._lock = threading.Lock()
        self._sources: list[Source] = [_website()]
        self._made = 0
        self._sandbox_key_taken = False
        self._stand_in: Source | None = None
        if chatlio_source:
            self.create("chatlio", CHATLIO_ID, name="Chatlio")
        elif chatlio_stand_in:
            # Trying the app without creating a source still has SANDBOX_KEY counted somewhere;
            # the first Chatlio source created takes the stand-in's place (and slug, and key).
            self._stand_in = replace(
                self.create("chatlio", CHATLIO_ID, name="Chatlio"), labels=STAND_IN_LABELS
            )
            self._sources[-1] = self._stand_in
            self._sandbox_key_taken = False

    def sources(self) -> list[Source]:
        """A snapshot of every source (the objects are not to be changed by the caller)."""
        with self._lock:
            return list(self._sources)

    def source(self, source_id: str) -> Source | None:
        with self._lock:
            return next((s for s in self._sources if s.id == source_id), None)

    def owner_of(self, write_key: str | None) -> Source | None:
        """The source whose write keys hold this key, or None (Segment drops such events)."""
        if not write_key:
            return None
        with self._lock:
            return next((s for s in self._sources if write_key in s.write_keys), None)

    def create(
        self,
        slug: str,
        metadata_id: str,
        *,
        enabled: bool = True,
        settings: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> Source:
        """A new source, as POST /sources makes it; raises SourceError (409, 422)."""
        if not SLUG.fullmatch(slug):
            raise SourceError(
                422,
                "slug",
                "slug must be 1 to 100 lower-case letters, digits, '-' or '_', "
                "starting and ending with a letter or digit",
            )
        catalog = CATALOG.get(metadata_id)
        if catalog is None:
            raise SourceError(422, "metadataId", f"no source in the catalog has id {metadata_id}")
        with self._lock:
            stand_in = self._stand_in if catalog.id == CHATLIO_ID else None
            others = [s for s in self._sources if stand_in is None or s.id != stand_in.id]
            if any(s.slug == slug for s in others):
                raise SourceError(409, "slug", f"a source with slug {slug} already exists")
            if len(others) >= MAX_SOURCES:
                raise SourceError(422, "slug", f"the sandbox keeps at most {MAX_SOURCES} sources")
            if stand_in is not None:  # only once the new source will be made
                self._sources, self._stand_in = others, None
            self._made += 1
            key = made_up_key()
            destinations: tuple[Connection, ...] = ()
            warehouses: tuple[Connection, ...] = ()
            if catalog.id == CHATLIO_ID:
                if not self._sandbox_key_taken:
                    key, self._sandbox_key_taken = SANDBOX_KEY, True
                destinations, warehouses = _chatlio_connections(self._made)
            source = Source(
                f"sandboxSource{self._made:04d}",
                slug,
                name or slug,
                catalog,
                enabled=enabled,
                write_keys=(key,),
                settings=dict(settings or {}),
                destinations=destinations,
                warehouses=warehouses,
            )
            self._sources.append(source)
        return source

    def update(
        self, source_id: str, *, name: str | None = None, enabled: bool | None = None
    ) -> Source | None:
        """PATCH /sources/{id}: a new display name or on/off; None for an unknown id."""
        if name is not None and not name.strip():
            raise SourceError(422, "name", "name must not be empty")
        with self._lock:
            for n, source in enumerate(self._sources):
                if source.id == source_id:
                    changed = replace(
                        source,
                        name=source.name if name is None else name,
                        enabled=source.enabled if enabled is None else enabled,
                    )
                    self._sources[n] = changed
                    return changed
        return None

    def add_filler(self, n: int) -> None:
        """n more non-Chatlio sources (HTTP API), so that listings run over several pages."""
        if n < 0:
            raise ValueError("n must not be negative")
        with self._lock:
            start = self._made
            if len(self._sources) + n > MAX_SOURCES:
                raise ValueError(f"the sandbox keeps at most {MAX_SOURCES} sources")
        for i in range(n):
            self.create(f"filler-{start + i + 1}", HTTP_API_ID, name=f"Filler {start + i + 1}")
