"""The history's exports: HAR 1.2 (one entry per HTTP try) and JSON lines, from real sends to
the real sandbox kept in a real SQLite file, written as they are read."""

from __future__ import annotations

import io
import json
import os
import re
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app import APP_NAME, __version__
from app.chatlio import Conversation
from app.history.export import (
    EARLIER_TRY_COMMENT,
    ExportError,
    Format,
    Written,
    detail_to_json,
    entry_from_json,
    entry_to_json,
    export_file,
    write_har,
    write_jsonl,
)
from app.history.records import Face, SendDetail
from app.history.store import HistoryStore
from app.segment.endpoint import parse_endpoint
from app.segment.payload import Visitor
from app.segment.retry import RetryPolicy
from app.segment.sandbox import Sandbox
from app.sending import SendOutcome, Target, send_test_events
from tests.hostile_server import closed_port

KEY = "PlantedExportKey0123456789abcdef"

# HAR 1.2's required fields and their JSON types (http://www.softwareishard.com/blog/har-12-spec/).
INTEGER, NUMBER, STRING, ARRAY, OBJECT = "integer", "number", "string", "array", "object"
REQUIRED: dict[str, dict[str, str]] = {
    "log": {"version": STRING, "creator": OBJECT, "entries": ARRAY},
    "creator": {"name": STRING, "version": STRING},
    "entry": {
        "startedDateTime": STRING,
        "time": NUMBER,
        "request": OBJECT,
        "response": OBJECT,
        "cache": OBJECT,
        "timings": OBJECT,
    },
    "request": {
        "method": STRING,
        "url": STRING,
        "httpVersion": STRING,
        "cookies": ARRAY,
        "headers": ARRAY,
        "queryString": ARRAY,
        "headersSize": INTEGER,
        "bodySize": INTEGER,
    },
    "postData": {"mimeType": STRING, "text": STRING},
    "response": {
        "status": INTEGER,
        "statusText": STRING,
        "httpVersion": STRING,
        "cookies": ARRAY,
        "headers": ARRAY,
        "content": OBJECT,
        "redirectURL": STRING,
        "headersSize": INTEGER,
        "bodySize": INTEGER,
    },
    "content": {"size": INTEGER, "mimeType": STRING},
    "timings": {"send": NUMBER, "wait": NUMBER, "receive": NUMBER},
    "header": {"name": STRING, "value": STRING},
}
DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def has_type(value: object, kind: str) -> bool:
    checks: dict[str, Any] = {
        INTEGER: lambda v: isinstance(v, int) and not isinstance(v, bool),
        NUMBER: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        STRING: lambda v: isinstance(v, str),
        ARRAY: lambda v: isinstance(v, list),
        OBJECT: lambda v: isinstance(v, dict),
    }
    return bool(checks[kind](value))


def problems(obj: dict[str, Any], part: str, where: str) -> list[str]:
    return [
        f"{where}.{name}: missing or not {kind}"
        for name, kind in REQUIRED[part].items()
        if name not in obj or not has_type(obj[name], kind)
    ]


def har_problems(document: dict[str, Any]) -> list[str]:
    """Every required HAR 1.2 field missing or of the wrong type, as 'where: what'."""
    log = document["log"]
    found = problems(log, "log", "log") + problems(log["creator"], "creator", "creator")
    for index, entry in enumerate(log["entries"]):
        at = f"entries[{index}]"
        found += problems(entry, "entry", at)
        found += problems(entry["request"], "request", f"{at}.request")
        found += problems(entry["request"]["postData"], "postData", f"{at}.postData")
        found += problems(entry["response"], "response", f"{at}.response")
        found += problems(entry["response"]["content"], "content", f"{at}.content")
        found += problems(entry["timings"], "timings", f"{at}.timings")
        headers = entry["request"]["headers"] + entry["response"]["headers"]
        for header in headers:
            found += problems(header, "header", f"{at}.headers")
        if not DATE_TIME.match(entry["startedDateTime"]):
            found.append(f"{at}.startedDateTime: not ISO 8601 with an offset")
        timings = entry["timings"]
        # The spec: time is the sum of the timings known (-1: not known); ssl is within connect.
        names = ("blocked", "dns", "connect", "send", "wait", "receive")
        spent = sum(timings[name] for name in names if timings.get(name, -1) != -1)
        if abs(spent - entry["time"]) > 0.01:
            found.append(f"{at}.time: not the sum of its timings")
    return found


