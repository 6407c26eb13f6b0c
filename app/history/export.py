"""The send history written out: HAR 1.2 (one entry per HTTP try) or JSON lines (one per send).

Both writers take the sends as an iterable (HistoryStore.details() reads them a batch at a time)
and write each one as it comes, so exporting a hundred thousand sends takes no more memory than
exporting ten. `export_file` writes a file whole or not at all, readable by its owner only.
Qt-free: the command line and the app's history pane share it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from http import HTTPStatus
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

from app import APP_NAME, __version__
from app.history.records import MAX_KEPT_BODY_CHARS, Face, Outcome, SendDetail, SendEntry
from app.segment.result import Attempt, SendResult

HAR_VERSION = "1.2"
HAR_COMMENT = (
    f"Test events sent by {APP_NAME}, one entry per try of each request. Start times are "
    "approximate: each is worked out from when its send began, plus how long the tries and "
    "waits before it took. Only the last try of a request kept the answer's headers and body."
)
EARLIER_TRY_COMMENT = (
    "An earlier try: only its status was kept, not the headers or body of its answer. The "
    "request is shown as last sent (its sentAt and X-Retry-Count differed)."
)
TRUNCATED_COMMENT = (
    f"The answer was longer: only its first {MAX_KEPT_BODY_CHARS:,} characters were kept."
)
_RETRY_HEADER = "x-retry-count"


class Format(StrEnum):
    """What an export is written as; the values are the command line's option names."""

    HAR = "har"  # HAR 1.2, for browsers' network tools and HAR viewers
    JSONL = "jsonl"  # one JSON object per send per line, for scripts


