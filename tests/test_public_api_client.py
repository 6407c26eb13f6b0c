"""The Public API client over real loopback HTTP: auth, versions, pages, errors, secrets."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from app.segment.public_api import CHATLIO_METADATA_ID
from app.segment.public_api.client import BETA, STABLE, PublicApiClient
from app.segment.public_api.errors import ApiErrorKind, PublicApiError
from app.segment.retry import RetryPolicy
from tests.public_api_server import (
    WORKSPACE,
    ApiServer,
    Reply,
    Seen,
    errors_reply,
    json_reply,
    source_json,
)

TOKEN = "planted-token-5b1e0c7f9a2d4e68"
FAST = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)


@pytest.fixture
def server() -> Iterator[ApiServer]:
    with ApiServer() as running:
        yield running


def client_for(server: ApiServer, **options: object) -> PublicApiClient:
    return PublicApiClient(server.endpoint, TOKEN, retry=FAST, **options)  # type: ignore[arg-type]


def refused_with(server: ApiServer, reply: Reply) -> PublicApiError:
    server.answer = lambda seen: reply
    with client_for(server) as client, pytest.raises(PublicApiError) as caught:
        client.sources()
    return caught.value


def no_token_in(*texts: object) -> None:
    for text in texts:
        assert TOKEN not in str(text)
        assert TOKEN not in repr(text)


def test_workspace_sends_the_bearer_token_and_the_stable_version(server: ApiServer) -> None:
    with client_for(server) as client:
        workspace = client.workspace()
    assert (workspace.id, workspace.slug, workspace.name) == ("ws-1", "acme", "Acme")
    seen = server.seen[0]
    assert (seen.method, seen.path) == ("GET", "/public-api/")
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["accept"] == STABLE
    no_token_in(client, workspace)


def test_sources_follow_every_page_with_count_200(server: ApiServer) -> None:
    pages = {
        None: ([source_json(1, key="k1"), source_json(2)], "c2"),
        "c2": ([source_json(3, key="k3", chatlio=True)], "c3"),
        "c3": ([], None),
    }

    def answer(seen: Seen) -> Reply:
        query = dict(seen.query)
        assert query["pagination.count"] == "200"
        items, following = pages[query.get("pagination.cursor")]
        return json_reply({"sources": items, "pagination": {"current": "x", "next": following}})

    server.answer = answer
    with client_for(server) as client:
        sources = client.sources()
    assert [s.id for s in sources] == ["src-1", "src-2", "src-3"]
    assert sources[2].is_chatlio
    assert not sources[0].is_chatlio
    assert sources[0].write_keys == ("k1",)
    assert sources[1].write_keys == ()
    assert "k1" not in repr(sources[0])
    assert len(server.seen) == 3


def test_a_cursor_that_loops_is_a_bad_answer_not_an_endless_walk(server: ApiServer) -> None:
    server.answer = lambda seen: json_reply(
        {"sources": [source_json(1)], "pagination": {"next": "again"}}
    )
    with client_for(server) as client, pytest.raises(PublicApiError) as caught:
        client.sources()
    assert caught.value.kind is ApiErrorKind.BAD_ANSWER
    assert len(server.seen) == 2


def test_source_and_create_source(server: ApiServer) -> None:
    def answer(seen: Seen) -> Reply:
        if seen.method == "POST":
            return json_reply({"source": source_json(9, chatlio=True, key="new-key")})
        return json_reply({"source": source_json(9, chatlio=True, key="new-key")})

    server.answer = answer
    with client_for(server) as client:
        created = client.create_source("chatlio")
        again = client.source("src-9")
    assert created.write_keys == ("new-key",)
    assert created.is_chatlio
    assert again.id == "src-9"
    post, get = server.seen
    assert json.loads(post.body) == {
        "slug": "chatlio",
        "enabled": True,
        "metadataId": CHATLIO_METADATA_ID,
    }
    assert post.headers["content-type"] == "application/json"
    assert get.path == "/public-api/sources/src-9"


def test_an_id_cannot_climb_out_of_its_path(server: ApiServer) -> None:
    server.answer = lambda seen: json_reply({"source": source_json(1)})
    with client_for(server) as client:
        client.source("../x?y=1")
    assert server.seen[0].path == "/public-api/sources/..%2Fx%3Fy%3D1"
    assert server.seen[0].query == []


def test_401_names_the_call_and_the_permission_without_status_words(server: ApiServer) -> None:
    error = refused_with(server, errors_reply(401, "Unauthorized"))
    assert error.kind is ApiErrorKind.UNAUTHORIZED
    assert str(error) == (
        "Segment did not accept the token to list the workspace's sources: the token is wrong, "
        "or lacks the permission for this (a Workspace Owner can give it Source Admin)."
    )
    assert "401" not in str(error)
    assert "401" in error.technical
    assert error.call == "list the workspace's sources"
    assert len(server.seen) == 1  # never retried


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (404, ApiErrorKind.NOT_FOUND, "found nothing"),
        (409, ApiErrorKind.CONFLICT, "already exists"),
        (422, ApiErrorKind.INVALID, "Segment said: slug is bad"),
        (400, ApiErrorKind.INVALID, "Segment said: slug is bad"),
    ],
)
def test_error_statuses_become_sentences(
    server: ApiServer, status: int, kind: ApiErrorKind, words: str
) -> None:
    error = refused_with(server, errors_reply(status, "slug is bad"))
    assert error.kind is kind
    assert words in str(error)
    assert error.status == status
    assert str(status) not in str(error)
    assert len(server.seen) == 1


def test_5xx_is_retried_then_server(server: ApiServer) -> None:
    error = refused_with(server, errors_reply(503, "down"))
    assert error.kind is ApiErrorKind.SERVER
    assert "tried 3 times" in str(error)
    assert len(server.seen) == 3


def test_5xx_then_success(server: ApiServer) -> None:
    replies = [errors_reply(500, "oops"), json_reply(WORKSPACE)]
    server.answer = lambda seen: replies.pop(0)
    with client_for(server) as client:
        assert client.workspace().slug == "acme"
    assert len(server.seen) == 2


def test_429_waits_as_long_as_ms_before_next_says_then_succeeds(server: ApiServer) -> None:
    replies = [
        errors_reply(429, "Too many requests", {"msBeforeNext": 50, "remainingPoints": 0}),
        json_reply(WORKSPACE),
    ]
    server.answer = lambda seen: replies.pop(0)
    with client_for(server) as client:
        assert client.workspace().name == "Acme"
    assert len(server.seen) == 2


def test_429_beyond_the_deadline_is_rate_limited_at_once(server: ApiServer) -> None:
    server.answer = lambda seen: errors_reply(429, "Too many", {"msBeforeNext": 120_000})
    with (
        PublicApiClient(server.endpoint, TOKEN, retry=FAST, call_seconds=5) as client,
        pytest.raises(PublicApiError) as caught,
    ):
        client.workspace()
    assert caught.value.kind is ApiErrorKind.RATE_LIMITED
    assert "Try again in 2 minutes" in str(caught.value)
    assert len(server.seen) == 1


def test_429_with_a_retry_after_header(server: ApiServer) -> None:
    replies = [Reply(429, b"{}", {"Retry-After": "1"}), json_reply(WORKSPACE)]
    server.answer = lambda seen: replies.pop(0)
    with client_for(server) as client:
        assert client.workspace().id == "ws-1"
    assert len(server.seen) == 2


@pytest.mark.parametrize(
    "body",
    [b"<html>sign in</html>", b"[1, 2]", b'{"data": 5}', b'{"nope": {}}', b"[" * 100_000],
)
def test_answers_that_are_not_the_public_api_s(server: ApiServer, body: bytes) -> None:
    server.answer = lambda seen: Reply(200, body)
    with client_for(server) as client, pytest.raises(PublicApiError) as caught:
        client.workspace()
    assert caught.value.kind is ApiErrorKind.BAD_ANSWER
    assert "127.0.0.1" in str(caught.value)


def test_a_wrong_shape_inside_data_is_a_bad_answer(server: ApiServer) -> None:
    server.answer = lambda seen: json_reply({"sources": [{"id": 5}]})
    with client_for(server) as client, pytest.raises(PublicApiError) as caught:
        client.sources()
    assert caught.value.kind is ApiErrorKind.BAD_ANSWER


def test_a_404_without_the_envelope_means_no_public_api_there(server: ApiServer) -> None:
    error = refused_with(server, Reply(404, b"<h1>Not Found</h1>", {"Content-Type": "text/html"}))
    assert error.kind is ApiErrorKind.BAD_ANSWER


def test_unreachable_names_the_host() -> None:
    with ApiServer() as gone:
        endpoint = gone.endpoint
    with (
        PublicApiClient(endpoint, TOKEN, retry=FAST) as client,
        pytest.raises(PublicApiError) as caught,
    ):
        client.workspace()
    assert caught.value.kind is ApiErrorKind.UNREACHABLE
    assert endpoint.host in str(caught.value)
    assert "sandbox on this computer" in str(caught.value)


def test_the_token_never_leaks_even_when_the_server_echoes_it(
    server: ApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.answer = lambda seen: errors_reply(422, f"bad token {TOKEN}")
    with client_for(server) as client, pytest.raises(PublicApiError) as caught:
        client.create_source("x")
    error = caught.value
    no_token_in(error, error.sentence, error.technical, caplog.text, client)
    assert "<token hidden>" in str(error)


def test_delivery_overview_asks_for_beta_and_volume_for_v1(server: ApiServer) -> None:
    def answer(seen: Seen) -> Reply:
        if "delivery-overview" in seen.path:
            return json_reply(
                {
                    "total": 3,
                    "dataset": [{"eventName": "Live Chat Message Sent", "total": 3, "series": []}],
                }
            )
        return json_reply(
            {"result": [{"eventName": "Live Chat Message Sent", "total": 2, "series": []}]}
        )

    server.answer = answer
    start = datetime(2026, 12, 2, 0, 5, tzinfo=UTC)
    names = ["Live Chat Message Sent", "Live Chat Message Received"]
    with client_for(server) as client:
        delivered = client.delivered("src-1", start, start + timedelta(minutes=2), names)
        failed = client.failed_on_ingest("src-1", start, start + timedelta(minutes=2), names)
        volume = client.events_volume("src-1", start, start + timedelta(minutes=2), names)
    assert delivered.total == 3
    assert delivered.rows[0].event_name == "Live Chat Message Sent"
    assert failed.total == 3
    assert volume.total == 2
    received, ingest, events = server.seen
    assert received.headers["accept"] == BETA
    assert ingest.headers["accept"] == BETA
    assert events.headers["accept"] == STABLE
    query = received.query
    assert ("sourceId", "src-1") in query
    assert ("startTime", "2026-12-02T00:05:00Z") in query
    assert ("endTime", "2026-12-02T00:07:00Z") in query
    assert ("granularity", "MINUTE") in query
    assert ("groupBy.0", "eventName") in query
    assert ("filter.eventName.1", "Live Chat Message Received") in query
    assert ("groupBy.0", "discardReason") in ingest.query
    assert ("sourceId.0", "src-1") in events.query
    assert ("eventName.0", "Live Chat Message Sent") in events.query


def test_on_request_sees_each_request_without_query(server: ApiServer) -> None:
    calls: list[tuple[str, str]] = []
    with client_for(server, on_request=lambda m, p: calls.append((m, p))) as client:
        client.workspace()
    assert calls == [("GET", "/")]


def test_a_create_that_failed_on_segment_s_side_is_not_sent_twice(server: ApiServer) -> None:
    server.answer = lambda seen: errors_reply(503, "down")
    with client_for(server) as client, pytest.raises(PublicApiError) as caught:
        client.create_source("chatlio")
    assert caught.value.kind is ApiErrorKind.SERVER
    assert len(server.seen) == 1


def test_a_create_that_was_rate_limited_is_sent_again(server: ApiServer) -> None:
    replies = [
        errors_reply(429, "Too many", {"msBeforeNext": 20}),
        json_reply({"source": source_json(1, chatlio=True)}),
    ]
    server.answer = lambda seen: replies.pop(0)
    with client_for(server) as client:
        assert client.create_source("chatlio").is_chatlio
    assert len(server.seen) == 2


def test_a_create_whose_answer_never_came_is_not_sent_twice(server: ApiServer) -> None:
    server.answer = lambda seen: Reply(200, b"{}", delay=60)
    with (
        PublicApiClient(server.endpoint, TOKEN, retry=FAST, call_seconds=2) as client,
        pytest.raises(PublicApiError) as caught,
    ):
        client.create_source("chatlio")
    assert caught.value.kind is ApiErrorKind.UNREACHABLE
    assert len(server.seen) == 1