def send(
    target: Target, count: int = 1, *, batch: bool = False, attempts: int | None = None
) -> tuple[SendOutcome, datetime]:
    conversation = Conversation()
    started = datetime.now(UTC)
    outcome = send_test_events(
        target,
        conversation.events()[:count],
        Visitor(conversation.visitor_id),
        conversation_id=conversation.conversation_id,
        batch=batch,
        retry=None if attempts is None else RetryPolicy(max_attempts=attempts),
    )
    return outcome, started


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    kept = HistoryStore(tmp_path / "history.sqlite3")
    yield kept
    kept.close()


@pytest.fixture(scope="module")
def sends() -> list[tuple[SendOutcome, datetime]]:
    """Four real sends, made once: one retried after a 500, a batch of three, one that reached
    nothing (two tries, then the rest not sent), and one event alone."""
    with Sandbox() as sandbox:
        target = Target.segment(parse_endpoint(sandbox.url), KEY)
        sandbox.fail_next(500)
        made = [send(target), send(target, 3, batch=True)]
        with closed_port() as port:
            nowhere = Target.segment(parse_endpoint(f"http://127.0.0.1:{port}"), KEY)
            made.append(send(nowhere, 3, attempts=2))
        made.append(send(target))
    return made


@pytest.fixture
def kept(store: HistoryStore, sends: list[tuple[SendOutcome, datetime]]) -> list[SendOutcome]:
    """The four sends, kept in this test's history."""
    for outcome, started in sends:
        store.record(outcome, source="Chatlio", face=Face.CLI, started_at=started, secrets=[KEY])
    return [outcome for outcome, _ in sends]


def test_har_is_valid_with_one_entry_per_try(store: HistoryStore, kept: list[SendOutcome]) -> None:
    out = io.StringIO()

    written = write_har(store.details(), out)

    document = json.loads(out.getvalue())
    assert har_problems(document) == []
    log = document["log"]
    assert log["version"] == "1.2"
    assert log["creator"] == {"name": APP_NAME, "version": __version__}
    assert "approximate" in log["comment"]
    entries = log["entries"]
    # 2 tries of the retried event, 1 for the whole batch, 2 to the closed port (its other two
    # events were never sent), 1 for the last send.
    assert [e["_chatlio"]["attempt"] for e in entries] == [1, 2, 1, 1, 2, 1]
    assert [e["_chatlio"]["attempts"] for e in entries] == [2, 2, 1, 2, 2, 1]
    assert written == Written(sends=4, requests=6)
    assert [e["response"]["status"] for e in entries] == [500, 200, 200, 0, 0, 200]
    assert len(entries[2]["_chatlio"]["events"]) == 3
    assert entries[2]["request"]["url"].endswith("/v1/batch")


def test_har_entries_say_what_each_try_kept(store: HistoryStore, kept: list[SendOutcome]) -> None:
    out = io.StringIO()
    write_har(store.details(), out)
    first, second, *_ = json.loads(out.getvalue())["log"]["entries"]
    [result] = kept[0].results

    # Only the last try kept the answer: the first has its status and a comment saying so.
    assert first["comment"] == EARLIER_TRY_COMMENT
    assert first["response"]["headers"] == []
    assert first["response"]["statusText"] == "Internal Server Error"
    assert "500" in first["_chatlio"]["error"]
    assert "comment" not in second
    assert second["response"]["content"]["text"] == result.body
    assert {h["name"].lower() for h in second["response"]["headers"]} >= {"content-type"}
    assert second["_chatlio"]["error"] is None
    # The request as sent: the key redacted, the body, the try's own X-Retry-Count.
    for entry in (first, second):
        headers = {h["name"].lower(): h["value"] for h in entry["request"]["headers"]}
        assert headers["authorization"] == "Basic <write key hidden>"
        assert entry["request"]["postData"]["text"] == result.request.body  # type: ignore[union-attr]
        assert entry["request"]["method"] == "POST"
    assert "x-retry-count" not in {h["name"].lower() for h in first["request"]["headers"]}
    assert {"name": "X-Retry-Count", "value": "1"} in second["request"]["headers"]
    # Start times: the send's start, then the first try and the wait after it.
    one, two = (datetime.fromisoformat(e["startedDateTime"]) for e in (first, second))
    waited = result.attempts[1].waited_before_s
    assert waited > 0
    assert two - one == pytest.approx(
        timedelta(milliseconds=result.attempts[0].elapsed_ms, seconds=waited),
        abs=timedelta(milliseconds=2),
    )
    assert first["_chatlio"]["send_id"] == store.page()[-1].id


