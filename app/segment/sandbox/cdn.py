"""A stand-in for cdn.segment.com's settings path: what analytics.js loads for a write key."""

from __future__ import annotations

import json
import re
from typing import Any, Final

from app.redaction import mask
from app.segment.sandbox.rules import Answer
from app.segment.sandbox.workspace import Workspace

_SETTINGS_PATH: Final = re.compile(r"/v1/projects/(?P<key>[^/]+)/settings/?")
_UNKNOWN: Final = Answer(404, b"Invalid path or write key provided.", "text/plain; charset=utf-8")


def settings_answer(method: str, path: str, workspace: Workspace) -> Answer:
    """GET /v1/projects/<writeKey>/settings: the source's settings, or Segment's 404 text."""
    match = _SETTINGS_PATH.fullmatch(path)
    if method not in {"GET", "HEAD"}:
        return Answer(
            405, b"Method Not Allowed", "text/plain; charset=utf-8", (("Allow", "GET, HEAD"),)
        )
    source = workspace.owner_of(match["key"]) if match else None
    if match is None or source is None:
        return _UNKNOWN
    return Answer(200, json.dumps(_settings(match["key"])).encode())


def masked_path(path: str) -> str:
    """The path with a write key in it masked, for the request log and the kept requests."""
    match = _SETTINGS_PATH.fullmatch(path)
    if match is None:
        return path
    start, end = match.span("key")
    return path[:start] + mask(match["key"]) + path[end:]


def _settings(key: str) -> dict[str, Any]:
    return {
        "integrations": {
            "Segment.io": {
                "apiKey": key,
                "unbundledIntegrations": [],
                "addBundledMetadata": True,
                "maybeBundledConfigIds": {},
                "versionSettings": {"version": "4.4.7", "componentTypes": ["browser"]},
                "apiHost": "api.segment.io/v1",
                "protocol": "https",
            }
        },
        "plan": {
            "track": {"__default": {"enabled": True, "integrations": {}}},
            "identify": {"__default": {"enabled": True}},
            "group": {"__default": {"enabled": True}},
        },
        "edgeFunction": {},
        "analyticsNextEnabled": True,
        "middlewareSettings": {},
        "enabledMiddleware": {},
        "metrics": {"sampleRate": 0.1},
        "legacyVideoPluginsEnabled": False,
        "remotePlugins": [],
    }
