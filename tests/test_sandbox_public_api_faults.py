"""The sandbox's Public API faults, connections and CDN path; the token never kept or logged."""

from __future__ import annotations

import email.utils
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.redaction import basic_auth, encoded_forms
from app.segment import SANDBOX_KEY, SANDBOX_TOKEN
from app.segment.sandbox import Sandbox

AUTH = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
TLS = ssl.create_default_context()
CHATLIO = "W3065KyMWF"
WEBSITE_KEY = "sandbox-website-key"


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sandbox.public_api_url, headers=AUTH, timeout=10, trust_env=False, verify=TLS
    ) as http:
        yield http


def create(api: httpx.Client, slug: str = "chatlio") -> dict[str, Any]:
    body = {"slug": slug, "enabled": True, "metadataId": CHATLIO}
    answer = api.post("/sources", json=body)
    assert answer.status_code == 200, answer.text
    source: dict[str, Any] = answer.json()["data"]["source"]
    return source


def first_error(answer: httpx.Response) -> dict[str, Any]:
    entry: dict[str, Any] = answer.json()["errors"][0]
    return entry


# Faults


@pytest.mark.parametrize("status", [401, 500, 502, 503])
def test_fail_next_answers_that_status_in_the_error_envelope_then_recovers(
    sandbox: Sandbox, api: httpx.Client, status: int
) -> None:
    sandbox.public_api.fail_next(status, times=2)
    assert sandbox.public_api.pending_faults() == 2
    for _ in range(2):
        answer = api.get("/sources")
        assert answer.status_code == status
        assert first_error(answer)["status"] == status
    assert sandbox.public_api.pending_faults() == 0
    assert api.get("/sources").status_code == 200


def test_a_429_carries_the_rate_limit_headers_and_data(sandbox: Sandbox, api: httpx.Client) -> None:
    sandbox.public_api.fail_next(429, ms_before_next=1500)
    answer = api.get("/")
    assert answer.status_code == 429
    data = first_error(answer)["data"]
    assert data["msBeforeNext"] == 1500
    assert isinstance(data["remainingPoints"], int)
    assert isinstance(data["consumedPoints"], int)
    assert int(answer.headers["X-RateLimit-Remaining"]) == data["remainingPoints"]
    assert int(answer.headers["X-RateLimit-Consumed"]) == data["consumedPoints"]
    reset = email.utils.parsedate_to_datetime(answer.headers["X-RateLimit-Reset"])
    assert reset > datetime.now(UTC) - timedelta(seconds=60)
    assert api.get("/").status_code == 200


def test_faults_are_checked_before_they_are_scripted(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="status"):
        sandbox.public_api.fail_next(200)
    with pytest.raises(ValueError, match="times"):
        sandbox.public_api.fail_next(500, times=0)
    with pytest.raises(ValueError, match="negative"):
        sandbox.public_api.count_delay = -1
    with pytest.raises(ValueError, match="negative"):
        sandbox.public_api.add_sources(-1)
    with pytest.raises(ValueError, match="at most"):
        sandbox.public_api.add_sources(10_000)


def test_clear_faults_drops_what_is_queued(sandbox: Sandbox, api: httpx.Client) -> None:
    sandbox.public_api.fail_next(503, times=3)
    sandbox.public_api.hide_write_keys()
    sandbox.public_api.clear_faults()
    assert sandbox.public_api.pending_faults() == 0
    assert api.get("/sources").json()["data"]["sources"][0]["writeKeys"] == [WEBSITE_KEY]


