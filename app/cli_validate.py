"""`validate [FILE | -]`: check real Live Chat events, as the Source Debugger's Raw view shows
them, against the Live Chat spec and Segment's and the warehouses' rules."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from typing import BinaryIO, TextIO

from app.cli_support import UsageError
from app.exit_codes import ExitCode
from app.redaction import printable
from app.validation import MAX_INPUT_BYTES, Report, check_bytes, problems_phrase

WIDTH = 100


def run_validate(
    args: argparse.Namespace, stdin: TextIO | None, out: TextIO, secrets: list[str]
) -> int:
    """Exit 0 when every event is clean, 1 when anything is wrong, 2 when nothing could be read."""
    report = check_bytes(_read(args.file, stdin or sys.stdin))
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False), file=out)
    else:
        _print(report, out)
    return ExitCode.OK if report.clean else ExitCode.FAILED


def _read(name: str | None, stdin: TextIO) -> bytes:
    if name in (None, "-"):
        if stdin.isatty():
            print(
                "Paste the events (as the Source Debugger's Raw view shows them), then press "
                "Ctrl-D (on Windows: Ctrl-Z, then Enter).",
                file=sys.stderr,
            )
        raw: BinaryIO | None = getattr(stdin, "buffer", None)
        data = raw.read(MAX_INPUT_BYTES + 1) if raw is not None else stdin.read().encode()
        return _within_limit(data, "standard input")
    shown = printable(name)
    try:
        with open(name, "rb") as file:
            return _within_limit(file.read(MAX_INPUT_BYTES + 1), shown)
    except FileNotFoundError:
        raise UsageError(
            f"There is no file {shown}. Give the path of a saved event, or - "
            "to read the events from standard input."
        ) from None
    except IsADirectoryError:
        raise UsageError(f"{shown} is a folder; give the path of a file.") from None
    except PermissionError:
        raise UsageError(f"{shown} cannot be read: you are not allowed to open it.") from None
    except OSError as exc:
        raise UsageError(f"{shown} cannot be read ({printable(exc.strerror or '')}).") from None


def _within_limit(data: bytes, what: str) -> bytes:
    if len(data) > MAX_INPUT_BYTES:
        raise UsageError(
            f"{what} holds more than {MAX_INPUT_BYTES // (1024 * 1024)} MB; check the events "
            "in smaller parts."
        )
    return data


def _print(report: Report, out: TextIO) -> None:
    """Only what is wrong, then one line for everything: the way linters report."""
    for problem in report.problems:
        print(_item(problem.text), file=out)
    for event in report.events:
        if not event.problems:
            continue
        print(f"{event.label}: {problems_phrase(len(event.problems))}", file=out)
        for problem in event.problems:
            print(_item(problem.text), file=out)
    print(report.summary(), file=out)


def _item(text: str) -> str:
    return textwrap.fill(text, WIDTH, initial_indent="  - ", subsequent_indent="    ")