class ExportError(Exception):
    """The file could not be written; `message` says why in a sentence. `bad_path`: the path
    itself cannot be used (no such folder, a folder given), rather than the writing failing."""

    def __init__(self, message: str, *, bad_path: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.bad_path = bad_path


@dataclass(frozen=True)
class Written:
    """What an export wrote: how many sends, and how many HTTP tries they made."""

    sends: int = 0
    requests: int = 0

    def describe(self, where: str) -> str:
        sends = "1 send" if self.sends == 1 else f"{self.sends:,} sends"
        requests = "1 request" if self.requests == 1 else f"{self.requests:,} requests"
        return f"Exported {sends} ({requests}) to {where}."


# A callback told after each send written, with how many so far (an app's progress bar).
OnSend = Callable[[int], None]


def write_har(details: Iterable[SendDetail], out: TextIO, on_send: OnSend | None = None) -> Written:
    """A HAR 1.2 document on `out`, one entry per try, each written as soon as it is made."""
    creator = {"name": APP_NAME, "version": __version__}
    out.write(
        f'{{"log": {{"version": "{HAR_VERSION}", "creator": {_dumps(creator)}, '
        f'"comment": {_dumps(HAR_COMMENT)}, "entries": ['
    )
    sends = requests = 0
    for detail in details:
        for entry in har_entries(detail):
            out.write(("\n" if not requests else ",\n") + _dumps(entry))
            requests += 1
        sends += 1
        if on_send is not None:
            on_send(sends)
    out.write("\n]}}\n")
    return Written(sends, requests)


def write_jsonl(
    details: Iterable[SendDetail], out: TextIO, on_send: OnSend | None = None
) -> Written:
    """One JSON object per send on `out` (detail_to_json), a line each, as they come."""
    sends = requests = 0
    for detail in details:
        out.write(_dumps(detail_to_json(detail)) + "\n")
        sends += 1
        requests += sum(1 for _ in _tries(detail))
        if on_send is not None:
            on_send(sends)
    return Written(sends, requests)


WRITERS: dict[Format, Callable[[Iterable[SendDetail], TextIO, OnSend | None], Written]] = {
    Format.HAR: write_har,
    Format.JSONL: write_jsonl,
}


def export_file(
    details: Iterable[SendDetail], path: Path, kind: Format, on_send: OnSend | None = None
) -> Written:
    """Write the sends to `path` as `kind`: into a file of the same folder, then put in place
    in one step, so `path` is either the whole export or what it was before. Owner-only.

    Raises ExportError with a sentence; whatever the sends' iterable raises (the history
    becoming unavailable) passes through, and leaves nothing behind.
    """
    if path.is_dir():
        raise ExportError(
            f"{path} is a folder. Give the name of a file to write, like "
            f"{path / ('history.' + kind.value)}.",
            bad_path=True,
        )
    folder = path.parent
    if not folder.is_dir():
        raise ExportError(
            f"There is no folder {folder}, so {path.name} cannot be written there. Create the "
            "folder first, or give another path.",
            bad_path=True,
        )
    try:
        # mkstemp: a new file only this user may read, in the folder where it will stay.
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise ExportError(_cannot_write(path, exc)) from exc
    try:
        with open(handle, "w", encoding="utf-8", newline="\n") as out:
            written = WRITERS[kind](details, out, on_send)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        _remove(temporary)
        raise ExportError(_cannot_write(path, exc)) from exc
    except BaseException:
        _remove(temporary)
        raise
    return written


# --- HAR entries ----------------------------------------------------------------------------


def har_entries(detail: SendDetail) -> Iterator[dict[str, Any]]:
    """One HAR entry per HTTP try of the send; events never sent make none."""
    for results, attempt, started in _tries(detail):
        yield _har_entry(detail.entry, results, attempt, started)


def _tries(detail: SendDetail) -> Iterator[tuple[list[SendResult], Attempt, datetime]]:
    """Each try of each request, with the results it carried (several for a batch) and about
    when it began: the send's start, plus every earlier try and wait."""
    clock = detail.entry.started_at
    for results in _requests(detail.results):
        for attempt in results[0].attempts:
            clock += timedelta(seconds=attempt.waited_before_s)
            yield results, attempt, clock
            clock += timedelta(milliseconds=attempt.elapsed_ms)


def _requests(results: Iterable[SendResult]) -> Iterator[list[SendResult]]:
    """The results grouped by the HTTP request that carried them: a /v1/batch carried many,
    each with the same request and tries; results never sent are left out."""
    group: list[SendResult] = []
    for result in results:
        if result.request is None or not result.attempts:
            continue
        if group and _same_request(group, result):
            group.append(result)
            continue
        if group:
            yield group
        group = [result]
    if group:
        yield group


def _same_request(group: list[SendResult], result: SendResult) -> bool:
    first = group[0]
    return (
        result.batched_with > 1
        and len(group) < result.batched_with
        and result.request == first.request
        and result.attempts == first.attempts
    )


def _har_entry(
    entry: SendEntry, results: list[SendResult], attempt: Attempt, started: datetime
) -> dict[str, Any]:
    result = results[0]
    tries = len(result.attempts)
    last = attempt.number == result.attempts[-1].number
    elapsed = round(max(attempt.elapsed_ms, 0.0), 3)
    har: dict[str, Any] = {
        "startedDateTime": started.astimezone(UTC).isoformat(timespec="milliseconds"),
        "time": elapsed,
        "request": _har_request(result, attempt),
        "response": _har_response(result, attempt, last),
        "cache": {},
        "timings": {
            "blocked": -1,
            "dns": -1,
            "connect": -1,
            "ssl": -1,
            "send": 0,
            "wait": elapsed,
            "receive": 0,
        },
    }
    if not last:
        har["comment"] = EARLIER_TRY_COMMENT
    har["_chatlio"] = {
        "send_id": entry.id,
        "event": result.event,
        "events": [r.event for r in results],
        "message_ids": [r.message_id for r in results],
        "attempt": attempt.number,
        "attempts": tries,
        "waited_before_s": attempt.waited_before_s,
        "error": _error_words(result, attempt, last),
        "technical": attempt.error,
    }
    return har


def _har_request(result: SendResult, attempt: Attempt) -> dict[str, Any]:
    assert result.request is not None  # _requests leaves out results never sent
    request = result.request
    headers = [
        (name, value) for name, value in request.headers.items() if name.lower() != _RETRY_HEADER
    ]
    if attempt.number > 1:  # as the client sends it on every try after the first
        headers.append(("X-Retry-Count", str(attempt.number - 1)))
    query = urlsplit(request.url).query
    return {
        "method": request.method,
        "url": request.url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _har_headers(headers),
        "queryString": _har_headers(parse_qsl(query, keep_blank_values=True)),
        "postData": {"mimeType": "application/json", "text": request.body},
        "headersSize": -1,
        "bodySize": len(request.body.encode("utf-8")),
    }


def _har_response(result: SendResult, attempt: Attempt, last: bool) -> dict[str, Any]:
    status = (result.status if last else attempt.status) or 0
    answer: dict[str, Any] = {
        "status": status,
        "statusText": _phrase(status),
        "httpVersion": "HTTP/1.1" if status else "",
        "cookies": [],
        "headers": [],
        "content": {"size": 0, "mimeType": ""},
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": -1,
    }
    if last:
        headers = result.response_headers
        lowered = {name.lower(): value for name, value in headers.items()}
        content: dict[str, Any] = {
            "size": len(result.body.encode("utf-8")),
            "mimeType": lowered.get("content-type", ""),
            "text": result.body,
        }
        if result.body_truncated:
            content["comment"] = TRUNCATED_COMMENT
        answer |= {
            "headers": _har_headers(headers.items()),
            "content": content,
            "redirectURL": lowered.get("location", ""),
        }
    return answer


def _har_headers(pairs: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _error_words(result: SendResult, attempt: Attempt, last: bool) -> str | None:
    """What went wrong with this try, in a sentence; None for the try that succeeded."""
    if last:
        return None if result.ok else result.message
    if attempt.status:
        return f"The server answered {attempt.status} {_phrase(attempt.status)}".rstrip() + (
            ", so the app tried again."
        )
    return "No answer came, so the app tried again."


# --- JSON ---------------------------------------------------------------------------------------


def entry_to_json(entry: SendEntry) -> dict[str, Any]:
    """A send as `history --json` lists it; scripts may rely on these keys.

    `confirmation` is {"headline": …} once Segment's count was asked for, else None; the JSON
    lines export gives the whole confirmation there, headline included.
    """
    return {
        "id": entry.id,
        "started_at": entry.started_at.astimezone(UTC).isoformat(),
        "face": entry.face.value,
        "source": entry.source,
        "endpoint": entry.endpoint,
        "region": entry.region,
        "sandbox": entry.sandbox,
        "events": list(entry.events),
        "total": entry.total,
        "arrived": entry.arrived,
        "outcome": entry.outcome.value,
        "summary": entry.summary,
        "confirmation": {"headline": entry.confirmation} if entry.confirmation else None,
    }


def entry_from_json(data: Mapping[str, Any]) -> SendEntry:
    """The SendEntry that entry_to_json wrote; KeyError or ValueError when it is not one."""
    confirmation = data.get("confirmation") or {}
    return SendEntry(
        id=int(data["id"]),
        started_at=datetime.fromisoformat(str(data["started_at"])),
        face=Face(data["face"]),
        source=str(data["source"]),
        endpoint=str(data["endpoint"]),
        region=str(data["region"]),
        sandbox=bool(data["sandbox"]),
        events=tuple(str(name) for name in data["events"]),
        total=int(data["total"]),
        arrived=int(data["arrived"]),
        outcome=Outcome(data["outcome"]),
        summary=str(data["summary"]),
        confirmation=str(confirmation.get("headline", "")),
    )


def detail_to_json(detail: SendDetail) -> dict[str, Any]:
    """A send in full, as one line of the JSON lines export: entry_to_json's keys (with the
    whole confirmation), the verdict, the visitor and conversation, every result as `send
    --json` prints it."""
    return {
        **entry_to_json(detail.entry),
        "confirmation": dict(detail.confirmation) if detail.confirmation is not None else None,
        "verdict": detail.verdict,
        "visitor_id": detail.visitor_id,
        "conversation_id": detail.conversation_id,
        "as_user_id": detail.as_user_id,
        "results": [result.to_json() for result in detail.results],
    }


def _dumps(value: object) -> str:
    # ASCII: a server's control characters arrive escaped, and no text can fail to encode.
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


def _cannot_write(path: Path, exc: OSError) -> str:
    why = exc.strerror or type(exc).__name__
    return f"{path} could not be written ({why}). Nothing was exported."


def _remove(path: str) -> None:
    with suppress(OSError):
        os.unlink(path)
