"""Create the Chatlio source in the workspace, and take its write key without showing it."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.segment.public_api.client import PublicApiClient
from app.segment.public_api.models import Source


@dataclass(frozen=True)
class CreatedSource:
    """The new source; `write_key` is None when the token cannot see write keys."""

    source: Source
    write_key: str | None = field(default=None, repr=False)

    def describe(self) -> str:
        """What was created, and where its key went or why it could not be taken."""
        raise NotImplementedError


def source_slug(name: str) -> str:
    """A slug Segment accepts for `name`: lower-case letters, digits and '-' / '_'."""
    raise NotImplementedError


def create_chatlio_source(client: PublicApiClient, name: str) -> CreatedSource:
    """`POST /sources` for Chatlio, named `name`; reads the source again for its key if the
    answer carried none. Raises PublicApiError (CONFLICT: a source with that name exists)."""
    raise NotImplementedError
