"""The destinations and warehouses a source sends to."""

from __future__ import annotations

from dataclasses import dataclass

from app.segment.public_api.client import PublicApiClient
from app.segment.public_api.models import Connection


@dataclass(frozen=True)
class SourceConnections:
    destinations: tuple[Connection, ...]
    warehouses: tuple[Connection, ...]

    def describe(self) -> str:
        """'Sends to 2 destinations (Google Analytics 4, Mixpanel) and 1 warehouse (Postgres).'"""
        raise NotImplementedError


def source_connections(client: PublicApiClient, source_id: str) -> SourceConnections:
    raise NotImplementedError
