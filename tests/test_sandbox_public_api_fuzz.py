"""Generated input for the sandbox's Public API: any query or body gets an envelope, never a 500."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.segment import SANDBOX_TOKEN
from app.segment.sandbox import Sandbox

TLS = ssl.create_default_context()
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
PATHS = [
    "/",
    "/sources",
    "/sources/sandboxWebsiteSource",
    "/sources/sandboxWebsiteSource/connected-destinations",
    "/sources/sandboxWebsiteSource/connected-warehouses",
    "/delivery-overview/successfully-received",
    "/delivery-overview/failed-on-ingest",
    "/events/volume",
]
NAMES = [
    "pagination.count",
    "pagination.cursor",
    "sourceId",
    "sourceId.0",
    "startTime",
    "endTime",
    "granularity",
    "groupBy",
    "groupBy.0",
    "groupBy.9999",
    "groupBy[]",
    "filter.eventName",
    "filter.eventName.1",
    "eventName",
    "eventType[3]",
]
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "MINUTE",
            "HOUR",
            "DAY",
            "eventName",
            "source",
            "discardReason",
            "2026-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:00:00-14:00",
            "0001-01-01T00:00:00+14:00",
        ]
    ),
    st.integers(-5, 5000).map(str),
    st.datetimes().map(lambda moment: moment.isoformat()),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {},
        optional={
            "slug": json_values | st.from_regex(r"[a-z0-9_-]{1,12}", fullmatch=True),
            "enabled": json_values,
            "metadataId": json_values | st.sampled_from(["W3065KyMWF", "IqDTy1TpoU"]),
            "settings": json_values,
            "name": json_values,
        },
    ).map(lambda value: json.dumps(value).encode()),
)


@pytest.fixture(scope="module")
def running() -> Iterator[Sandbox]:
    with Sandbox(chatlio_source=True) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def api(running: Sandbox) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
    with httpx.Client(
        base_url=running.public_api_url, headers=headers, timeout=10, trust_env=False, verify=TLS
    ) as http:
        yield http


def envelope(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code < 500, answer.text
    document: dict[str, Any] = answer.json()
    assert set(document) in ({"data"}, {"errors"})
    assert (answer.status_code == 200) == ("data" in document)
    return document


@FUZZ
@given(
    path=st.sampled_from(PATHS),
    params=st.lists(st.tuples(st.sampled_from(NAMES) | st.text(max_size=10), VALUES), max_size=8),
)
def test_any_query_gets_an_envelope(
    running: Sandbox, api: httpx.Client, path: str, params: list[tuple[str, Any]]
) -> None:
    envelope(api.get(path, params=params))


@FUZZ
@given(body=bodies)
def test_any_create_body_gets_an_envelope(api: httpx.Client, body: bytes) -> None:
    answer = api.post("/sources", content=body, headers={"Content-Type": "application/json"})
    document = envelope(answer)
    if "data" in document:
        assert document["data"]["source"]["slug"]


def test_the_fuzzing_left_no_sandbox_error(running: Sandbox) -> None:
    health = httpx.get(running.url + "/", trust_env=False).json()
    assert health["errors"] == 0
