"""The whole proof flow against the project's sandbox over loopback: token, create, check, send,
connections, confirmed; and the sandbox's faults (hidden keys, pages, rate limit, no Delivery
Overview)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from app.chatlio import Conversation
from app.proof.arrival import Delivered, Verdict, confirm_arrival
from app.proof.cdn import CdnAnswer, cdn_lookup
from app.proof.connections import source_connections
from app.proof.create import create_chatlio_source
from app.proof.key_owner import find_key_owner
from app.proof.workspace import check_token
from app.segment import SANDBOX_KEY, SANDBOX_TOKEN
from app.segment.client import SegmentClient
from app.segment.endpoint import Region, parse_endpoint
from app.segment.payload import Visitor
from app.segment.public_api.client import PublicApiClient
from app.segment.public_api.errors import ApiErrorKind, PublicApiError
from app.segment.public_api.hosts import parse_api_endpoint
from app.segment.retry import RetryPolicy
from app.segment.sandbox import Sandbox

FAST = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)


@pytest.fixture
def chatlio_sandbox() -> Iterator[Sandbox]:
    with Sandbox(chatlio_source=True) as running:
        yield running


def api(sandbox: Sandbox, **options: object) -> PublicApiClient:
    endpoint = parse_api_endpoint(sandbox.public_api_url)
    return PublicApiClient(endpoint, SANDBOX_TOKEN, retry=FAST, **options)  # type: ignore[arg-type]


def send_conversation(sandbox: Sandbox, key: str = SANDBOX_KEY) -> tuple[Counter[str], datetime]:
    started = datetime.now(UTC)
    conversation = Conversation()
    with SegmentClient(key, parse_endpoint(sandbox.url)) as client:
        results = client.send_each(conversation.events(), Visitor(conversation.visitor_id))
    assert all(result.ok for result in results)
    return Counter(result.event for result in results), started


def test_token_create_check_send_confirm(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    endpoint = parse_api_endpoint(sandbox.public_api_url)
    check = check_token(SANDBOX_TOKEN, [endpoint], retry=FAST)
    assert check.region is Region.LOCAL
    assert check.workspace.slug == "sandbox"
    assert '"Sandbox workspace" (sandbox)' in check.describe()
    with api(sandbox) as client:
        created = create_chatlio_source(client, "Chatlio")
        assert created.source.is_chatlio
        assert created.write_key == SANDBOX_KEY
        assert "took its write key" in created.describe()
        owner = find_key_owner(client, SANDBOX_KEY)
        assert owner.source is not None
        assert owner.source.id == created.source.id
        assert owner.is_chatlio
        assert owner.keys_visible
        connections = source_connections(client, created.source.id)
        assert connections.describe().startswith("Sends to ")
        per_event, started = send_conversation(sandbox)
        delivered = Delivered(
            created.source.id, created.source.name, dict(per_event), started, datetime.now(UTC)
        )
        confirmation = confirm_arrival(client, delivered, wait=30, poll_every=0.05)
    assert confirmation.verdict is Verdict.CONFIRMED, confirmation.headline
    assert confirmation.counted == confirmation.expected == 6
    assert confirmation.headline == (
        f"The sandbox counted the 6 test events in source {created.source.name}."
    )
    assert "per minute" in confirmation.detail or "minute" in confirmation.detail
    assert confirmation.to_json()["verdict"] == "confirmed"
    shown = [check, created, owner, connections, confirmation, confirmation.to_json(), client]
    said = caplog.text + "".join(repr(x) + str(x) for x in shown)
    assert SANDBOX_TOKEN not in said
    assert SANDBOX_KEY not in repr(created) + repr(owner) + created.describe()


def test_the_website_key_is_found_and_named_the_usual_mistake(sandbox: Sandbox) -> None:
    with api(sandbox) as client:
        owner = find_key_owner(client, "sandbox-website-key")
    assert owner.source is not None
    assert not owner.is_chatlio
    assert "usual mistake" in owner.describe()
    assert "JavaScript" in owner.describe()


def test_an_unknown_key_is_not_found_across_many_pages(sandbox: Sandbox) -> None:
    sandbox.public_api.add_sources(450)
    calls: list[tuple[str, str]] = []
    with api(sandbox, on_request=lambda m, p: calls.append((m, p))) as client:
        owner = find_key_owner(client, "no-such-key")
    assert owner.source is None
    assert owner.sources_seen >= 451
    assert owner.keys_visible
    assert len(calls) >= 3  # 200 per page
    assert "None of the workspace's" in owner.describe()


def test_hidden_write_keys_say_source_admin(chatlio_sandbox: Sandbox) -> None:
    chatlio_sandbox.public_api.hide_write_keys()
    with api(chatlio_sandbox) as client:
        owner = find_key_owner(client, SANDBOX_KEY)
        created = create_chatlio_source(client, "Chatlio two")
    assert owner.source is None
    assert not owner.keys_visible
    assert "Source Admin" in owner.describe()
    assert created.write_key is None
    assert "Source Admin" in created.describe()
    assert "by hand" in created.describe()


def test_creating_a_second_source_with_the_same_name_is_a_conflict(sandbox: Sandbox) -> None:
    with api(sandbox) as client:
        create_chatlio_source(client, "Chatlio")
        with pytest.raises(PublicApiError) as caught:
            create_chatlio_source(client, "Chatlio")
    assert caught.value.kind is ApiErrorKind.CONFLICT


def test_a_rate_limit_is_waited_out(sandbox: Sandbox) -> None:
    sandbox.public_api.fail_next(429, ms_before_next=50)
    calls: list[tuple[str, str]] = []
    with api(sandbox, on_request=lambda m, p: calls.append((m, p))) as client:
        assert client.workspace().slug == "sandbox"
    assert len(calls) == 2


def test_a_wrong_token_is_refused_on_every_host(sandbox: Sandbox) -> None:
    endpoint = parse_api_endpoint(sandbox.public_api_url)
    with pytest.raises(PublicApiError) as caught:
        check_token("not-the-token", [endpoint, endpoint], retry=FAST)
    assert caught.value.kind is ApiErrorKind.UNAUTHORIZED
    assert caught.value.sentence.startswith("Neither ")


def test_confirmation_falls_back_to_events_volume(chatlio_sandbox: Sandbox) -> None:
    chatlio_sandbox.public_api.delivery_overview_available = False
    per_event, started = send_conversation(chatlio_sandbox)
    with api(chatlio_sandbox) as client:
        owner = find_key_owner(client, SANDBOX_KEY)
        assert owner.source is not None
        delivered = Delivered(
            owner.source.id, owner.source.name, dict(per_event), started, datetime.now(UTC)
        )
        confirmation = confirm_arrival(client, delivered, wait=30, poll_every=0.05)
    assert confirmation.verdict is Verdict.CONFIRMED, confirmation.headline
    assert confirmation.via == "events-volume"
    assert "events-volume" in confirmation.detail


def test_nothing_sent_to_the_source_is_not_counted(
    chatlio_sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with api(chatlio_sandbox) as client:
        owner = find_key_owner(client, SANDBOX_KEY)
        assert owner.source is not None
        delivered = Delivered(
            owner.source.id,
            "Chatlio",
            {"Live Chat Message Sent": 2},
            datetime.now(UTC),
            datetime.now(UTC),
        )
        confirmation = confirm_arrival(client, delivered, wait=0.3, poll_every=0.1)
    assert confirmation.verdict is Verdict.NOT_COUNTED
    assert confirmation.headline.startswith("Not counted after 1 second")
    assert "Source Debugger" in confirmation.detail or "Debugger" in confirmation.detail
    assert SANDBOX_TOKEN not in caplog.text


def test_cdn_knows_the_sandbox_key(sandbox: Sandbox) -> None:
    with api(sandbox) as client:
        create_chatlio_source(client, "Chatlio")
    known = cdn_lookup(SANDBOX_KEY, base_url=sandbox.cdn_url)
    unknown = cdn_lookup("not-a-key-of-this-sandbox", base_url=sandbox.cdn_url)
    assert known.answer is CdnAnswer.KNOWN
    assert unknown.answer is CdnAnswer.UNCONFIRMED
    assert "wrong" not in unknown.sentence.replace("does not mean the key is wrong", "")
    for check in (known, unknown):
        assert SANDBOX_KEY not in check.sentence + check.technical
