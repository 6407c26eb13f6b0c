"""Confirming arrival: the poll rate, the alternation, each verdict's words, cancel and progress."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from app.chatlio import EVENTS
from app.proof import arrival
from app.proof.arrival import (
    DEFAULT_WAIT,
    POLL_EVERY,
    ArrivalProgress,
    Delivered,
    Verdict,
    confirm_arrival,
    discard_phrase,
)
from app.segment.cancel import CancelToken
from app.segment.endpoint import Region
from app.segment.public_api.client import PublicApiClient
from app.segment.public_api.hosts import ApiEndpoint
from app.segment.retry import RetryPolicy
from app.segment.sandbox import Sandbox
from tests.public_api_server import ApiServer, Reply, Seen, errors_reply, json_reply

TOKEN = "planted-arrival-token-93f1c2"
FAST = RetryPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.02)
SENT = "Live Chat Message Sent"
STARTED = "Live Chat Conversation Started"


def delivered(per_event: dict[str, int] | None = None) -> Delivered:
    now = datetime.now(UTC)
    return Delivered("src-1", "Chatlio", per_event or {SENT: 2, STARTED: 1}, now, now)


def rows(counts: dict[str, int], reason: str | None = None) -> dict[str, Any]:
    dataset = []
    for name, total in counts.items():
        row: dict[str, Any] = {"eventName": name, "total": total, "series": []}
        if reason is not None:
            row["discardReason"] = reason
        dataset.append(row)
    return {"total": sum(counts.values()), "dataset": dataset}


class Counting:
    """Answers as Delivery Overview would: received and failed counts the test sets."""

    def __init__(self) -> None:
        self.received: dict[str, int] = {}
        self.failed: dict[str, dict[str, int]] = {}  # reason -> name -> count
        self.unavailable = False
        self.volume: dict[str, int] = {}

    def __call__(self, seen: Seen) -> Reply:
        if seen.path.endswith("successfully-received"):
            if self.unavailable:
                return errors_reply(404, "Not available")
            return json_reply(rows(self.received))
        if seen.path.endswith("failed-on-ingest"):
            if self.unavailable:
                return errors_reply(404, "Not available")
            dataset: list[dict[str, Any]] = []
            for reason, counts in self.failed.items():
                dataset.extend(rows(counts, reason)["dataset"])
            total = sum(sum(c.values()) for c in self.failed.values())
            return json_reply({"total": total, "dataset": dataset})
        if seen.path.endswith("events/volume"):
            result = [{"eventName": n, "total": t, "series": []} for n, t in self.volume.items()]
            return json_reply({"result": result})
        return errors_reply(404, "no such path")


@pytest.fixture
def counting() -> Iterator[tuple[ApiServer, Counting]]:
    answers = Counting()
    with ApiServer(answers) as server:
        yield server, answers


def client(server: ApiServer, cancel: CancelToken | None = None) -> PublicApiClient:
    """The loopback server standing in for Segment's US host (so the words are Segment's)."""
    return PublicApiClient(ApiEndpoint(server.url, Region.US), TOKEN, retry=FAST, cancel=cancel)


def test_the_defaults_are_five_seconds_between_requests_and_three_minutes() -> None:
    assert POLL_EVERY == 5
    assert DEFAULT_WAIT == 180


def test_the_filter_uses_the_four_live_chat_names() -> None:
    assert set(arrival.EVENT_NAMES) == {e.name for e in EVENTS}
    assert len(arrival.EVENT_NAMES) == 4


def test_confirmed_at_once_when_counted(counting: tuple[ApiServer, Counting]) -> None:
    server, answers = counting
    answers.received = {SENT: 5, STARTED: 1}  # more than sent: real chats count too
    with client(server) as api:
        confirmation = confirm_arrival(api, delivered(), wait=10, poll_every=0.01)
    assert confirmation.verdict is Verdict.CONFIRMED
    assert confirmation.counted == confirmation.expected == 3
    assert confirmation.requests == 2  # failed-on-ingest first, then the count
    assert confirmation.headline == "Segment counted the 3 test events in source Chatlio."
    with PublicApiClient(server.endpoint, TOKEN, retry=FAST) as local:
        on_this_computer = confirm_arrival(local, delivered(), wait=10, poll_every=0.01)
    assert on_this_computer.headline == "The sandbox counted the 3 test events in source Chatlio."
    assert "per source, event name and minute" in confirmation.detail
    assert "real chats" in confirmation.detail
    json = confirmation.to_json()
    assert json["verdict"] == "confirmed"
    assert json["confirmed"] is True
    assert json["via"] == "delivery-overview"


def test_one_name_short_is_not_confirmed_by_another_s_surplus(
    counting: tuple[ApiServer, Counting],
) -> None:
    server, answers = counting
    answers.received = {SENT: 10}  # Started never counted
    with client(server) as api:
        confirmation = confirm_arrival(api, delivered(), wait=0.2, poll_every=0.05)
    assert confirmation.verdict is Verdict.NOT_COUNTED
    assert confirmation.counted == 2
    assert "only 2 of the 3 test events" in confirmation.headline


def test_received_and_failed_alternate_one_request_per_poll(
    counting: tuple[ApiServer, Counting],
) -> None:
    server, _answers = counting
    with client(server) as api:
        confirmation = confirm_arrival(api, delivered(), wait=0.5, poll_every=0.1)
    paths = [path.rsplit("/", 1)[-1] for path in server.paths()]
    assert confirmation.verdict is Verdict.NOT_COUNTED
    assert confirmation.requests == len(paths)
    assert 2 <= len(paths) <= 6  # 0.5 s at one per 0.1 s, and never a burst
    assert (
        paths[:4]
        == [
            "failed-on-ingest",
            "successfully-received",
            "failed-on-ingest",
            "successfully-received",
        ][: len(paths[:4])]
    )
    queries = [dict(seen.query) for seen in server.seen]
    assert all(q["granularity"] == "MINUTE" for q in queries)
    assert all(q["sourceId"] == "src-1" for q in queries)
    assert all(q["startTime"].endswith(":00Z") for q in queries)


def test_the_request_rate_is_bounded_by_poll_every(counting: tuple[ApiServer, Counting]) -> None:
    server, _answers = counting
    requests: list[str] = []
    with PublicApiClient(
        server.endpoint, TOKEN, retry=FAST, on_request=lambda m, p: requests.append(p)
    ) as api:
        confirmation = confirm_arrival(api, delivered(), wait=1.0, poll_every=0.25)
    # Requests start at least poll_every apart, so 1 s holds at most 1 + 1 / 0.25 of them.
    assert 2 <= len(requests) <= 5
    assert confirmation.requests == len(requests)


def test_discarded_at_ingest_in_plain_words(counting: tuple[ApiServer, Counting]) -> None:
    server, answers = counting
    answers.received = {STARTED: 1}
    answers.failed = {"no_user_anon_id": {SENT: 2}}
    with client(server) as api:
        confirmation = confirm_arrival(api, delivered(), wait=10, poll_every=0.01)
    assert confirmation.verdict is Verdict.DISCARDED
    assert confirmation.discarded == {"no_user_anon_id": 2}
    assert confirmation.headline == "Segment discarded 2 at ingest: no user or anonymous id."
    assert "Segment counted 1 of the 3 test events" in confirmation.detail
    assert "minute" in confirmation.detail


def test_discards_outrank_a_count_that_real_chats_fill(
    counting: tuple[ApiServer, Counting],
) -> None:
    server, answers = counting
    answers.received = {SENT: 4, STARTED: 1}
    answers.failed = {"no_user_anon_id": {SENT: 2}, "some_new_code": {STARTED: 1}}
    with client(server) as api:
        confirmation = confirm_arrival(api, delivered(), wait=10, poll_every=0.01)
    assert confirmation.verdict is Verdict.DISCARDED
    assert confirmation.headline == (
        "Segment discarded 3 at ingest: no user or anonymous id (2); some_new_code (1)."
    )
    assert "may be real chats" in confirmation.detail


def test_discards_of_other_events_are_not_the_send_s(counting: tuple[ApiServer, Counting]) -> None:
    server, answers = counting
    answers.received = {SENT: 2, STARTED: 1}
    answers.failed = {"no_user_anon_id": {"Order Completed": 5}}
    with client(server) as api:
        confirmation = confirm_arrival(api, delivered(), wait=10, poll_every=0.01)
    assert confirmation.verdict is Verdict.CONFIRMED


def test_discard_codes_in_words_and_unknown_ones_as_they_are() -> None:
    assert discard_phrase("no_user_anon_id") == "no user or anonymous id"
    assert discard_phrase("source_disabled") == "the source is turned off"
    assert "tracking plan" in discard_phrase("event_not_defined")
    assert "object" in discard_phrase("properties_not_object")
    assert "malformed" in discard_phrase("bad_request")
    assert discard_phrase("some_new_code") == "some_new_code"


def test_not_counted_says_what_to_check(counting: tuple[ApiServer, Counting]) -> None:
    server, _answers = counting
    with client(server) as api:
        confirmation = confirm_arrival(api, delivered(), wait=0.2, poll_every=0.05)
    assert confirmation.verdict is Verdict.NOT_COUNTED
    assert confirmation.headline.startswith("Not counted after 1 second: ")
    for words in ("JavaScript", "US region", "Debugger", "minute"):
        assert words in confirmation.detail


def test_minutes_in_the_not_counted_headline() -> None:
    headline, _ = arrival._words(
        Verdict.NOT_COUNTED, delivered(), 0, {}, 180.0, arrival.DELIVERY_OVERVIEW, None
    )
    assert headline.startswith("Not counted after 3 minutes: ")


def test_events_volume_when_delivery_overview_is_unavailable(
    counting: tuple[ApiServer, Counting],
) -> None:
    server, answers = counting
    answers.unavailable = True
    answers.volume = {SENT: 2, STARTED: 1}
    with client(server) as api:
        confirmation = confirm_arrival(api, delivered(), wait=10, poll_every=0.05)
    assert confirmation.verdict is Verdict.CONFIRMED
    assert confirmation.via == "events-volume"
    assert confirmation.requests == 2  # Delivery Overview refused once, then events volume
    volume = server.seen[-1]
    assert ("groupBy.0", "eventName") in volume.query
    assert ("sourceId.0", "src-1") in volume.query
    assert volume.headers["accept"] == "application/vnd.segment.v1+json"


def test_a_refused_token_fails_with_the_sentence(counting: tuple[ApiServer, Counting]) -> None:
    server, _answers = counting
    server.answer = lambda seen: errors_reply(401, "Unauthorized")
    with client(server) as api:
        confirmation = confirm_arrival(api, delivered(), wait=10, poll_every=0.01)
    assert confirmation.verdict is Verdict.FAILED
    assert "did not accept the token" in confirmation.headline
    assert "count the events Segment discarded" in confirmation.headline
    assert confirmation.requests == 1
    assert TOKEN not in repr(confirmation)
    assert TOKEN not in str(confirmation.to_json())


def test_progress_is_reported_between_polls(counting: tuple[ApiServer, Counting]) -> None:
    server, _answers = counting
    reports: list[ArrivalProgress] = []
    with client(server) as api:
        confirm_arrival(api, delivered(), wait=0.3, poll_every=0.1, on_progress=reports.append)
    assert reports
    assert all(r.expected == 3 and r.wait_s == 0.3 for r in reports)
    assert [r.requests for r in reports] == sorted(r.requests for r in reports)


def test_a_failing_progress_report_does_not_end_the_wait(
    counting: tuple[ApiServer, Counting],
) -> None:
    server, answers = counting

    def broken(progress: ArrivalProgress) -> None:
        answers.received = {SENT: 2, STARTED: 1}
        raise RuntimeError("a broken listener")

    with client(server) as api:
        confirmation = confirm_arrival(
            api, delivered(), wait=10, poll_every=0.05, on_progress=broken
        )
    assert confirmation.verdict is Verdict.CONFIRMED


def test_cancel_ends_a_long_wait_between_polls(counting: tuple[ApiServer, Counting]) -> None:
    server, _answers = counting
    cancel = CancelToken()
    with client(server, cancel) as api:
        timer = threading.Timer(0.2, cancel.cancel)
        timer.start()
        confirmation = confirm_arrival(api, delivered(), wait=100, poll_every=50, cancel=cancel)
        timer.join()
    assert confirmation.verdict is Verdict.CANCELLED
    assert confirmation.waited_s < 50  # not the whole poll interval
    assert confirmation.headline == "Stopped waiting for Segment's count."


def test_cancel_cuts_a_request_in_progress(counting: tuple[ApiServer, Counting]) -> None:
    server, _answers = counting
    server.answer = lambda seen: Reply(200, b"{}", delay=60)
    cancel = CancelToken()
    with client(server, cancel) as api:
        timer = threading.Timer(0.2, cancel.cancel)
        timer.start()
        confirmation = confirm_arrival(api, delivered(), wait=100, poll_every=1, cancel=cancel)
        timer.join()
    assert confirmation.verdict is Verdict.CANCELLED
    assert confirmation.waited_s < 30  # the server's 60 s answer was not waited for


def test_nothing_delivered_needs_no_request(counting: tuple[ApiServer, Counting]) -> None:
    server, _answers = counting
    with client(server) as api:
        confirmation = confirm_arrival(api, delivered({SENT: 0}), wait=10, poll_every=0.01)
    assert confirmation.verdict is Verdict.NOT_COUNTED
    assert confirmation.requests == 0
    assert server.seen == []


def test_the_sandbox_s_count_delay_is_waited_for() -> None:
    from tests.test_proof_sandbox_flow import api, send_conversation

    with Sandbox(chatlio_source=True) as sandbox:
        sandbox.public_api.count_delay = 1.0
        per_event, started = send_conversation(sandbox)
        with api(sandbox) as client_:
            source = next(s for s in client_.sources() if s.is_chatlio)
            sent = Delivered(source.id, source.name, dict(per_event), started, datetime.now(UTC))
            confirmation = confirm_arrival(client_, sent, wait=60, poll_every=0.2)
    assert confirmation.verdict is Verdict.CONFIRMED
    assert confirmation.requests > 1


def test_a_passing_server_error_is_waited_out(counting: tuple[ApiServer, Counting]) -> None:
    server, answers = counting
    answers.received = {SENT: 2, STARTED: 1}
    normal = server.answer
    failures = iter([True, True])  # the first two polls (each tried once)

    def flaky(seen: Seen) -> Reply:
        return errors_reply(503, "down") if next(failures, False) else normal(seen)

    server.answer = flaky
    with client(server) as api:
        confirmation = confirm_arrival(api, delivered(), wait=10, poll_every=0.01)
    assert confirmation.verdict is Verdict.CONFIRMED


def test_a_lasting_server_error_ends_the_wait(counting: tuple[ApiServer, Counting]) -> None:
    server, _answers = counting
    server.answer = lambda seen: errors_reply(503, "down")
    with client(server) as api:
        confirmation = confirm_arrival(api, delivered(), wait=30, poll_every=0.01)
    assert confirmation.verdict is Verdict.FAILED
    assert confirmation.requests == arrival.MAX_TROUBLES + 1
    assert "problem on its side" in confirmation.headline


def test_each_poll_is_one_request_even_when_it_fails(counting: tuple[ApiServer, Counting]) -> None:
    server, _answers = counting
    server.answer = lambda seen: errors_reply(503, "down")
    with client(server) as api:
        confirmation = confirm_arrival(api, delivered(), wait=30, poll_every=0.01)
    assert len(server.seen) == confirmation.requests  # no retries inside a poll


def test_a_rate_limit_while_polling_waits_as_long_as_segment_asks(
    counting: tuple[ApiServer, Counting],
) -> None:
    server, answers = counting
    answers.received = {SENT: 2, STARTED: 1}
    normal = server.answer
    limited = iter([True])

    def once_limited(seen: Seen) -> Reply:
        if next(limited, False):
            return errors_reply(429, "Too many", {"msBeforeNext": 2000})
        return normal(seen)

    server.answer = once_limited
    reports: list[ArrivalProgress] = []
    with client(server) as api:
        confirmation = confirm_arrival(
            api, delivered(), wait=30, poll_every=0.01, on_progress=reports.append
        )
    assert confirmation.verdict is Verdict.CONFIRMED
    assert reports[0].next_poll_in_s > 1  # the asked 2 s, not the 0.01 s of poll_every


def test_a_wait_that_ends_on_a_failure_says_the_failure(
    counting: tuple[ApiServer, Counting],
) -> None:
    server, _answers = counting
    server.answer = lambda seen: errors_reply(503, "down")
    with client(server) as api:
        confirmation = confirm_arrival(api, delivered(), wait=0.05, poll_every=0.1)
    assert confirmation.verdict is Verdict.FAILED
    assert confirmation.requests == 1
