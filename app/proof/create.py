"""Create the Chatlio source in the workspace, and take its write key without showing it."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace

from app.redaction import printable
from app.segment.public_api.client import PublicApiClient
from app.segment.public_api.errors import ApiErrorKind, PublicApiError
from app.segment.public_api.models import Source


@dataclass(frozen=True)
class CreatedSource:
    """The new source; `write_key` is None when the token cannot see write keys, or when
    reading the source again for its key failed (`unread` then says why)."""

    source: Source
    write_key: str | None = field(default=None, repr=False)
    unread: str = ""

    def describe(self) -> str:
        """What was created, and where its key went or why it could not be taken."""
        name = printable(self.source.name, 80)
        created = f'Created the Chatlio source "{name}" in the workspace'
        if self.write_key is not None:
            return f"{created}, and took its write key without showing it."
        why = (
            f"but its write key could not be read afterwards ({self.unread.rstrip('.')})"
            if self.unread
            else "but the token cannot see write keys (it lacks Source Admin), so the app "
            "could not take its key"
        )
        return (
            f"{created}, {why}. Copy it by hand: in Segment, open Connections → Sources → "
            f'"{name}" → Settings → API Keys, copy the write key and paste it into the app.'
        )


log = logging.getLogger(__name__)

# How long a slug may be: Segment's limit is not documented; this keeps well within any.
MAX_SLUG = 64
DEFAULT_SLUG = "chatlio"


def source_slug(name: str) -> str:
    """A slug Segment accepts for `name`: lower-case letters, digits and '-' / '_'."""
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9_]+", "-", ascii_name.lower()).strip("-_")
    slug = slug[:MAX_SLUG].rstrip("-_")
    return slug or DEFAULT_SLUG


def create_chatlio_source(client: PublicApiClient, name: str) -> CreatedSource:
    """`POST /sources` for Chatlio, named `name`; reads the source again for its key if the
    answer carried none. Raises PublicApiError (CONFLICT: a source with that name exists)."""
    # No settings are sent: whether Chatlio's catalog entry needs any is not documented
    # (UNCLEAR; GET /catalog/sources/W3065KyMWF lists its options). A refusal says so itself.
    source = client.create_source(source_slug(name))
    wanted = " ".join(name.split())
    if wanted and source.name != wanted:
        source = _named(client, source, wanted)
    if not source.write_keys:
        # Some answers may leave the keys out; the source read again has them if the token
        # may see them at all. Empty once more means no Source Admin.
        try:
            source = client.source(source.id)
        except PublicApiError as exc:  # it exists: say so, rather than "try again" (a duplicate)
            if exc.kind is ApiErrorKind.CANCELLED:
                raise
            return CreatedSource(source, None, exc.sentence)
    key = source.write_keys[0] if source.write_keys else None
    return CreatedSource(source, key)


def _named(client: PublicApiClient, source: Source, name: str) -> Source:
    """The source given its display name; as it was if Segment will not rename it (the
    source exists either way, under its slug: no reason to fail the whole creation)."""
    try:
        renamed = client.rename_source(source.id, name)
    except PublicApiError as exc:
        if exc.kind is ApiErrorKind.CANCELLED:
            raise
        log.info("The new source keeps its slug for a name: %s", exc.technical)
        return source
    if not renamed.write_keys and source.write_keys:
        return replace(renamed, write_keys=source.write_keys)  # the creation's answer had them
    return renamed