def test_a_try_with_no_answer_has_status_0_and_says_why(
    store: HistoryStore, kept: list[SendOutcome]
) -> None:
    out = io.StringIO()
    write_har(store.details(), out)
    entries = json.loads(out.getvalue())["log"]["entries"]
    nowhere = [e for e in entries if e["response"]["status"] == 0]

    assert len(nowhere) == 2
    for entry in nowhere:
        assert entry["response"]["httpVersion"] == ""
        assert entry["_chatlio"]["error"]
        assert entry["_chatlio"]["technical"]  # the technical name is there for a developer
    assert "Could not connect" in nowhere[-1]["_chatlio"]["error"]


def test_jsonl_has_one_line_per_send_with_everything(
    store: HistoryStore, kept: list[SendOutcome]
) -> None:
    out = io.StringIO()

    written = write_jsonl(store.details(), out)

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert written == Written(sends=4, requests=6)
    assert len(lines) == 4
    details = list(store.details())
    for line, detail, outcome in zip(lines, details, kept, strict=True):
        assert line == detail_to_json(detail)
        assert line["id"] == detail.entry.id
        assert line["verdict"] == outcome.verdict
        assert line["visitor_id"] == outcome.visitor.visitor_id
        assert line["conversation_id"] == outcome.conversation_id
        assert [r["event"] for r in line["results"]] == [r.event for r in outcome.results]
        assert [r["status"] for r in line["results"]] == [r.status for r in outcome.results]
        assert line["confirmation"] is None
    assert lines[0]["results"][0]["attempts"] == 2


def test_the_list_entry_round_trips_through_json(
    store: HistoryStore, kept: list[SendOutcome]
) -> None:
    for entry in store.page():
        text = json.dumps(entry_to_json(entry))
        assert entry_from_json(json.loads(text)) == entry


def test_writing_starts_before_the_sends_are_all_read(
    store: HistoryStore, kept: list[SendOutcome]
) -> None:
    """Constant memory by construction: each send is written before the next is read."""
    for writer in (write_har, write_jsonl):
        out = io.StringIO()
        seen: list[int] = []

        def watched(out: io.StringIO = out, seen: list[int] = seen) -> Iterator[SendDetail]:
            for detail in store.details(batch=1):
                if seen:  # the one before is already on its way out
                    assert f'"send_id":{seen[-1]},' in out.getvalue() or (
                        f'"id":{seen[-1]},' in out.getvalue()
                    )
                seen.append(detail.entry.id)
                yield detail

        writer(watched(), out)
        assert len(seen) == 4


def test_export_file_is_owner_only_and_replaces_the_old_one_at_the_end(
    store: HistoryStore, kept: list[SendOutcome], tmp_path: Path
) -> None:
    target = tmp_path / "history.har"
    target.write_text("the old export")
    target.chmod(0o644)
    during: list[str] = []

    def watched() -> Iterator[SendDetail]:
        for detail in store.details():
            during.append(target.read_text())
            yield detail

    written = export_file(watched(), target, Format.HAR)

    assert during == ["the old export"] * 4  # never half-written where a reader would look
    assert written.sends == 4
    assert har_problems(json.loads(target.read_text())) == []
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_an_export_that_fails_midway_leaves_nothing_behind(
    store: HistoryStore, kept: list[SendOutcome], tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()

    def broken() -> Iterator[SendDetail]:
        yield next(store.details())
        raise RuntimeError("the history went away")

    with pytest.raises(RuntimeError):
        export_file(broken(), folder / "history.jsonl", Format.JSONL)

    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("where", ["missing folder", "a folder"])
def test_a_path_that_cannot_be_a_file_is_a_sentence(tmp_path: Path, where: str) -> None:
    path = tmp_path / "nowhere" / "history.har" if where == "missing folder" else tmp_path

    with pytest.raises(ExportError) as raised:
        export_file(iter([]), path, Format.HAR)

    assert raised.value.bad_path
    assert ("There is no folder" if where == "missing folder" else "is a folder") in (
        raised.value.message
    )


def test_an_empty_history_exports_an_empty_but_valid_har() -> None:
    out = io.StringIO()

    assert write_har(iter([]), out) == Written(0, 0)

    document = json.loads(out.getvalue())
    assert document["log"]["entries"] == []
    assert har_problems(document) == []
