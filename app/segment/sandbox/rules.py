"""Segment's rules for one Tracking API request: decoding, limits, the key, discard reasons."""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass
from typing import Any, Final

from app.segment.limits import MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_EVENT_BYTES

BATCH_ENDPOINT: Final = "/v1/batch"
# Objects and arrays nested deeper than this (the top-level object is level 1) are refused with
# 400, as a real service refuses them; no Segment payload comes near it.
MAX_JSON_DEPTH: Final = 100
# The largest body read at all: twice the largest that Segment accepts (a 500 KB batch), so
# every body over it would be refused anyway. Larger ones get 400 without being read.
MAX_BODY_BYTES: Final = 1024 * 1024

_SINGLE_ENDPOINTS: Final[dict[str, str]] = {
    "/v1/track": "track",
    "/v1/identify": "identify",
    "/v1/page": "page",
    "/v1/screen": "screen",
    "/v1/group": "group",
    "/v1/alias": "alias",
}
_SHORT_ALIASES: Final[dict[str, str]] = {
    "/v1/t": "/v1/track",
    "/v1/i": "/v1/identify",
    "/v1/p": "/v1/page",
    "/v1/s": "/v1/screen",
    "/v1/g": "/v1/group",
    "/v1/a": "/v1/alias",
}
_EVENT_TYPES: Final = frozenset(_SINGLE_ENDPOINTS.values())
# How much compressed input one inflate call sees: what zlib copies into unused_data at the end
# of each gzip member, so it bounds the cost of a member however long the body is.
_INFLATE_PIECE: Final = 4096


@dataclass(frozen=True)
class Answer:
    """The status and body to send back; status None means close without answering."""

    status: int | None
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Event:
    """One event out of a request: its endpoint, its payload as compact JSON, its fate."""

    endpoint: str
    payload_json: str
    discard_reason: str | None


@dataclass(frozen=True)
class Verdict:
    """How Segment's edge judges a request: the answer, the key it carried, the events in it."""

    answer: Answer
    key: str | None
    events: tuple[Event, ...] = ()


class PayloadTooLarge(Exception):
    """A (decompressed) body or event is over Segment's size limit."""


def json_answer(status: int, document: dict[str, Any]) -> Answer:
    return Answer(status=status, body=json.dumps(document).encode())


def error(message: str, status: int = 400) -> Answer:
    """Segment's shape for a refusal: {"success": false, "message": ...}."""
    return json_answer(status, {"success": False, "message": message})


OK: Final = json_answer(200, {"success": True})


def endpoint_for(path: str) -> str | None:
    """The Tracking API endpoint a path names (short aliases resolved), or None."""
    path = _SHORT_ALIASES.get(path, path)
    if path in _SINGLE_ENDPOINTS or path == BATCH_ENDPOINT:
        return path
    return None


def basic_auth_user(header: str | None) -> str | None:
    """The user part of a Basic Authorization header, or None when there is none to read."""
    if not header:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        # ValueError covers bad base64 (binascii.Error), non-ASCII text and non-UTF-8 bytes.
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except ValueError:
        return None
    user, _, _password = decoded.partition(":")
    return user or None


def gunzip(data: bytes, limit: int) -> bytes:
    """Every gzip member in data, in time linear in its length; never more than limit bytes.

    Raises ValueError for a corrupt or truncated body, PayloadTooLarge past limit.
    """
    view = memoryview(data)
    out: list[bytes] = []
    produced = position = 0
    while position < len(view):
        inflater = zlib.decompressobj(wbits=31)
        while not inflater.eof:
            if position >= len(view):
                raise ValueError("truncated gzip body")
            piece = view[position : position + _INFLATE_PIECE]
            try:
                chunk = inflater.decompress(piece, limit + 1 - produced)
            except zlib.error as exc:
                raise ValueError("invalid gzip body") from exc
            produced += len(chunk)
            if produced > limit:
                raise PayloadTooLarge
            out.append(chunk)
            position += len(piece) - len(inflater.unused_data)
    return b"".join(out)


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; Segment's JSON parser does not.
    raise ValueError(f"invalid JSON constant {name}")


