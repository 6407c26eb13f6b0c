"""Reading the Public API's `data` objects into models; a wrong shape raises WrongShape."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from app.segment.public_api.models import (
    CatalogEntry,
    Connection,
    CountRow,
    Counts,
    Source,
    Workspace,
)


class WrongShape(ValueError):
    """The answer was JSON, but not shaped as the Public API documents it."""


def workspace(data: Mapping[str, Any]) -> Workspace:
    item = _object(data, "workspace")
    return Workspace(_text(item, "id"), _text(item, "slug", ""), _text(item, "name", ""))


def source(item: Any) -> Source:
    """A SourceV1; its writeKeys may be empty (a token without Source Admin sees none)."""
    if not isinstance(item, Mapping):
        raise WrongShape("a source is not an object")
    metadata = item.get("metadata")
    catalog = (
        CatalogEntry(
            _text(metadata, "id"), _text(metadata, "slug", ""), _text(metadata, "name", "")
        )
        if isinstance(metadata, Mapping)
        else CatalogEntry("", "", "")
    )
    keys = item.get("writeKeys", [])
    if not isinstance(keys, list):
        raise WrongShape("writeKeys is not a list")
    return Source(
        id=_text(item, "id"),
        slug=_text(item, "slug", ""),
        name=_text(item, "name", "") or _text(item, "slug", ""),
        catalog=catalog,
        enabled=item.get("enabled") is True,
        workspace_id=_text(item, "workspaceId", ""),
        write_keys=tuple(key for key in keys if isinstance(key, str) and key),
    )


def one_source(data: Mapping[str, Any]) -> Source:
    return source(_object(data, "source"))


def connection(item: Any) -> Connection:
    if not isinstance(item, Mapping):
        raise WrongShape("a connection is not an object")
    metadata = item.get("metadata")
    catalog_name = _text(metadata, "name", "") if isinstance(metadata, Mapping) else ""
    return Connection(
        id=_text(item, "id"),
        name=_text(item, "name", "") or catalog_name,
        enabled=item.get("enabled") is True,
        catalog_name=catalog_name,
    )


def items(data: Mapping[str, Any], key: str) -> list[Any]:
    """A listing's items (`data.sources`, `data.destinations`...)."""
    found = data.get(key)
    if not isinstance(found, list):
        raise WrongShape(f"data.{key} is not a list")
    return found


def next_cursor(data: Mapping[str, Any]) -> str | None:
    """`data.pagination.next`: the cursor of the next page, None on the last one."""
    pagination = data.get("pagination")
    if pagination is None:
        return None
    if not isinstance(pagination, Mapping):
        raise WrongShape("data.pagination is not an object")
    cursor = pagination.get("next")
    if cursor is None or cursor == "":
        return None
    if not isinstance(cursor, str):
        raise WrongShape("data.pagination.next is not a string")
    return cursor


def delivery_counts(data: Mapping[str, Any]) -> Counts:
    """Delivery Overview: `data.{total?, dataset[{eventName?, discardReason?, total, series}]}`."""
    return _counts(data, "dataset")


def volume_counts(data: Mapping[str, Any]) -> Counts:
    """Events volume: `data.result[{eventName?, eventType?, total, series}]`."""
    return _counts(data, "result")


def _counts(data: Mapping[str, Any], key: str) -> Counts:
    rows_data = data.get(key, [])
    if rows_data is None:
        rows_data = []
    if not isinstance(rows_data, list):
        raise WrongShape(f"data.{key} is not a list")
    rows = tuple(_row(item) for item in rows_data)
    total = data.get("total")
    return Counts(_count(total) if total is not None else sum(r.total for r in rows), rows)


def _row(item: Any) -> CountRow:
    if not isinstance(item, Mapping):
        raise WrongShape("a count row is not an object")
    total = item.get("total")
    if total is None:  # only the series: its buckets add up to the row's total
        series = item.get("series", [])
        if not isinstance(series, list):
            raise WrongShape("a count row's series is not a list")
        total = sum(_count(p.get("count")) for p in series if isinstance(p, Mapping))
    return CountRow(
        total=_count(total),
        event_name=_optional(item, "eventName"),
        event_type=_optional(item, "eventType"),
        discard_reason=_optional(item, "discardReason"),
    )


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WrongShape("a count is not a number")
    if not math.isfinite(value) or value < 0:
        raise WrongShape("a count is not a finite number of events")
    return int(value)


def _object(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    found = data.get(key)
    if not isinstance(found, Mapping):
        raise WrongShape(f"data.{key} is not an object")
    return found


_REQUIRED = object()


def _text(item: Mapping[str, Any], key: str, default: Any = _REQUIRED) -> str:
    value = item.get(key)
    if isinstance(value, str) and (value or default is not _REQUIRED):
        return value
    if value is None and default is not _REQUIRED:
        return str(default)
    raise WrongShape(f"{key} is not a string")


def _optional(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    return value if isinstance(value, str) else None
