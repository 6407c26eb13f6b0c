"""The official Segment Python library, pointed at the sandbox, gets the answers Segment gives."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from segment.analytics import Client
from segment.analytics.request import APIError
from segment.analytics.version import VERSION

from app.segment.sandbox import Sandbox

KEY = "fidelityKey0123456789abcdefghijk"

ClientFactory = Callable[..., Any]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


@pytest.fixture
def errors() -> list[Exception]:
    return []


@pytest.fixture
def make_client(sandbox: Sandbox, errors: list[Exception]) -> Iterator[ClientFactory]:
    """Builds library clients aimed at the sandbox, with fast uploads and few retries."""
    clients: list[Any] = []

    def build(**options: Any) -> Any:
        settings: dict[str, Any] = {
            "write_key": KEY,
            "host": sandbox.url,
            "upload_interval": 0.01,
            "max_retries": 2,
            "timeout": 5,
            "on_error": lambda error, _batch: errors.append(error),
            **options,
        }
        client = Client(**settings)
        clients.append(client)
        return client

    yield build
    for client in clients:
        if not client.sync_mode:
            client.shutdown()


def test_track_identify_and_page_arrive_as_batches_with_the_key(
    sandbox: Sandbox, make_client: ClientFactory
) -> None:
    client = make_client(sync_mode=True)

    client.track(user_id="u-1", event="Chat Started", properties={"chat_id": "c-1"})
    client.identify(user_id="u-1", traits={"email": "a@example.com"})
    client.page(anonymous_id="a-1", name="Pricing")

    events = sandbox.events()
    assert [event.payload["type"] for event in events] == ["track", "identify", "page"]
    for event in events:
        assert event.endpoint == "/v1/batch"
        assert event.write_key == KEY
        assert event.discard_reason is None
        assert event.payload["context"]["library"] == {
            "name": "analytics-python",
            "version": VERSION,
        }
    assert events[0].payload["properties"] == {"chat_id": "c-1"}
    for request in sandbox.requests():
        assert request.status == 200
        assert request.headers["user-agent"] == f"analytics-python/{VERSION}"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["authorization"].startswith("Basic ")
        assert "x-retry-count" not in request.headers


def test_gzipped_uploads_are_understood(sandbox: Sandbox, make_client: ClientFactory) -> None:
    client = make_client(sync_mode=True, gzip=True)

    client.track(user_id="u-1", event="Chat Ended", properties={"conversation_duration": 42})

    [event] = sandbox.events()
    assert event.payload["properties"] == {"conversation_duration": 42}
    assert sandbox.requests()[0].headers["content-encoding"] == "gzip"


def test_queued_events_are_flushed_in_one_batch(
    sandbox: Sandbox, make_client: ClientFactory, errors: list[Exception]
) -> None:
    client = make_client(upload_interval=0.1)

    for n in range(3):
        client.track(user_id="u-1", event=f"Event {n}")
    client.flush()

    assert [event.payload["event"] for event in sandbox.events()] == [
        "Event 0",
        "Event 1",
        "Event 2",
    ]
    assert len(sandbox.requests()) == 1
    assert errors == []


def test_the_library_itself_refuses_a_track_without_ids(make_client: ClientFactory) -> None:
    """So no_user_anon_id cannot be provoked through the library: it never sends one."""
    client = make_client(sync_mode=True)

    with pytest.raises(AssertionError, match="user_id or anonymous_id"):
        client.track(event="Chat Started")


def test_a_503_is_retried_and_the_event_arrives_once(
    sandbox: Sandbox, make_client: ClientFactory, errors: list[Exception]
) -> None:
    sandbox.fail_next(503)
    client = make_client()

    client.track(user_id="u-1", event="Chat Started")
    client.flush()

    assert len(sandbox.events()) == 1
    first, second = sandbox.requests()
    assert (first.status, second.status) == (503, 200)
    assert second.headers["x-retry-count"] == "1"
    assert errors == []


def test_a_dropped_connection_is_retried(
    sandbox: Sandbox, make_client: ClientFactory, errors: list[Exception]
) -> None:
    sandbox.drop_next()
    client = make_client()

    client.track(user_id="u-1", event="Chat Started")
    client.flush()

    assert len(sandbox.events()) == 1
    assert [request.status for request in sandbox.requests()] == [None, 200]
    assert errors == []


def test_a_400_is_not_retried(
    sandbox: Sandbox, make_client: ClientFactory, errors: list[Exception]
) -> None:
    sandbox.fail_next(400, body="Bad Request")
    client = make_client()

    client.track(user_id="u-1", event="Chat Started")
    client.flush()

    assert sandbox.events() == []
    assert [request.status for request in sandbox.requests()] == [400]
    [error] = errors
    assert isinstance(error, APIError)
    assert error.status == 400


def test_a_429_retry_after_is_honoured(
    sandbox: Sandbox, make_client: ClientFactory, errors: list[Exception]
) -> None:
    sandbox.fail_next(429, retry_after="1")
    client = make_client()

    started = time.monotonic()
    client.track(user_id="u-1", event="Chat Started")
    client.flush()

    assert time.monotonic() - started >= 0.9
    assert len(sandbox.events()) == 1
    assert [request.status for request in sandbox.requests()] == [429, 200]
    assert errors == []


def test_sync_mode_does_not_retry(sandbox: Sandbox, make_client: ClientFactory) -> None:
    """sync_mode posts straight from the caller's thread, without the consumer's retries."""
    sandbox.fail_next(503)
    client = make_client(sync_mode=True)

    with pytest.raises(APIError) as raised:
        client.track(user_id="u-1", event="Chat Started")

    assert raised.value.status == 503
    assert [request.status for request in sandbox.requests()] == [503]
    assert sandbox.events() == []
