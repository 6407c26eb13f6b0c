"""`history`: the kept sends listed, exported (HAR, JSON lines) or cleared; and how `send`
keeps each of its sends there, without a history problem ever failing the send."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from app.cli_parser import DEFAULT_HISTORY_LIMIT as DEFAULT_LIMIT
from app.cli_support import PROG, UsageError, ask_yes_no
from app.exit_codes import ExitCode
from app.history.records import Face, Outcome, SendEntry
from app.history.store import PAGE_SIZE, HistoryStore, HistoryUnavailable, KeepMode, Retention
from app.redaction import printable, scrub

if TYPE_CHECKING:
    from datetime import datetime

    from app.proof.arrival import Confirmation
    from app.sending import SendOutcome

OUTCOME_WORDS = {
    Outcome.ARRIVED: "arrived",
    Outcome.PARTLY: "partly arrived",
    Outcome.FAILED: "failed",
    Outcome.CANCELLED: "cancelled",
}
FACE_WORDS = {Face.APP: "the app", Face.CLI: "the command line"}
_OUTCOME_WIDTH = max(len(words) for words in OUTCOME_WORDS.values())


def run_history(
    args: argparse.Namespace, stdin: TextIO | None, out: TextIO, secrets: list[str]
) -> int:
    """`history`, `history export` or `history clear`."""
    action = args.history_command
    if action is not None and (args.limit is not None or args.json):
        raise UsageError(
            f"--limit and --json are for listing the sends: '{PROG} history --limit N --json'. "
            f"Leave them out of 'history {action}'."
        )
    store = HistoryStore()
    try:
        kept = store.count()  # opens the file: a damaged one is put aside, and said first
        _say_notice(store)
        if action == "export":
            return _export(args, store, out)
        if action == "clear":
            return _clear(args, store, kept, stdin, out)
        if action == "keep":
            return _keep(args, store, kept, out)
        return _list(args, store, kept, out)
    except HistoryUnavailable as exc:
        print(printable(exc.message), file=sys.stderr)
        return ExitCode.FAILED
    finally:
        _say_notice(store)
        store.close()


# --- history [--limit N] [--json] ---------------------------------------------------------------


def _list(args: argparse.Namespace, store: HistoryStore, kept: int, out: TextIO) -> int:
    limit = DEFAULT_LIMIT if args.limit is None else args.limit
    if not kept:
        if not args.json:
            print(_nothing_kept(store), file=out)
        return ExitCode.OK
    from app.history.export import entry_to_json  # the export module only when it is used

    shown, before = 0, None
    while shown < limit:
        page = store.page(before=before, limit=min(PAGE_SIZE, limit - shown))
        if not page:
            break
        for entry in page:
            if args.json:
                line = json.dumps(entry_to_json(entry), ensure_ascii=True, separators=(",", ":"))
            else:
                line = describe(entry)
            print(line, file=out)
        shown += len(page)
        before = page[-1].id
    if not args.json and kept > shown:
        print(
            f"\nShowing the newest {shown:,} of {kept:,} kept sends. To see them all: "
            f"{PROG} history --limit {kept}",
            file=out,
        )
    return ExitCode.OK


def describe(entry: SendEntry) -> str:
    """One send on one line: when (local time), how it ended, the summary, source and face."""
    when = entry.started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    outcome = OUTCOME_WORDS[entry.outcome]
    return (
        f"{when}  {outcome:<{_OUTCOME_WIDTH}}  {printable(entry.summary)}  "
        f"(source {printable(entry.source)}, from {FACE_WORDS[entry.face]})"
    )


def _nothing_kept(store: HistoryStore) -> str:
    keep = store.retention
    if keep.mode is KeepMode.OFF:
        return (
            f"No sends are kept. {keep.describe()} It can be turned back on in the app's "
            f"settings, or with '{PROG} history keep --sends 1000'."
        )
    return (
        f"No sends are kept yet. Each send is kept here, from the app and from '{PROG} send' "
        f"(unless it is given --no-history). {keep.describe()}"
    )


# --- history export (--har FILE | --jsonl FILE) -------------------------------------------------


def _export(args: argparse.Namespace, store: HistoryStore, out: TextIO) -> int:
    from app.history.export import WRITERS, ExportError, Format, export_file

    kind, target = (Format.HAR, args.har) if args.har is not None else (Format.JSONL, args.jsonl)
    if target == "-":
        written = WRITERS[kind](store.details(), out, None)
        out.flush()
        print(written.describe("standard output"), file=sys.stderr)
        return ExitCode.OK
    path = Path(target)
    try:
        written = export_file(store.details(), path, kind)
    except ExportError as exc:
        print(printable(exc.message), file=sys.stderr)
        return ExitCode.USAGE if exc.bad_path else ExitCode.FAILED
    print(printable(written.describe(str(path))), file=out)
    return ExitCode.OK


# --- history clear [--yes] ----------------------------------------------------------------------


def _clear(
    args: argparse.Namespace, store: HistoryStore, kept: int, stdin: TextIO | None, out: TextIO
) -> int:
    if not kept:
        print("There are no kept sends to delete.", file=out)
        return ExitCode.OK
    sends = "the 1 kept send" if kept == 1 else f"all {kept:,} kept sends"
    if not args.yes:
        if stdin is None or not stdin.isatty():
            raise UsageError(
                f"Deleting {sends} needs a yes, and there is no terminal to ask on. To delete "
                f"them, run: {PROG} history clear --yes"
            )
        if not ask_yes_no(f"Delete {sends}?", stdin):
            print("Nothing was deleted.", file=out)
            return ExitCode.FAILED
    deleted = store.clear()
    print(f"Deleted {'1 kept send' if deleted == 1 else f'{deleted:,} kept sends'}.", file=out)
    return ExitCode.OK


# --- history keep [--sends N | --days N | --off] ------------------------------------------------


def _keep(args: argparse.Namespace, store: HistoryStore, kept: int, out: TextIO) -> int:
    if args.sends is not None:
        wanted = Retention(KeepMode.SENDS, args.sends)
    elif args.days is not None:
        wanted = Retention(KeepMode.DAYS, args.days)
    elif args.off:
        wanted = Retention(KeepMode.OFF, 0)
    else:
        print(f"{store.retention.describe()} {_kept_now(kept)}", file=out)
        return ExitCode.OK
    store.retention = wanted
    left = store.count()
    gone, were = kept - left, "send was" if kept - left == 1 else "sends were"
    if wanted.mode is KeepMode.OFF:
        print(
            f"{wanted.describe()} The {gone:,} kept {were} deleted." if gone else wanted.describe(),
            file=out,
        )
        return ExitCode.OK
    deleted = f" {gone:,} older {were} deleted." if gone else ""
    print(f"{wanted.describe()}{deleted} {_kept_now(left)}", file=out)
    return ExitCode.OK


def _kept_now(count: int) -> str:
    if not count:
        return "No sends are kept now."
    return f"{'1 send is' if count == 1 else f'{count:,} sends are'} kept now."


# --- send: keeping the send ---------------------------------------------------------------------


class SendHistory:
    """Keeps one `send` in the history, then Segment's count of it.

    The send has already happened and been reported: a history that cannot be written is a
    warning on stderr, and never changes the exit status or what stdout says.
    """

    def __init__(self, secrets: list[str]) -> None:
        self._secrets = [secret for secret in secrets if secret]
        self._store = HistoryStore()
        self._id: int | None = None

    def record(self, outcome: SendOutcome, *, source: str, started_at: datetime) -> None:
        try:
            self._id = self._store.record(
                outcome,
                source=source,
                face=Face.CLI,
                started_at=started_at,
                secrets=self._secrets,
            )
        except HistoryUnavailable as exc:
            _warn(f"{exc.message} This send was not recorded.")
        # The last resort, as the CLI's own: a history that fails in a way nobody foresaw
        # must not turn a send that worked into a failed run.
        except Exception as exc:  # noqa: BLE001
            self._unexpected(exc, "This send was not recorded.")
        _say_notice(self._store)

    def attach(self, confirmation: Confirmation | None) -> None:
        if self._id is None or confirmation is None:
            return
        try:
            self._store.attach_confirmation(self._id, confirmation.to_json(), self._secrets)
        except HistoryUnavailable as exc:
            _warn(f"{exc.message} Segment's count was not added to this send in the history.")
        except Exception as exc:  # noqa: BLE001 - as in record()
            self._unexpected(exc, "Segment's count was not added to this send in the history.")
        _say_notice(self._store)

    def close(self) -> None:
        self._store.close()

    def _unexpected(self, exc: Exception, consequence: str) -> None:
        from app.cli import DEBUG_ENV

        _warn(f"The send history could not be written ({type(exc).__name__}). {consequence}")
        if os.environ.get(DEBUG_ENV):
            import traceback

            details = "".join(traceback.format_exception(exc))
            print(printable(scrub(details, self._secrets), keep_newlines=True), file=sys.stderr)


def _warn(text: str) -> None:
    print(f"Warning: {printable(text)}", file=sys.stderr)


def _say_notice(store: HistoryStore) -> None:
    """The sentence about a history file put aside, once."""
    if store.notice:
        print(printable(store.notice), file=sys.stderr)
        store.notice = None