def test_hidden_write_keys_are_empty_everywhere_even_in_the_create_answer(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    sandbox.public_api.hide_write_keys(True)
    created = create(api)
    assert created["writeKeys"] == []
    assert api.get(f"/sources/{created['id']}").json()["data"]["source"]["writeKeys"] == []
    listed = api.get("/sources").json()["data"]["sources"]
    assert [source["writeKeys"] for source in listed] == [[], []]
    sandbox.public_api.hide_write_keys(False)
    assert api.get(f"/sources/{created['id']}").json()["data"]["source"]["writeKeys"] == [
        SANDBOX_KEY
    ]


def test_without_delivery_overview_its_endpoints_are_refused_and_volume_still_answers(
    sandbox: Sandbox, api: httpx.Client
) -> None:
    source_id = create(api)["id"]
    now = datetime.now(UTC).replace(microsecond=0)
    window = {
        "startTime": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "endTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "granularity": "MINUTE",
    }
    sandbox.public_api.delivery_overview_available = False
    assert sandbox.public_api.delivery_overview_available is False
    for kind in ("successfully-received", "failed-on-ingest"):
        answer = api.get(f"/delivery-overview/{kind}", params={"sourceId": source_id, **window})
        assert 400 <= answer.status_code < 500
        assert answer.status_code not in {401, 429}
        assert set(answer.json()) == {"errors"}
    assert api.get("/events/volume", params=window).status_code == 200
    sandbox.public_api.delivery_overview_available = True
    answer = api.get(
        "/delivery-overview/successfully-received", params={"sourceId": source_id, **window}
    )
    assert answer.status_code == 200


def test_faults_are_safe_to_script_from_several_threads(sandbox: Sandbox) -> None:
    def script() -> None:
        for _ in range(50):
            sandbox.public_api.fail_next(503)

    threads = [threading.Thread(target=script) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sandbox.public_api.pending_faults() == 200


# Connections


@pytest.mark.parametrize(("kind", "listed"), [("destinations", 1), ("warehouses", 1)])
def test_a_created_chatlio_source_has_a_connection_of_each_kind(
    api: httpx.Client, kind: str, listed: int
) -> None:
    source_id = create(api)["id"]
    answer = api.get(f"/sources/{source_id}/connected-{kind}")
    assert answer.status_code == 200
    data = answer.json()["data"]
    assert set(data) == {kind, "pagination"}
    assert len(data[kind]) == listed
    for item in data[kind]:
        assert isinstance(item["id"], str)
        assert isinstance(item["name"], str)
        assert item["enabled"] is True
        assert {"id", "slug", "name"} <= set(item["metadata"])
    assert data["pagination"]["totalEntries"] == listed


def test_the_website_source_has_connections_too(api: httpx.Client) -> None:
    destinations = api.get("/sources/sandboxWebsiteSource/connected-destinations").json()
    warehouses = api.get("/sources/sandboxWebsiteSource/connected-warehouses").json()
    assert len(destinations["data"]["destinations"]) == 2
    assert len(warehouses["data"]["warehouses"]) == 1


# CDN


def test_the_cdn_answers_settings_for_any_sources_key(sandbox: Sandbox, api: httpx.Client) -> None:
    create(api)
    for key in (SANDBOX_KEY, WEBSITE_KEY):
        answer = httpx.get(f"{sandbox.cdn_url}/v1/projects/{key}/settings", trust_env=False)
        assert answer.status_code == 200
        assert answer.json()["integrations"]["Segment.io"]["apiKey"] == key


def test_the_cdn_answers_segments_404_for_an_unknown_key(sandbox: Sandbox) -> None:
    for path in ("/v1/projects/nobody-has-this/settings", "/v1/projects", "/"):
        answer = httpx.get(sandbox.cdn_url + path, trust_env=False)
        assert answer.status_code == 404
        assert answer.text == "Invalid path or write key provided."


def test_the_cdn_key_is_masked_in_the_request_log_and_the_kept_requests() -> None:
    lines: list[str] = []
    with Sandbox(chatlio_source=True, on_request=lines.append) as sandbox:
        httpx.get(f"{sandbox.cdn_url}/v1/projects/{SANDBOX_KEY}/settings", trust_env=False)
        kept = json.dumps([request.path for request in sandbox.requests()])
    assert SANDBOX_KEY not in kept
    assert SANDBOX_KEY not in "\n".join(lines)
    assert lines
    assert lines[0].startswith("GET /cdn/v1/projects/sa…ey/settings 200")


# The token


def test_a_planted_token_is_never_kept_logged_or_listed() -> None:
    planted = "planted-public-api-token-5f2c9e"
    lines: list[str] = []
    with Sandbox(on_request=lines.append) as sandbox:
        base = sandbox.public_api_url
        basic = {"Authorization": basic_auth(planted)}
        httpx.get(base + "/", headers=basic, trust_env=False)
        for token in (planted, SANDBOX_TOKEN):
            headers = {"Authorization": f"Bearer {token}"}
            httpx.get(base + "/", headers=headers, trust_env=False)
            httpx.get(base + "/sources", params={"t": token}, headers=headers, trust_env=False)
            httpx.post(base + "/sources", json={"slug": token}, headers=headers, trust_env=False)
        # One too broken to read (its Content-Length is not a number), and a Tracking API send.
        host, port = sandbox.url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            raw.sendall(
                f"GET /public-api/ HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: Bearer {planted}\r\nContent-Length: x\r\n\r\n".encode()
            )
            assert raw.recv(1024).startswith(b"HTTP/1.1 400")
        httpx.post(
            sandbox.url + "/v1/track",
            json={"type": "track", "event": "E", "userId": "u"},
            headers={"Authorization": basic_auth("some-key-1234")},
            trust_env=False,
        )
        health = httpx.get(sandbox.url + "/", trust_env=False).text
        listing = httpx.get(sandbox.url + "/sandbox/events", trust_env=False).text
        kept = repr(sandbox.requests()) + repr(sandbox.events())
    # stop() delivered every line still waiting: one per request.
    assert len(lines) == 11
    everything = "\n".join([*lines, health, listing, kept])
    for secret in (planted, SANDBOX_TOKEN):
        for form in encoded_forms(secret):
            assert form not in everything
    assert "Bearer pl…9e" in kept


def test_tracking_and_public_api_faults_are_kept_apart(sandbox: Sandbox, api: httpx.Client) -> None:
    sandbox.fail_next(500)
    sandbox.public_api.fail_next(503)
    assert api.get("/").status_code == 503
    assert api.get("/").status_code == 200
    assert sandbox.pending_faults() == 1
    send = httpx.post(
        sandbox.url + "/v1/track",
        json={"type": "track", "event": "E", "userId": "u"},
        headers={"Authorization": basic_auth("some-key-1234")},
        trust_env=False,
    )
    assert send.status_code == 500
    assert sandbox.public_api.pending_faults() == 0
