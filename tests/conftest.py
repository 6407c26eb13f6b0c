"""Shared fixtures: a real sandbox receiver on loopback, and (plugin) a real Secret Service."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.segment.sandbox import Sandbox

pytest_plugins = ["tests.secret_service"]

# What httpx and urllib read to route requests through a proxy, in both spellings.
PROXY_VARIABLES = tuple(
    spelling
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
    for spelling in (name, name.lower())
)


@pytest.fixture(autouse=True)
def _no_proxy_of_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxied CI machine must not route loopback sends to its proxy; a test that needs a
    proxy sets one itself."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A Segment-compatible receiver on a free loopback port, stopped after the test."""
    with Sandbox() as running:
        yield running
