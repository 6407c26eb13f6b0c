"""The headless commands — send, sandbox, key — over the same core the GUI uses."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from app import APP_NAME, __version__, cli_confirm, cli_source, cli_token
from app.chatlio import EVENTS, Conversation
from app.cli_support import (
    KEY_ENV,
    UsageError,
    prompt_hidden,
    read_key_from_stdin,
    resolve_key,
    say_api_error,
)
from app.exit_codes import ExitCode
from app.redaction import printable
from app.segment.public_api.errors import PublicApiError
from app.segment.result import ErrorKind
from app.sending import (
    DEFAULT_DEADLINE,
    MAX_DEADLINE,
    SendSetupError,
    check_deadline,
    check_visitor_id,
)
from app.token_store import TOKEN_ENV

if TYPE_CHECKING:
    from app.segment.endpoint import Endpoint
    from app.segment.result import Attempt, SendResult
    from app.segment.retry import RetryPolicy
    from app.sending import SendOutcome, Target

DEBUG_ENV = "CHATLIO_SEGMENT_SETUP_DEBUG"
MAX_ATTEMPTS = 100
MAX_DEADLINE_TEXT = f"{MAX_DEADLINE:.0f}"
BODY_PREVIEW_CHARS = 300

# A command: the parsed arguments, standard input and output, and the secrets it has read.
Command = Callable[[argparse.Namespace, TextIO | None, TextIO, list[str]], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatlio-segment-setup",
        description=f"{APP_NAME}: connect Chatlio live chat to Segment, and prove that it works. "
        "With no command, opens the app; with only --endpoint URL, opens it sending there.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check headless that everything the app needs is there (Qt, keyring, TLS, "
        "a test event to a local sandbox), print one line per check, and exit",
    )
    # The app's own option (app/__main__.py opens the app for it); listed here for --help and
    # so that a missing URL is a sentence. Its own dest: `send --endpoint` must not overwrite it.
    parser.add_argument(
        "--endpoint",
        dest="app_endpoint",
        metavar="URL",
        help="with no command: open the app sending to this Tracking API address for this run "
        "(plain http only to this computer)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    send = commands.add_parser(
        "send",
        help="send test Live Chat events to Segment (or the sandbox)",
        description="Send test Live Chat events and report Segment's answer to each. "
        "The write key comes from --write-key-stdin, else $SEGMENT_WRITE_KEY, else the keyring. "
        "Exit 0 if every event got a 2xx answer (with --confirm: and Segment counted them in a "
        "Chatlio source), 1 if any failed, 2 for usage errors.",
    )
    names = ", ".join(e.short_name for e in EVENTS)
    send.add_argument(
        "--event",
        action="append",
        metavar="NAME",
        help=f"an event to send, by full or short name ({names}); repeat for more",
    )
    send.add_argument(
        "--all", action="store_true", help="send a whole realistic conversation (the default)"
    )
    send.add_argument("--batch", action="store_true", help="send all events in one /v1/batch")
    where = send.add_mutually_exclusive_group()
    where.add_argument(
        "--endpoint", metavar="URL", help="Tracking API address (default https://api.segment.io)"
    )
    where.add_argument(
        "--sandbox", action="store_true", help="send to a built-in local sandbox (needs no key)"
    )
    who = send.add_mutually_exclusive_group()
    who.add_argument("--anonymous-id", metavar="ID", help="visitor id sent as anonymousId")
    who.add_argument("--user-id", metavar="ID", help="visitor id sent as userId instead")
    send.add_argument(
        "--write-key-stdin", action="store_true", help="read the write key from standard input"
    )
    send.add_argument(
        "--source",
        default=None,
        metavar="NAME",
        help="Segment source whose stored key to use (default Chatlio)",
    )
    cli_confirm.add_send_options(send)
    send.add_argument("--json", action="store_true", help="one JSON object per event per line")
    send.add_argument("--verbose", "-v", action="store_true", help="show requests and headers")
    send.add_argument(
        "--max-attempts",
        type=_attempts,
        default=None,
        metavar="N",
        help="tries per request, retries included (default 6, as Segment's libraries)",
    )
    send.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_DEADLINE,
        metavar="SECONDS",
        help="the most the whole send may take, every try and wait included "
        f"(default {DEFAULT_DEADLINE:.0f})",
    )

    sandbox = commands.add_parser(
        "sandbox",
        help="run a local Segment-compatible receiver",
        description="Run a local stand-in for Segment's Tracking API, Public API and CDN. "
        "Prints its address first, then where its Public API and CDN are, then one line per "
        "request. GET /sandbox/events lists what it received.",
    )
    sandbox.add_argument(
        "--host",
        type=_host,
        default="127.0.0.1",
        help="address to listen on (default %(default)s: this computer only; on any other "
        "address, such as 0.0.0.0, the keys GET /sandbox/events lists are masked)",
    )
    sandbox.add_argument("--port", type=_port, default=8471, help="0 picks a free port")
    sandbox.add_argument(
        "--chatlio-source",
        action="store_true",
        help="start with a Chatlio source in its Public API's workspace (its key is printed: "
        "a made-up one), instead of none until 'source create' makes one",
    )

    key = commands.add_parser("key", help="store, inspect or delete the write key in the keyring")
    key_commands = key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    key_set = key_commands.add_parser("set", help="store a write key in the keyring")
    key_set.add_argument("--stdin", action="store_true", help="read the key from standard input")
    for action in ("status", "delete"):
        key_commands.add_parser(action, help=f"{action} the stored write key")
    for sub in key_commands.choices.values():
        sub.add_argument("--source", default=None, metavar="NAME", help="Segment source name")

    cli_token.add_parser(commands)
    cli_source.add_parser(commands)
    return parser


def _seconds(text: str) -> float:
    try:
        return check_deadline(float(text))
    except ValueError:  # not a number, or SendSetupError (a ValueError) for one out of range
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds above 0 and at most {MAX_DEADLINE_TEXT}, like 60"
        ) from None


def _whole_number(text: str, low: int, high: int, hint: str) -> int:
    try:
        value: int | None = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be a whole number from {low} to {high}{hint}")
    return value


def _port(text: str) -> int:
    return _whole_number(text, 0, 65535, " (0 picks a free port)")


def _attempts(text: str) -> int:
    return _whole_number(text, 1, MAX_ATTEMPTS, "")


def _host(text: str) -> str:
    """A sandbox listening address: printable text a name lookup can take."""
    host = text.strip()
    try:
        host.encode("idna")
    except UnicodeError:
        host = ""
    if not host or not host.isprintable():
        raise argparse.ArgumentTypeError(
            "must be an address of this computer, like 127.0.0.1 (this computer only), "
            "0.0.0.0 (every network) or ::1"
        )
    return host


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
    except PublicApiError as exc:
        say_api_error(exc, getattr(args, "verbose", False))
        return ExitCode.FAILED
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # Whoever read the output stopped reading (`| head`): stop quietly, as CLIs do.
        _silence_stdout()
        return ExitCode.FAILED
    # The last resort: a person gets a sentence, the details only when they ask for them.
    except Exception as exc:  # noqa: BLE001
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
    if args.app_endpoint is not None:
        raise UsageError(
            "--endpoint before a command is the app's option. For a send, put it after the "
            "command: chatlio-segment-setup send --endpoint URL."
        )
    if args.self_test:
        from app.selftest import run_self_test

        return run_self_test(out)
    if args.command == "sandbox":
        from app.segment.sandbox import serve

        return serve(args.host, args.port, out, chatlio_source=args.chatlio_source)
    commands: dict[str, Command] = {
        "send": _send,
        "key": _key,
        "token": cli_token.run_token,
        "source": cli_source.run_source,
    }
    command = commands.get(args.command)
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
    token = cli_confirm.prepare(args, secrets)
    with contextlib.ExitStack() as stack:
        sandbox = None
        if args.sandbox:
            sandbox = stack.enter_context(built_in_sandbox(chatlio_source=args.confirm))
            target = Target.sandbox(sandbox)
            origin = "a made-up key (the sandbox needs none)"
        else:
            endpoint = _endpoint(args.endpoint or "")
            key = resolve_key(args, stdin, secrets)
            target, origin = Target.segment(endpoint, key.key), key.origin
        report = Report(out, args.json, args.verbose)
        report.start(target, origin, len(events))
        cancel = CancelToken()
        started = datetime.now(UTC)
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
        if not args.confirm:
            return outcome.exit_code
        confirmed = cli_confirm.Confirm(args, out, secrets).run(
            outcome, target, started, token, sandbox
        )
    return max(outcome.exit_code, confirmed)


def _endpoint(text: str) -> Endpoint:
    from app.segment.endpoint import EndpointError, parse_endpoint

    try:
        return parse_endpoint(text)
    except EndpointError as exc:
        raise UsageError(str(exc)) from None


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
