"""A Public API query string read leniently: both ways of writing an array parameter."""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import parse_qsl

# name.0=a (the Go SDK, the docs' example), name[]=a or name[0]=a (form encoders): one array.
_INDEXED: Final = re.compile(r"(?P<name>.+?)(?:\.(?P<dot>\d{1,4})|\[(?P<bracket>\d{0,4})\])")
# Past this many parameters the rest are ignored: a query is never worth more work than this.
MAX_PARAMETERS: Final = 1000


class Query:
    """The parameters of one request; arrays from `name.0=a&name.1=b` or `name=a&name=b`."""

    def __init__(self, text: str) -> None:
        self._values: dict[str, list[str]] = {}
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=None)
        indexed: dict[str, list[tuple[int, int, str]]] = {}
        for n, (name, value) in enumerate(pairs[:MAX_PARAMETERS]):
            match = _INDEXED.fullmatch(name)
            if match is None:
                self._values.setdefault(name, []).append(value)
                continue
            index = match["dot"] if match["dot"] is not None else match["bracket"]
            order = int(index) if index else n
            indexed.setdefault(match["name"], []).append((order, n, value))
        for name, items in indexed.items():
            self._values.setdefault(name, []).extend(value for _o, _n, value in sorted(items))

    def one(self, name: str) -> str | None:
        """The parameter's value (the last one, if repeated), or None when it is absent."""
        values = self._values.get(name)
        return values[-1] if values else None

    def many(self, name: str, *, commas: bool = False) -> list[str]:
        """Every value of an array parameter; with commas, "a,b" counts as two (groupBy)."""
        values = self._values.get(name, [])
        if not commas:
            return list(values)
        return [part.strip() for value in values for part in value.split(",") if part.strip()]

    def names(self) -> set[str]:
        return set(self._values)
