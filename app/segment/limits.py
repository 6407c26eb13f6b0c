"""Segment's documented Tracking API limits, shared by the client's checks and the sandbox."""

from __future__ import annotations

from typing import Final

MAX_EVENT_BYTES: Final = 32 * 1024  # one event, JSON-encoded
MAX_BATCH_BYTES: Final = 500 * 1024  # one /v1/batch request
MAX_BATCH_EVENTS: Final = 2500  # events in one /v1/batch request
MAX_MESSAGE_ID_CHARS: Final = 100
