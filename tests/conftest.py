"""Shared fixtures: a real sandbox receiver on loopback, and (plugin) a real Secret Service."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.segment.sandbox import Sandbox

pytest_plugins = ["tests.secret_service"]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A Segment-compatible receiver on a free loopback port, stopped after the test."""
    with Sandbox() as running:
        yield running
