"""The last-resort exception hook shows what happened, never the write key."""

from __future__ import annotations

import base64
import secrets
import sys

import pytest

from app import redaction
from app.ui import crash


def test_scrub_hides_every_form_of_the_key_and_key_shaped_text() -> None:
    key = "sk-" + secrets.token_hex(8)  # not key-shaped: only the known-secret rule hides it
    typed = secrets.token_hex(16)  # 32 letters and digits, never saved anywhere
    basic = base64.b64encode(f"{key}:".encode()).decode()
    text = f"key={key} auth=Basic {basic} typed={typed} ok=short123"
    scrubbed = redaction.scrub(text, [key])
    for secret in (key, basic, typed):
        assert secret not in scrubbed
    assert "ok=short123" in scrubbed
    assert scrubbed.count(redaction.SECRET_HIDDEN) == 2  # the key the session knows
    assert scrubbed.count(redaction.HIDDEN) == 1  # key-shaped text it does not


def test_scrub_hides_a_token_it_was_told_of_and_token_shaped_text() -> None:
    token = "tok-" + secrets.token_urlsafe(24)
    unknown = "sgp_" + secrets.token_urlsafe(32)  # a Public API token the session never held
    scrubbed = redaction.scrub(f"Bearer {token} then {unknown}; sgp_short", [token])
    assert token not in scrubbed
    assert unknown not in scrubbed
    assert scrubbed.count(redaction.SECRET_HIDDEN) == 2
    assert "sgp_short" in scrubbed


def test_the_hook_shows_a_scrubbed_report(qapp: object, monkeypatch: pytest.MonkeyPatch) -> None:
    key = secrets.token_hex(16)
    shown: list[str] = []
    monkeypatch.setattr(crash.CrashDialog, "ask", classmethod(lambda cls, d: shown.append(d)))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    crash.install(lambda: [key])
    try:
        raise RuntimeError(f"boom while sending with {key}")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    [details] = shown
    assert "RuntimeError: boom while sending with" in details
    assert key not in details
