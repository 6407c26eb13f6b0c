"""The sandbox's Delivery Overview and events-volume counts, fed by real Tracking API sends."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.redaction import basic_auth
from app.segment import SANDBOX_KEY, SANDBOX_TOKEN
from app.segment.sandbox import Sandbox

AUTH = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
BETA = {"Accept": "application/vnd.segment.v1beta+json"}
TLS = ssl.create_default_context()
STARTED = "Live Chat Conversation Started"
SENT = "Live Chat Message Sent"
WEBSITE_KEY = "sandbox-website-key"
Params = list[tuple[str, Any]]  # what httpx takes as params


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(chatlio_source=True) as running:
        yield running


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sandbox.public_api_url, headers=AUTH, timeout=10, trust_env=False, verify=TLS
    ) as http:
        yield http


@pytest.fixture
def tracking(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, timeout=10, trust_env=False, verify=TLS) as http:
        yield http


def send(tracking: httpx.Client, key: str, path: str, document: dict[str, Any]) -> None:
    answer = tracking.post(path, json=document, headers={"Authorization": basic_auth(key)})
    assert answer.status_code == 200, answer.text


def track(event: str, **extra: Any) -> dict[str, Any]:
    return {"type": "track", "event": event, "anonymousId": "visitor-1", **extra}


def source_id(api: httpx.Client, slug: str) -> str:
    sources = api.get("/sources").json()["data"]["sources"]
    return next(str(source["id"]) for source in sources if source["slug"] == slug)


def window(granularity: str = "MINUTE") -> Params:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start, end = now - timedelta(minutes=5), now + timedelta(minutes=2)
    return [
        ("startTime", start.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("endTime", end.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("granularity", granularity),
    ]


def counts(api: httpx.Client, path: str, params: Params, status: int = 200) -> dict[str, Any]:
    answer = api.get(path, params=params, headers=BETA)
    assert answer.status_code == status, answer.text
    if status != 200:
        entry: dict[str, Any] = answer.json()["errors"][0]
        return entry
    data: dict[str, Any] = answer.json()["data"]
    return data


def by(rows: list[dict[str, Any]], *names: str) -> dict[tuple[Any, ...], int]:
    return {tuple(row.get(name) for name in names): row["total"] for row in rows}


@pytest.fixture
def sent(sandbox: Sandbox, tracking: httpx.Client) -> None:
    """Chatlio: 2 started + 1 without ids (single), and a batch of 2 sent + 1 started;
    the website: 1 started; an unknown key: 2 started."""
    send(tracking, SANDBOX_KEY, "/v1/track", track(STARTED))
    send(tracking, SANDBOX_KEY, "/v1/t", track(STARTED, userId="u-1"))
    send(tracking, SANDBOX_KEY, "/v1/track", {"type": "track", "event": SENT})
    batch = [track(SENT), track(SENT), track(STARTED)]
    send(tracking, SANDBOX_KEY, "/v1/batch", {"batch": batch})
    send(tracking, WEBSITE_KEY, "/v1/track", track(STARTED))
    send(tracking, "unknown-key-0000", "/v1/batch", {"batch": [track(STARTED), track(STARTED)]})
    sandbox.wait_for_events(9)


@pytest.mark.usefixtures("sent")
def test_successfully_received_counts_the_sources_valid_events_by_name(api: httpx.Client) -> None:
    chatlio = source_id(api, "chatlio")
    params = [("sourceId", chatlio), *window(), ("groupBy", "eventName")]
    data = counts(api, "/delivery-overview/successfully-received", params)
    assert data["total"] == 5
    assert by(data["dataset"], "eventName") == {(STARTED,): 3, (SENT,): 2}
    for row in data["dataset"]:
        assert set(row) == {"eventName", "total", "series"}
        assert sum(point["count"] for point in row["series"]) == row["total"]
        assert len(row["series"]) == 7  # one point a minute of the window
        assert all(point["time"].endswith(":00.000Z") for point in row["series"])


@pytest.mark.usefixtures("sent")
def test_failed_on_ingest_counts_the_discarded_event_by_reason(api: httpx.Client) -> None:
    chatlio = source_id(api, "chatlio")
    params = [("sourceId", chatlio), *window(), ("groupBy", "discardReason,eventName")]
    data = counts(api, "/delivery-overview/failed-on-ingest", params)
    assert data["total"] == 1
    assert by(data["dataset"], "discardReason", "eventName") == {("no_user_anon_id", SENT): 1}


@pytest.mark.usefixtures("sent")
def test_the_website_source_counts_only_its_own_key(api: httpx.Client) -> None:
    website = source_id(api, "website")
    data = counts(
        api, "/delivery-overview/successfully-received", [("sourceId", website), *window()]
    )
    assert data["total"] == 1
    assert len(data["dataset"]) == 1  # not grouped: one row


@pytest.mark.usefixtures("sent")
def test_events_sent_with_an_unknown_key_count_nowhere(api: httpx.Client) -> None:
    volume = counts(api, "/events/volume", [*window(), ("groupBy", "source")])
    totals = {row["source"]["slug"]: row["total"] for row in volume["result"]}
    assert totals == {"chatlio": 5, "website": 1}
    assert sum(totals.values()) == 6  # of the 9 events kept: 1 discarded, 2 with no source


@pytest.mark.parametrize(
    "names",
    [
        [("filter.eventName.0", STARTED), ("filter.eventName.1", "Something Else")],
        [("filter.eventName", STARTED), ("filter.eventName", "Something Else")],
        [("filter.eventName[]", STARTED)],
    ],
    ids=["dotted", "repeated", "brackets"],
)
@pytest.mark.usefixtures("sent")
def test_the_event_name_filter_reads_either_array_encoding(
    api: httpx.Client, names: Params
) -> None:
    chatlio = source_id(api, "chatlio")
    params = [("sourceId", chatlio), *window(), ("groupBy.0", "eventName"), *names]
    data = counts(api, "/delivery-overview/successfully-received", params)
    assert by(data["dataset"], "eventName") == {(STARTED,): 3}


@pytest.mark.parametrize(
    "arrays",
    [
        [("sourceId.0", "CHATLIO"), ("eventName.0", SENT), ("groupBy.0", "eventName")],
        [("sourceId", "CHATLIO"), ("eventName", SENT), ("groupBy", "eventName")],
    ],
    ids=["dotted", "repeated"],
)
@pytest.mark.usefixtures("sent")
def test_events_volume_by_source_and_event_name(api: httpx.Client, arrays: Params) -> None:
    chatlio = source_id(api, "chatlio")
    params = [(name, chatlio if value == "CHATLIO" else value) for name, value in arrays]
    data = counts(api, "/events/volume", [*window(), *params])
    assert by(data["result"], "eventName") == {(SENT,): 2}
    assert sum(point["count"] for point in data["result"][0]["series"]) == 2


@pytest.mark.usefixtures("sent")
def test_events_volume_answers_by_hour_and_day_too(api: httpx.Client) -> None:
    for granularity in ("HOUR", "DAY"):
        data = counts(api, "/events/volume", window(granularity))
        assert [row["total"] for row in data["result"]] == [6]


@pytest.mark.usefixtures("sent")
def test_events_are_counted_only_count_delay_seconds_after_they_arrived(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    chatlio = source_id(api, "chatlio")
    params = [("sourceId", chatlio), *window()]
    sandbox.public_api.count_delay = 3600
    assert counts(api, "/delivery-overview/successfully-received", params)["total"] == 0
    assert counts(api, "/delivery-overview/failed-on-ingest", params)["total"] == 0
    assert counts(api, "/events/volume", window())["result"][0]["total"] == 0
    sandbox.public_api.count_delay = 0
    assert counts(api, "/delivery-overview/successfully-received", params)["total"] == 5


def test_a_source_with_nothing_sent_counts_zero(api: httpx.Client) -> None:
    chatlio = source_id(api, "chatlio")
    grouped = [("sourceId", chatlio), *window(), ("groupBy", "eventName")]
    data = counts(api, "/delivery-overview/successfully-received", grouped)
    assert data == {"total": 0, "dataset": []}


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"startTime": None}, "startTime"),
        ({"endTime": None}, "endTime"),
        ({"granularity": None}, "granularity"),
        ({"sourceId": None}, "sourceId"),
        ({"granularity": "SECOND"}, "granularity"),
        ({"startTime": "yesterday"}, "startTime"),
        ({"endTime": _at(NOW - timedelta(hours=1))}, "endTime"),  # before the start
        ({"endTime": _at(NOW + timedelta(hours=5))}, "endTime"),  # MINUTE window over 4 h
        (
            {
                "startTime": _at(NOW - timedelta(hours=49)),
                "endTime": _at(NOW - timedelta(hours=46)),
            },
            "startTime",
        ),  # starts over 48 h ago
        ({"groupBy": "colour"}, "groupBy"),
        ({"startTime": "9999-12-31T23:00:00Z", "endTime": "9999-12-31T23:59:59Z"}, "startTime"),
        ({"startTime": "0001-01-01T00:00:00+14:00"}, "startTime"),
    ],
)
def test_a_bad_delivery_overview_window_is_422(
    api: httpx.Client, change: dict[str, str | None], field: str
) -> None:
    values: dict[str, str | None] = {
        "sourceId": source_id(api, "chatlio"),
        "startTime": _at(NOW),
        "endTime": _at(NOW + timedelta(minutes=5)),
        "granularity": "MINUTE",
        **change,
    }
    params = [(name, value) for name, value in values.items() if value is not None]
    for path in ("/delivery-overview/successfully-received", "/delivery-overview/failed-on-ingest"):
        entry = counts(api, path, params, status=422)
        assert entry["field"] == field


def test_an_hour_window_may_start_days_ago(api: httpx.Client) -> None:
    params = [
        ("sourceId", source_id(api, "chatlio")),
        ("startTime", _at(NOW - timedelta(days=10))),
        ("endTime", _at(NOW)),
        ("granularity", "HOUR"),
    ]
    counts(api, "/delivery-overview/successfully-received", params)


def test_an_unknown_source_is_404(api: httpx.Client) -> None:
    counts(
        api,
        "/delivery-overview/successfully-received",
        [("sourceId", "no-such-source"), *window()],
        status=404,
    )


def test_delivery_overview_is_beta_and_answers_without_a_version_too(api: httpx.Client) -> None:
    params = httpx.QueryParams([("sourceId", source_id(api, "chatlio")), *window()])
    path = "/delivery-overview/successfully-received"
    for accept in ("application/json", "application/vnd.segment.v1alpha+json"):
        assert api.get(path, params=params, headers={"Accept": accept}).status_code == 200
    assert api.get(path, params=params).status_code == 200
    stable = api.get(path, params=params, headers={"Accept": "application/vnd.segment.v1+json"})
    assert stable.status_code == 415
    assert "errors" in stable.json()


def test_events_for_a_disabled_source_fail_on_ingest_as_source_disabled(
    sandbox: Sandbox, api: httpx.Client, tracking: httpx.Client
) -> None:
    body = {"slug": "off", "enabled": False, "metadataId": "W3065KyMWF"}
    created = api.post("/sources", json=body).json()["data"]["source"]
    send(tracking, created["writeKeys"][0], "/v1/track", track(STARTED))
    sandbox.wait_for_events(1)
    params = [("sourceId", created["id"]), *window(), ("groupBy", "discardReason")]
    failed = counts(api, "/delivery-overview/failed-on-ingest", params)
    assert by(failed["dataset"], "discardReason") == {("source_disabled",): 1}
    assert counts(api, "/delivery-overview/successfully-received", params[:-1])["total"] == 0
    assert counts(api, "/events/volume", window())["result"][0]["total"] == 0
