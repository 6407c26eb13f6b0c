"""The Public API client's bounds and choices: the address check, the one array encoding, size
caps, deadlines, the page cap, Cancel mid-request, and proxies."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from app.segment.cancel import CancelToken
from app.segment.endpoint import EndpointError, Region
from app.segment.proxy import ProxyChoice, ProxyMode
from app.segment.public_api import client as client_module
from app.segment.public_api import params
from app.segment.public_api.client import MAX_API_ANSWER_BYTES, PublicApiClient, accept_for
from app.segment.public_api.errors import ApiErrorKind, PublicApiError
from app.segment.public_api.hosts import EU_API, US_API, parse_api_endpoint
from app.segment.retry import RetryPolicy
from tests.public_api_server import WORKSPACE, ApiServer, Reply, Seen, json_reply, source_json

TOKEN = "planted-bounds-token-0a9b8c7d"
FAST = RetryPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.02)


@pytest.fixture
def server() -> Iterator[ApiServer]:
    with ApiServer() as running:
        yield running


# --- the address ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "base", "region"),
    [
        ("https://api.segmentapis.com", "https://api.segmentapis.com", Region.US),
        ("https://api.segmentapis.com/", "https://api.segmentapis.com", Region.US),
        ("api.segmentapis.com", "https://api.segmentapis.com", Region.US),
        ("https://eu1.api.segmentapis.com:443", "https://eu1.api.segmentapis.com", Region.EU),
        ("http://127.0.0.1:8080/public-api/", "http://127.0.0.1:8080/public-api", Region.LOCAL),
        ("http://localhost:9/public-api", "http://localhost:9/public-api", Region.LOCAL),
        ("http://[::1]:9", "http://[::1]:9", Region.LOCAL),
        ("https://papi.example.com/v1", "https://papi.example.com/v1", Region.CUSTOM),
    ],
)
def test_addresses_accepted(text: str, base: str, region: Region) -> None:
    endpoint = parse_api_endpoint(text)
    assert (endpoint.base_url, endpoint.region) == (base, region)


def test_segment_s_own_hosts_are_the_same_objects() -> None:
    assert parse_api_endpoint("https://api.segmentapis.com") is US_API
    assert parse_api_endpoint("https://eu1.api.segmentapis.com/") is EU_API


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("http://api.example.com", "unencrypted"),
        ("https://user:pw@api.example.com", "user name or password"),
        ("https://api.example.com/?x=1", "without '?'"),
        ("ftp://api.example.com", "not a web address"),
        ("", "Type the Public API's address"),
        ("https://exa mple.com", "space"),
        ("https://api.example.com:0", "port"),
        ("https://bad_label-.example.com", "valid server name"),
    ],
)
def test_addresses_refused_with_a_sentence(text: str, words: str) -> None:
    with pytest.raises(EndpointError) as caught:
        parse_api_endpoint(text)
    assert words in str(caught.value)


# --- the one array encoding -------------------------------------------------------------------


def test_arrays_are_written_name_dot_index() -> None:
    assert params.array("groupBy", ["eventName", "discardReason"]) == [
        ("groupBy.0", "eventName"),
        ("groupBy.1", "discardReason"),
    ]
    assert params.array("sourceId", []) == []


def test_every_array_parameter_goes_through_the_one_function(
    server: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def repeated(name: str, values: list[str]) -> params.Query:
        return [(f"{name}[]", value) for value in values]

    monkeypatch.setattr(params, "array", repeated)
    server.answer = lambda seen: json_reply({"total": 0, "dataset": [], "result": []})
    start = datetime(2026, 12, 2, tzinfo=UTC)
    names = ["Live Chat Message Sent"]
    with PublicApiClient(server.endpoint, TOKEN, retry=FAST) as client:
        client.delivered("s", start, start + timedelta(minutes=1), names)
        client.failed_on_ingest("s", start, start + timedelta(minutes=1), names)
        client.events_volume("s", start, start + timedelta(minutes=1), names)
    keys = {name for seen in server.seen for name, _ in seen.query}
    assert not [key for key in keys if key.rsplit(".", 1)[-1].isdigit()]
    assert {"groupBy[]", "filter.eventName[]", "sourceId[]", "eventName[]"} <= keys


def test_times_are_utc_to_the_second() -> None:
    from datetime import timezone

    moment = datetime(2026, 12, 2, 1, 5, 7, 999, tzinfo=timezone(timedelta(hours=1)))
    assert params.iso_time(moment) == "2026-12-02T00:05:07Z"
    with pytest.raises(ValueError, match="timezone"):
        params.iso_time(datetime(2026, 12, 2))


def test_versions_are_chosen_in_one_place() -> None:
    assert accept_for("delivery-overview/successfully-received").endswith("v1beta+json")
    assert accept_for("delivery-overview/failed-on-ingest").endswith("v1beta+json")
    for path in ("", "sources", "sources/x/connected-destinations", "events/volume"):
        assert accept_for(path) == "application/vnd.segment.v1+json"


# --- sizes, deadlines, pages ---------------------------------------------------------------------


def test_a_page_bigger_than_the_tracking_cap_is_read(server: ApiServer) -> None:
    many = [source_json(n, name="n" * 5000) for n in range(200)]  # about 1 MB
    server.answer = lambda seen: json_reply({"sources": many})
    with PublicApiClient(server.endpoint, TOKEN, retry=FAST) as client:
        assert len(client.sources()) == 200


def test_an_answer_over_the_cap_is_a_bad_answer(server: ApiServer) -> None:
    body = json.dumps({"data": {"x": "y" * MAX_API_ANSWER_BYTES}}).encode()
    server.answer = lambda seen: Reply(200, body)
    with (
        PublicApiClient(server.endpoint, TOKEN, retry=FAST) as client,
        pytest.raises(PublicApiError) as caught,
    ):
        client.workspace()
    assert caught.value.kind is ApiErrorKind.BAD_ANSWER
    assert "4 MB" in caught.value.sentence


def test_a_server_that_never_answers_is_cut_at_the_call_s_deadline(server: ApiServer) -> None:
    server.answer = lambda seen: Reply(200, b"{}", delay=60)
    with (
        PublicApiClient(server.endpoint, TOKEN, retry=FAST, call_seconds=1.5) as client,
        pytest.raises(PublicApiError) as caught,
    ):
        client.workspace()
    assert caught.value.kind is ApiErrorKind.UNREACHABLE
    assert "did not answer in time" in caught.value.sentence


def test_a_listing_stops_at_the_page_cap(
    server: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "MAX_PAGES", 3)
    count = iter(range(1000))
    server.answer = lambda seen: json_reply(
        {"sources": [source_json(1)], "pagination": {"next": f"c{next(count)}"}}
    )
    with (
        PublicApiClient(server.endpoint, TOKEN, retry=FAST) as client,
        pytest.raises(PublicApiError) as caught,
    ):
        client.sources()
    assert caught.value.kind is ApiErrorKind.BAD_ANSWER
    assert len(server.seen) == 3


def test_cancel_cuts_a_request_in_progress(server: ApiServer) -> None:
    arrived = threading.Event()

    def slow(seen: Seen) -> Reply:
        arrived.set()
        return Reply(200, json.dumps({"data": WORKSPACE}).encode(), delay=60)

    server.answer = slow
    cancel = CancelToken()

    def press_cancel() -> None:
        if arrived.wait(30):
            cancel.cancel()

    threading.Thread(target=press_cancel, daemon=True).start()
    with (
        PublicApiClient(server.endpoint, TOKEN, retry=FAST, cancel=cancel) as client,
        pytest.raises(PublicApiError) as caught,
    ):
        client.workspace()
    assert caught.value.kind is ApiErrorKind.CANCELLED
    assert len(server.seen) == 1


def test_cancelled_before_asking_sends_nothing(server: ApiServer) -> None:
    cancel = CancelToken()
    cancel.cancel()
    with (
        PublicApiClient(server.endpoint, TOKEN, cancel=cancel) as client,
        pytest.raises(PublicApiError) as caught,
    ):
        client.workspace()
    assert caught.value.kind is ApiErrorKind.CANCELLED
    assert server.seen == []


# --- proxies -----------------------------------------------------------------------------------


def test_a_proxy_of_a_kind_the_app_cannot_use_is_a_sentence_not_a_crash(
    server: ApiServer,
) -> None:
    proxy = ProxyChoice(ProxyMode.MANUAL, "socks4://127.0.0.1:9")
    with (
        PublicApiClient(server.endpoint, TOKEN, proxy=proxy) as client,
        pytest.raises(PublicApiError) as caught,
    ):
        client.workspace()
    assert caught.value.kind is ApiErrorKind.UNREACHABLE
    assert "proxy" in caught.value.sentence
    assert server.seen == []


def test_a_proxy_that_refuses_is_named_as_the_proxy(server: ApiServer) -> None:
    with ApiServer() as gone:
        dead = gone.url.removesuffix("/public-api")
    proxy = ProxyChoice.manual(dead)
    with (
        PublicApiClient(server.endpoint, TOKEN, proxy=proxy, retry=FAST) as client,
        pytest.raises(PublicApiError) as caught,
    ):
        client.workspace()
    assert caught.value.kind is ApiErrorKind.UNREACHABLE
    assert "proxy server" in caught.value.sentence
    assert TOKEN not in caught.value.technical


def test_the_client_s_repr_hides_the_token(server: ApiServer) -> None:
    with PublicApiClient(server.endpoint, TOKEN) as client:
        assert TOKEN not in repr(client)
        assert "<hidden>" in repr(client)


def test_https_to_a_plain_http_server_is_a_tls_sentence(server: ApiServer) -> None:
    endpoint = parse_api_endpoint(server.url.replace("http://", "https://"))
    with (
        PublicApiClient(endpoint, TOKEN, retry=FAST) as client,
        pytest.raises(PublicApiError) as caught,
    ):
        client.workspace()
    assert caught.value.kind is ApiErrorKind.UNREACHABLE
    assert "secure (https) connection" in caught.value.sentence
    assert endpoint.host in caught.value.sentence


def test_429_honours_an_x_ratelimit_reset_date(server: ApiServer) -> None:
    import time
    from email.utils import formatdate

    replies = [
        Reply(
            429,
            b'{"errors": [{"message": "slow down"}]}',
            {"X-RateLimit-Reset": formatdate(time.time() + 1, usegmt=True)},
        ),
        json_reply(WORKSPACE),
    ]
    server.answer = lambda seen: replies.pop(0)
    with PublicApiClient(server.endpoint, TOKEN, retry=FAST) as client:
        assert client.workspace().slug == "acme"
    assert len(server.seen) == 2
