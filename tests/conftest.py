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


@pytest.fixture(autouse=True)
def _own_data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test, and every program a test starts, keeps its send history in a directory of
    its own: never in the history of the person running the tests."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A Segment-compatible receiver on a free loopback port, stopped after the test."""
    with Sandbox() as running:
        yield running
