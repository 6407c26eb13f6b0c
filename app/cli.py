"""The headless commands — send, sandbox, key — over the same core the GUI uses."""

from __future__ import annotations

import argparse
import getpass
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from app import APP_NAME, __version__
from app.chatlio import EVENTS, Conversation, EventSpec, find_event
from app.segment import SANDBOX_KEY

if TYPE_CHECKING:
    from app.segment.payload import Visitor
    from app.segment.result import SendResult
    from app.segment.retry import RetryPolicy

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
KEY_ENV = "SEGMENT_WRITE_KEY"


class UsageError(Exception):
    """The command cannot run as asked; the message tells the person what to do instead."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatlio-segment-setup",
        description=f"{APP_NAME}: connect Chatlio live chat to Segment, and prove that it works. "
        "With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check headless that everything the app needs is there (Qt, keyring, TLS, "
        "a test event to a local sandbox), print one line per check, and exit",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    send = commands.add_parser(
        "send",
        help="send test Live Chat events to Segment (or the sandbox)",
        description="Send test Live Chat events and report Segment's answer to each. "
        "The write key comes from --write-key-stdin, else $SEGMENT_WRITE_KEY, else the keyring. "
        "Exit 0 if every event got a 2xx answer, 1 if any failed, 2 for usage errors.",
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
    send.add_argument("--json", action="store_true", help="one JSON object per event per line")
    send.add_argument("--verbose", "-v", action="store_true", help="show requests and headers")
    send.add_argument(
        "--max-attempts", type=_positive_int, default=None, metavar="N", help="tries per request"
    )
    send.add_argument(
        "--timeout", type=_seconds, default=15.0, metavar="SECONDS", help="per-try timeout"
    )

    sandbox = commands.add_parser(
        "sandbox",
        help="run a local Segment-compatible receiver",
        description="Run a local stand-in for Segment's Tracking API. Prints its address first, "
        "then one line per request. GET /sandbox/events lists what it received.",
    )
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=_port, default=8471, help="0 picks a free port")

    key = commands.add_parser("key", help="store, inspect or delete the write key in the keyring")
    key_commands = key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    key_set = key_commands.add_parser("set", help="store a write key in the keyring")
    key_set.add_argument("--stdin", action="store_true", help="read the key from standard input")
    for action in ("status", "delete"):
        key_commands.add_parser(action, help=f"{action} the stored write key")
    for sub in key_commands.choices.values():
        sub.add_argument("--source", default=None, metavar="NAME", help="Segment source name")
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a number of seconds, like 15") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError("must be a number of seconds above 0, like 15")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be from 0 to 65535 (0 picks a free port)")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def run(argv: Sequence[str], stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Run one command; expected failures become a sentence and an exit code, never a traceback."""
    stdin, out = stdin or sys.stdin, out or sys.stdout
    args = build_parser().parse_args(list(argv))
    try:
        return _dispatch(args, stdin, out)
    except UsageError as exc:
        print(f"{exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    if args.self_test:
        from app.selftest import run_self_test

        return run_self_test(out)
    if args.command == "send":
        return _send(args, stdin, out)
    if args.command == "sandbox":
        from app.segment.sandbox import serve

        return serve(args.host, args.port, out)
    if args.command == "key":
        return _key(args, stdin, out)
    build_parser().print_help(out)
    return EXIT_USAGE


# --- send ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyChoice:
    key: str
    origin: str


def _resolve_key(args: argparse.Namespace, stdin: TextIO) -> KeyChoice:
    from app import keystore

    if args.sandbox:  # the built-in sandbox needs no key: never hand it the real one
        return KeyChoice(SANDBOX_KEY, "a made-up key (the sandbox needs none)")
    if args.write_key_stdin:
        raw = _read_key_from_stdin(stdin)
        origin = "standard input"
    elif os.environ.get(KEY_ENV):
        raw, origin = os.environ[KEY_ENV], f"${KEY_ENV}"
    else:
        # `--source ""` (an empty shell variable) is refused, not taken to mean the default.
        try:
            source = keystore.check_source(
                keystore.DEFAULT_SOURCE if args.source is None else args.source
            )
            stored = keystore.KeyStore().load(source)
        except keystore.InvalidSourceName as exc:
            raise UsageError(str(exc)) from None
        except keystore.KeystoreUnavailable as exc:
            raise UsageError(
                f"{exc.message}\nOr pass the key with --write-key-stdin or ${KEY_ENV}."
            ) from None
        if stored is None:
            raise UsageError(
                f"No write key is stored for source '{source}'. Store one with "
                f"'chatlio-segment-setup key set --source \"{source}\"', or pass it with "
                f"--write-key-stdin or ${KEY_ENV}."
            )
        raw, origin = stored, f"the keyring (source '{source}')"
    try:
        checked = keystore.check_write_key(raw)
    except keystore.InvalidWriteKey as exc:
        raise UsageError(f"The write key from {origin} cannot be used: {exc}") from None
    if checked.warning:
        print(f"Warning: {checked.warning}", file=sys.stderr)
    return KeyChoice(checked.key, origin)


def _read_key_from_stdin(stdin: TextIO) -> str:
    """The key piped in; typed at a terminal, it is read without echo instead of shown."""
    if stdin.isatty():
        return getpass.getpass("Paste the write key (it will not be shown): ")
    return stdin.read()


def _chosen_events(args: argparse.Namespace) -> list[EventSpec]:
    if not args.event:
        return list(EVENTS)
    chosen = []
    for name in args.event:
        spec = find_event(name)
        if spec is None:
            known = ", ".join(e.short_name for e in EVENTS)
            raise UsageError(f"There is no Live Chat event called '{name}'. Known events: {known}.")
        chosen.append(spec)
    return chosen


def _send(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    from app.segment.cancel import CancelToken
    from app.segment.client import SegmentClient
    from app.segment.endpoint import EndpointError, Region, parse_endpoint
    from app.segment.payload import Visitor

    if args.all and args.event:
        raise UsageError("Use either --all or --event, not both.")
    specs = _chosen_events(args)
    conversation = Conversation()
    if args.anonymous_id or args.user_id:
        conversation = conversation.with_visitor(args.anonymous_id or args.user_id)
    visitor = Visitor(conversation.visitor_id, as_user_id=bool(args.user_id))
    wanted = {s.name for s in specs}
    events = [e for e in conversation.events() if e.name in wanted]
    if args.event:  # one of each named event, in the order given
        events = [conversation.event(s.name) for s in specs]

    retry = _retry_policy(args.max_attempts)
    sandbox = None
    try:
        if args.sandbox:
            from app.segment.sandbox import Sandbox

            sandbox = Sandbox().start()
            endpoint_text = sandbox.url
        else:
            endpoint_text = args.endpoint or ""
        try:
            endpoint = parse_endpoint(endpoint_text)
        except EndpointError as exc:
            raise UsageError(str(exc)) from None
        key = _resolve_key(args, stdin)
        report = Report(out, args.json, args.verbose)
        report.start(endpoint.base_url, endpoint.warning, key.origin, visitor, len(events))
        with SegmentClient(key.key, endpoint, retry=retry, timeout=args.timeout) as client:
            cancel = CancelToken()
            try:
                if args.batch:
                    results = client.batch(events, visitor, cancel)
                    for result in results:
                        report.result(result)
                else:
                    results = client.send_each(events, visitor, cancel, on_result=report.result)
            except KeyboardInterrupt:
                cancel.cancel()
                raise
        report.finish(
            results, conversation.conversation_id, visitor, endpoint.region is Region.LOCAL
        )
        return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED
    finally:
        if sandbox is not None:
            sandbox.stop()


def _retry_policy(max_attempts: int | None) -> RetryPolicy:
    from app.segment.retry import RetryPolicy

    return RetryPolicy() if max_attempts is None else RetryPolicy(max_attempts=max_attempts)


class Report:
    """Prints send results for a person, or as JSON lines for a script."""

    def __init__(self, out: TextIO, as_json: bool, verbose: bool) -> None:
        self._out, self._json, self._verbose = out, as_json, verbose

    def _print(self, text: str = "") -> None:
        print(text, file=self._out, flush=True)

    def start(
        self, url: str, warning: str | None, key_origin: str, visitor: Visitor, count: int
    ) -> None:
        if warning:
            print(f"Warning: {warning}", file=sys.stderr)
        if self._json:
            return
        self._print(f"Sending {count} test event(s) to {url}")
        self._print(f"  write key from {key_origin} (hidden)")
        self._print()

    def result(self, result: SendResult) -> None:
        if self._json:
            self._print(result.to_json_line())
            return
        mark = "OK  " if result.ok else "FAIL"
        status = f"HTTP {result.status}" if result.status is not None else "no answer"
        tries = len(result.attempts)
        self._print(
            f"{mark} {result.event:<32} {status:<9} {result.elapsed_ms:7.0f} ms"
            f"  {tries} {'try' if tries == 1 else 'tries'}"
        )
        self._print(f"     {result.message}")
        if result.body:
            self._print(f"     Segment's answer: {result.body.strip()[:300]}")
        for attempt in result.attempts[:-1] if len(result.attempts) > 1 else ():
            what = f"HTTP {attempt.status}" if attempt.status else attempt.error
            self._print(f"     try {attempt.number}: {what}, retried")
        if self._verbose and result.request is not None:
            request = result.request
            self._print(f"     > {request.method} {request.url}")
            for name, value in request.headers.items():
                self._print(f"     > {name}: {value}")
            self._print(f"     > {request.body}")
            for name, value in result.response_headers.items():
                self._print(f"     < {name}: {value}")

    def finish(
        self, results: list[SendResult], conversation_id: str, visitor: Visitor, local: bool
    ) -> None:
        if self._json:
            return
        from app.segment.result import WHAT_200_PROVES

        received = sum(r.ok for r in results)
        self._print()
        self._print(f"{received} of {len(results)} event(s) got a 2xx answer.")
        if received and not local:
            self._print(WHAT_200_PROVES)
            self._print(
                f"In Segment, open the Chatlio source's Debugger and search for "
                f"{visitor.visitor_id} or {conversation_id}."
            )
        elif received:
            self._print(
                "These went to a local sandbox, not to Segment: they show what would be sent."
            )


# --- key ----------------------------------------------------------------------------------------


def _key(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    import warnings

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
                raw = stdin.read()
            else:
                # With no terminal, getpass would read the key with echo on, after a warning.
                with warnings.catch_warnings():
                    warnings.simplefilter("error", getpass.GetPassWarning)
                    try:
                        raw = getpass.getpass(f"Paste the write key of Segment source '{source}': ")
                    except getpass.GetPassWarning:
                        raise UsageError(
                            "There is no terminal to type the write key into without it "
                            "showing. Pipe it in instead: chatlio-segment-setup key set --stdin"
                        ) from None
                    except EOFError:
                        raise UsageError(
                            "No write key was typed. Paste it at the prompt, or pipe it in "
                            "with 'chatlio-segment-setup key set --stdin'."
                        ) from None
            try:
                saved = store.save(source, raw)
            except keystore.InvalidWriteKey as exc:
                raise UsageError(str(exc)) from None
            if saved.warning:
                print(f"Warning: {saved.warning}", file=sys.stderr)
            print(f"Stored the write key for source '{source}' in {saved.location}.", file=out)
            return EXIT_OK
        if args.key_command == "status":
            status = store.status(source)
            print(status.describe(), file=out)
            return EXIT_OK if status.stored else EXIT_FAILED
        if args.key_command == "delete":
            if store.delete(source):
                print(
                    f"Deleted the write key for source '{source}' from {store.location()}.",
                    file=out,
                )
                return EXIT_OK
            print(f"No write key was stored for source '{source}'.", file=out)
            return EXIT_FAILED
    except keystore.KeystoreUnavailable as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_FAILED
    except ValueError as exc:  # an empty source name
        raise UsageError(str(exc)) from None
    raise UsageError("Unknown key action.")