def too_deep(document: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether objects and arrays nest deeper than limit levels (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def compact_json(value: Any) -> str:
    """The value as Segment measures it: compact separators, non-ASCII as itself."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def utf8_len(text: str) -> int:
    # surrogatepass: a lone surrogate ("\ud800" in the JSON) is counted, not a crash.
    return len(text.encode("utf-8", "surrogatepass"))


def _has_id(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, int | float) and not isinstance(value, bool)


def discard_reason(kind: Any, payload: dict[str, Any]) -> str | None:
    """Why Segment would drop this event after answering 200 (its Delivery Overview), or None."""
    # Any JSON may stand in "type": a list or an object is unhashable, so test it is a string.
    if not (isinstance(kind, str) and kind in _EVENT_TYPES):
        return "invalid_type"
    if not (_has_id(payload.get("userId")) or _has_id(payload.get("anonymousId"))):
        return "no_user_anon_id"
    if kind == "track":
        name = payload.get("event")
        if not (isinstance(name, str) and name.strip()):
            return "event_not_defined"
    return None


def decode_document(headers: dict[str, str], body: bytes, limit: int) -> dict[str, Any] | Answer:
    """The request's JSON object, or the 400 Segment answers when there is none."""
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding not in {"", "identity", "gzip", "x-gzip"}:
        return error("Unsupported Content-Encoding")
    try:
        data = gunzip(body, limit) if encoding in {"gzip", "x-gzip"} else body
        if len(data) > limit:
            raise PayloadTooLarge
        document = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except PayloadTooLarge:
        return error("Exceed payload limit")
    except (ValueError, RecursionError):
        return error("Invalid JSON")
    if not isinstance(document, dict):
        return error("Invalid JSON")
    if too_deep(document):
        return error(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return document


def _batch_events(document: dict[str, Any]) -> tuple[Event, ...] | Answer:
    items = document.get("batch")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        return error("Invalid batch")
    shared = {
        name: document[name]
        for name in ("context", "integrations")
        if isinstance(document.get(name), dict)
    }
    over_count = len(items) > MAX_BATCH_EVENTS
    events = []
    for item in items:
        # The limit is on the item as sent, before the batch's context is merged into it.
        if utf8_len(compact_json(item)) > MAX_EVENT_BYTES:
            return error("Exceed payload limit")
        payload = dict(item)
        for name, defaults in shared.items():
            own = payload.get(name)
            payload[name] = {**defaults, **own} if isinstance(own, dict) else defaults
        reason = (
            "batch_over_2500_events" if over_count else discard_reason(item.get("type"), payload)
        )
        events.append(Event(BATCH_ENDPOINT, compact_json(payload), reason))
    return tuple(events)


def judge(endpoint: str, headers: dict[str, str], body: bytes) -> Verdict:
    """Judge one API request as Segment's edge would: the answer, the key, the events."""
    key = basic_auth_user(headers.get("authorization"))
    limit = MAX_BATCH_BYTES if endpoint == BATCH_ENDPOINT else MAX_EVENT_BYTES
    document = decode_document(headers, body, limit)
    if isinstance(document, Answer):
        return Verdict(document, key)
    if not key:
        body_key = document.get("writeKey")
        key = body_key if isinstance(body_key, str) and body_key else None
    if key is None:
        return Verdict(error("Missing write key"), None)
    if endpoint == BATCH_ENDPOINT:
        events = _batch_events(document)
        if isinstance(events, Answer):
            return Verdict(events, key)
        return Verdict(OK, key, events)
    payload = {name: value for name, value in document.items() if name != "writeKey"}
    reason = discard_reason(_SINGLE_ENDPOINTS[endpoint], payload)
    return Verdict(OK, key, (Event(endpoint, compact_json(payload), reason),))
