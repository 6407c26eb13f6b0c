"""Keeping secrets out of sight: masking, Basic-auth encoding and scrubbing, in one place.

Write keys and API tokens pass through here on their way to a header, and every piece of text
that might hold one (crash reports, logs, terminal output) is scrubbed here.
"""

from __future__ import annotations

import base64
import re

HIDDEN = "<write key hidden>"
SECRET_HIDDEN = "<secret hidden>"  # noqa: S105 - a key or a token: scrub() is not told which
REDACTED_AUTH = "Basic <write key hidden>"

# Segment write keys are normally 32 letters and digits; one typed but never saved is not in
# the session, so anything of that shape goes too (at worst a harmless hash is hidden).
KEY_SHAPED = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{32}(?![A-Za-z0-9])")
# Segment's Public API tokens start "sgp_"; one that is not in the session goes too.
TOKEN_SHAPED = re.compile(r"(?<![A-Za-z0-9_])sgp_[A-Za-z0-9_.\-]{16,}")

# C0 and C1 control characters (ESC among them), DEL, and the bidirectional overrides: what a
# server or a client could use to rewrite a terminal line or forge a log line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def mask(key: str) -> str:
    """At most the first two and last two characters: 'ab…yz'; short keys are fully hidden."""
    if len(key) < 8:
        return "••••"
    return f"{key[:2]}…{key[-2:]}"


def basic_auth(write_key: str) -> str:
    """The Authorization header value Segment expects: the key as user, no password."""
    return "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()


def encoded_forms(secret: str) -> list[str]:
    """The secret and the forms it travels in: Basic-auth user, and plain base64."""
    return [
        secret,
        base64.b64encode(f"{secret}:".encode()).decode(),
        base64.b64encode(secret.encode()).decode(),
    ]


def scrub(text: str, secrets: list[str]) -> str:
    """Remove every secret, its Basic-auth and base64 forms, and anything key- or token-shaped."""
    for secret in filter(None, secrets):
        for form in encoded_forms(secret):
            text = text.replace(form, SECRET_HIDDEN)
    return TOKEN_SHAPED.sub(SECRET_HIDDEN, KEY_SHAPED.sub(HIDDEN, text))


def printable(text: str, limit: int | None = None, *, keep_newlines: bool = False) -> str:
    """Text safe for a terminal or a log line: control characters shown as escapes.

    A server's body or a client's crafted value cannot move the cursor, recolour the screen or
    start a new log line. `limit` cuts the text (before escaping) and marks the cut with '…'.
    """
    cut = text if limit is None or len(text) <= limit else text[:limit] + "…"

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        if keep_newlines and char in "\n\t":
            return char
        return char.encode("unicode_escape").decode("ascii")

    return _CONTROL.sub(escape, cut)
