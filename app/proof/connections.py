"""The destinations and warehouses a source sends to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.redaction import printable
from app.segment.public_api.client import PublicApiClient
from app.segment.public_api.models import Connection


@dataclass(frozen=True)
class SourceConnections:
    destinations: tuple[Connection, ...]
    warehouses: tuple[Connection, ...]

    def describe(self) -> str:
        """'Sends to 2 destinations (Google Analytics 4, Mixpanel) and 1 warehouse (Postgres).'"""
        if not self.destinations and not self.warehouses:
            return (
                "Sends to no destination or warehouse yet: connect one in Segment, or the events "
                "go nowhere beyond Segment itself."
            )
        parts = [
            _listed(self.destinations, "destination", "destinations"),
            _listed(self.warehouses, "warehouse", "warehouses"),
        ]
        text = "Sends to " + " and ".join(p for p in parts if p) + "."
        if any(not c.enabled for c in (*self.destinations, *self.warehouses)):
            text += " Those marked (off) are turned off in Segment and receive nothing."
        return text


def source_connections(client: PublicApiClient, source_id: str) -> SourceConnections:
    """Both listings of the source: its destinations, then its warehouses."""
    destinations = client.connected_destinations(source_id)
    warehouses = client.connected_warehouses(source_id)
    return SourceConnections(tuple(destinations), tuple(warehouses))


def _listed(connections: Sequence[Connection], one: str, many: str) -> str:
    if not connections:
        return ""
    names = ", ".join(
        printable(c.name or c.catalog_name, 60) + ("" if c.enabled else " (off)")
        for c in connections
    )
    return f"{len(connections)} {one if len(connections) == 1 else many} ({names})"
