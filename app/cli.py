"""The headless commands — send, sandbox, key, token, source, history — over the same core the
GUI uses.

The grammar is in app.cli_parser; token, source, history and send --confirm are in their own
modules, loaded only when their command runs (the history's SQLite only then, too).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, TextIO

from app import APP_NAME
from app.chatlio import Conversation
from app.cli_parser import build_parser
from app.cli_support import (
    KEY_ENV,
    UsageError,
    prompt_hidden,
    read_key_from_stdin,
    resolve_key,
    tracking_endpoint,
)
from app.exit_codes import ExitCode
from app.redaction import printable
from app.segment.result import ErrorKind
from app.sending import SendSetupError, check_visitor_id

if TYPE_CHECKING:
    from datetime import datetime

    from app.cli_history import SendHistory
    from app.segment.result import Attempt, SendResult
    from app.segment.retry import RetryPolicy
    from app.sending import SendOutcome, Target

DEBUG_ENV = "CHATLIO_SEGMENT_SETUP_DEBUG"
BODY_PREVIEW_CHARS = 300

# A command: the parsed arguments, standard input and output, and the secrets it has read.
Command = Callable[[argparse.Namespace, TextIO | None, TextIO, list[str]], int]
# The commands in modules of their own, imported only when they run: (module, function).
OWN_MODULES = {
    "token": ("app.cli_token", "run_token"),
    "source": ("app.cli_source", "run_source"),
    "history": ("app.cli_history", "run_history"),
    "validate": ("app.cli_validate", "run_validate"),
    "sql": ("app.cli_sql", "run_sql"),
    "check": ("app.cli_check", "run_check"),
}


def run(argv: Sequence[str], stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Run one command; expected failures become a sentence and an exit code, never a traceback."""
    stdin, out = stdin or sys.stdin, out or sys.stdout
    _never_fail_on_encoding()
    args = build_parser().parse_args(list(argv))
    secrets: list[str] = []  # every key this run has read, to hide from the last-resort report
    try:
        return _dispatch(args, stdin, out, secrets)
    except (UsageError, SendSetupError) as exc:
        print(f"{exc}", file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # Whoever read the output stopped reading (`| head`): stop quietly, as CLIs do.
        _silence_stdout()
        return ExitCode.FAILED
    # The last resort: a person gets a sentence, the details only when they ask for them.
    except Exception as exc:  # noqa: BLE001
        from app.token_store import TOKEN_ENV

        return _unexpected(
            exc, [*secrets, os.environ.get(KEY_ENV, ""), os.environ.get(TOKEN_ENV, "")]
        )


def _never_fail_on_encoding() -> None:
    """A server's text that the terminal's encoding cannot show (Windows' cp1252 and a body in
    Japanese, say) is written as escapes instead of ending the run."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def _silence_stdout() -> None:
    """Point stdout at the null device, so that flushing it at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (tests give a StringIO)
        pass


def _unexpected(exc: Exception, secrets: list[str]) -> int:
    from app.redaction import scrub

    print(
        f"Something unexpected stopped {APP_NAME} ({type(exc).__name__}). Nothing more was "
        f"done. Please report it; set {DEBUG_ENV}=1 to see the details (the write key and "
        "the Public API token are hidden from them).",
        file=sys.stderr,
    )
    if os.environ.get(DEBUG_ENV):
        import traceback

        details = "".join(traceback.format_exception(exc))
        print(printable(scrub(details, secrets), keep_newlines=True), file=sys.stderr)
    return ExitCode.FAILED


def _dispatch(
    args: argparse.Namespace, stdin: TextIO | None, out: TextIO, secrets: list[str]
) -> int:
    for given, option in (
        (args.app_endpoint, "--endpoint"),
        (args.app_api_endpoint, "--api-endpoint"),
    ):
        if given is not None:
            raise UsageError(
                f"{option} before a command is the app's option. For a command, put it after "
                f"the command: chatlio-segment-setup send {option} URL."
            )
    if args.self_test:
        from app.selftest import run_self_test

        return run_self_test(out)
    if args.command == "sandbox":
        from app.segment.sandbox import serve

        return serve(args.host, args.port, out, chatlio_source=args.chatlio_source)
    commands: dict[str, Command] = {"send": _send, "key": _key}
    command = commands.get(args.command)
    if args.command in OWN_MODULES:
        module, name = OWN_MODULES[args.command]
        command = getattr(importlib.import_module(module), name)
    if command is not None:
        return command(args, stdin, out, secrets)
    build_parser().print_help(out)
    return ExitCode.USAGE


# --- send ---------------------------------------------------------------------------------------


def _send(args: argparse.Namespace, stdin: TextIO | None, out: TextIO, secrets: list[str]) -> int:
    from app.segment.cancel import CancelToken
    from app.segment.payload import Visitor
    from app.sending import Target, built_in_sandbox, choose_events, send_test_events

    if args.all and args.event:
        raise UsageError("Use either --all or --event, not both.")
    conversation = Conversation()
    typed_id = args.anonymous_id if args.anonymous_id is not None else args.user_id
    if typed_id is not None:
        conversation = conversation.with_visitor(check_visitor_id(typed_id))
    events = choose_events(conversation, args.event)
    visitor = Visitor(conversation.visitor_id, as_user_id=args.user_id is not None)
    retry = _retry_policy(args.max_attempts)
    token = None
    if args.confirm:
        from app import cli_confirm

        token = cli_confirm.prepare(args, secrets)
    else:
        for option, value in (("--wait", args.wait), ("--api-endpoint", args.api_endpoint)):
            if value is not None:
                raise UsageError(f"{option} is for --confirm: add --confirm, or leave it out.")
    with contextlib.ExitStack() as stack:
        sandbox = None
        if args.sandbox:
            sandbox = stack.enter_context(built_in_sandbox(chatlio_source=args.confirm))
            target = Target.sandbox(sandbox)
            origin = "a made-up key (the sandbox needs none)"
        else:
            endpoint = tracking_endpoint(args.endpoint or "")
            key = resolve_key(args, stdin, secrets)
            target, origin = Target.segment(endpoint, key.key), key.origin
        report = Report(out, args.json, args.verbose)
        report.start(target, origin, len(events))
        cancel = CancelToken()
        started = _now()
        try:
            outcome = send_test_events(
                target,
                events,
                visitor,
                conversation_id=conversation.conversation_id,
                batch=args.batch,
                deadline=args.timeout,
                retry=retry,
                cancel=cancel,
                on_result=report.result,
            )
        except KeyboardInterrupt:
            cancel.cancel()
            raise
        report.finish(outcome)
        # Kept as soon as it is done, so a --confirm wait stopped with Ctrl-C loses only the
        # count; that joins the send once Segment gave it.
        history = None if args.no_history else stack.enter_context(_history(secrets, token))
        if history is not None:
            history.record(outcome, source=_source_name(args), started_at=started)
        if not args.confirm:
            return outcome.exit_code
        from app.cli_confirm import Confirm

        confirm = Confirm(args, out, secrets)
        confirmed = confirm.run(outcome, target, started, token, sandbox)
        if history is not None:
            history.attach(confirm.confirmation)
    return max(outcome.exit_code, confirmed)


@contextlib.contextmanager
def _history(secrets: list[str], token: tuple[str, str] | None) -> Iterator[SendHistory]:
    """Where the send is kept; `secrets` (the key read) and the token are kept out of it."""
    from app.cli_history import SendHistory

    history = SendHistory([*secrets, *(token or ())[:1]])
    try:
        yield history
    finally:
        history.close()


def _source_name(args: argparse.Namespace) -> str:
    """The source the send is kept under: --source, else the default; the sandbox's own."""
    from app.cli_parser import DEFAULT_SOURCE

    if args.sandbox:
        return "sandbox"
    return (args.source or "").strip() or DEFAULT_SOURCE


def _now() -> datetime:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _retry_policy(max_attempts: int | None) -> RetryPolicy | None:
    from app.segment.retry import RetryPolicy

    return None if max_attempts is None else RetryPolicy(max_attempts=max_attempts)


class Report:
    """Prints send results for a person, or as JSON lines for a script.

    Whatever a server answered is shown with its control characters escaped: a body cannot
    move the cursor, recolour the terminal or forge a line of this report.
    """

    def __init__(self, out: TextIO, as_json: bool, verbose: bool) -> None:
        self._out, self._json, self._verbose = out, as_json, verbose
        self._last_message = ""

    def _print(self, text: str = "") -> None:
        print(text, file=self._out, flush=True)

    def start(self, target: Target, key_origin: str, count: int) -> None:
        if target.endpoint.warning:
            print(f"Warning: {target.endpoint.warning}", file=sys.stderr)
        if self._json:
            return
        events = "test event" if count == 1 else "test events"
        self._print(f"Sending {count} {events} to {target.endpoint.base_url}")
        self._print(f"  write key from {key_origin} (hidden)")
        self._print()

    def result(self, result: SendResult) -> None:
        if self._json:
            self._print(result.to_json_line())
            return
        mark = "OK  " if result.ok else "FAIL"
        status = f"HTTP {result.status}" if result.status is not None else "no answer"
        if result.error_kind is ErrorKind.NOT_SENT:
            mark, status = "SKIP", "not sent"
        tries = len(result.attempts)
        timing = f"{result.elapsed_ms / 1000:6.1f} s" if tries else ""
        count = f"  {tries} {'try' if tries == 1 else 'tries'}" if tries else ""
        self._print(f"{mark} {result.event:<32} {status:<9} {timing}{count}".rstrip())
        if result.message != self._last_message:  # events not sent all say the same
            self._print(f"     {printable(result.message)}")
        self._last_message = result.message
        if result.body:
            answer = printable(result.body.strip(), BODY_PREVIEW_CHARS)
            self._print(f"     Segment's answer: {answer}")
        for attempt in result.attempts[:-1]:
            self._print(f"     try {attempt.number}: {self._attempt_text(attempt)}, retried")
        if self._verbose and result.request is not None:
            request = result.request
            self._print(f"     > {request.method} {request.url}")
            for name, value in request.headers.items():
                self._print(f"     > {name}: {value}")
            self._print(f"     > {request.body}")
            for name, value in result.response_headers.items():
                self._print(f"     < {printable(name)}: {printable(value)}")

    def _attempt_text(self, attempt: Attempt) -> str:
        if attempt.status:
            return f"HTTP {attempt.status}"
        # The technical name of what went wrong is for --verbose; the sentence says it plainly.
        return printable(attempt.error or "no answer") if self._verbose else "no answer"

    def finish(self, outcome: SendOutcome) -> None:
        if self._json:
            return
        self._print()
        self._print(outcome.summary)
        if outcome.arrived or len(outcome.results) > 1:
            self._print(outcome.verdict)


# --- key ----------------------------------------------------------------------------------------


def _key(args: argparse.Namespace, stdin: TextIO | None, out: TextIO, secrets: list[str]) -> int:
    from app import keystore

    store = keystore.KeyStore()
    try:
        # `--source ""` (an empty shell variable) is refused, not taken to mean the default;
        # messages name the source as it is stored, without surrounding whitespace.
        source = keystore.check_source(
            keystore.DEFAULT_SOURCE if args.source is None else args.source
        )
        if args.key_command == "set":
            if args.stdin:
                raw = read_key_from_stdin(stdin, f"Paste the write key of source '{source}': ")
            else:
                raw = prompt_hidden(
                    f"Paste the write key of Segment source '{source}': ",
                    "the write key",
                    "key set --stdin",
                )
            secrets += [raw, raw.strip()]
            try:
                saved = store.save(source, raw)
            except keystore.InvalidWriteKey as exc:
                raise UsageError(str(exc)) from None
            if saved.warning:
                print(f"Warning: {saved.warning}", file=sys.stderr)
            print(f"Stored the write key for source '{source}' in {saved.location}.", file=out)
            return ExitCode.OK
        if args.key_command == "status":
            status = store.status(source)
            print(status.describe(), file=out)
            return ExitCode.OK if status.stored else ExitCode.FAILED
        if args.key_command == "delete":
            if store.delete(source):
                print(
                    f"Deleted the write key for source '{source}' from {store.location()}.",
                    file=out,
                )
                return ExitCode.OK
            print(f"No write key was stored for source '{source}'.", file=out)
            return ExitCode.FAILED
    except keystore.KeystoreUnavailable as exc:
        print(exc.message, file=sys.stderr)
        return ExitCode.FAILED
    except keystore.InvalidSourceName as exc:
        raise UsageError(str(exc)) from None
    raise UsageError("Unknown key action.")
