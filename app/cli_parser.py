"""The command line's grammar: every command, option and help text, and their value checks.

Building it imports no command's implementation: those load only when their command runs.
"""

from __future__ import annotations

import argparse

from app import APP_NAME, __version__
from app.chatlio import EVENTS
from app.cli_support import KEY_ENV, PUBLIC_API_ACCESS
from app.sending import DEFAULT_DEADLINE, MAX_DEADLINE, check_deadline

MAX_ATTEMPTS = 100
MAX_DEADLINE_TEXT = f"{MAX_DEADLINE:.0f}"
# Stated here, not imported from app.keystore / app.proof.arrival (a test checks they agree), so
# that building the parser stays light.
DEFAULT_SOURCE = "Chatlio"
DEFAULT_WAIT = 180.0
# As long as a person would sensibly wait at a terminal; Segment's own latency is about 30 s.
MAX_WAIT = 3600.0
# app.cli_history's default, stated here so that building the parser stays light.
DEFAULT_HISTORY_LIMIT = 20
MAX_LIMIT = 1_000_000_000


def build_parser() -> argparse.ArgumentParser:
    """Every command and option, with the help a person reads."""
    parser = argparse.ArgumentParser(
        prog="chatlio-segment-setup",
        description=f"{APP_NAME}: connect Chatlio live chat to Segment, and prove that it works. "
        "With no command, opens the app; with only --endpoint URL and/or --api-endpoint URL, "
        "opens it sending (and asking the Public API) there.",
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
    parser.add_argument(
        "--api-endpoint",
        dest="app_api_endpoint",
        metavar="URL",
        help="with no command: open the app asking this Public API address for this run "
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
    _add_confirm_options(send)
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
        "--no-history",
        action="store_true",
        help="do not keep this send in the send history ('history' lists what is kept)",
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

    _add_token_parser(commands)
    _add_source_parser(commands)
    _add_history_parser(commands)
    _add_validate_parser(commands)
    _add_sql_parser(commands)
    _add_check_parser(commands)
    return parser


def _fd(text: str) -> int:
    return _whole_number(text, 0, 65535, ", an open file descriptor like 3 (given as 3<FILE)")


def _add_check_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = commands.add_parser(
        "check",
        help="is the Chatlio pipe still working? A heartbeat for cron and CI",
        description="Send a small, clearly marked heartbeat conversation (the four Live Chat "
        "events, visitor chatlio-segment-setup-heartbeat) in one request and, with a Public "
        "API token, wait for Segment's own count of it in the key's source. Exit 0 confirmed "
        "(counted in a Chatlio source); 1 failed (not accepted, discarded, or the key's source "
        "is not a Chatlio one); 2 usage or configuration (no key, a token Segment refuses); "
        "3 sent and accepted but not confirmed (no token, or no count in time). "
        "On a machine without a keyring, the write key comes from $SEGMENT_WRITE_KEY or "
        "--write-key-fd, the token from $SEGMENT_API_TOKEN or --token-fd: never from the "
        "command line itself.",
    )
    check.add_argument(
        "--source",
        default=None,
        metavar="NAME",
        help=f"Segment source whose stored key to use (default {DEFAULT_SOURCE})",
    )
    check.add_argument("--json", action="store_true", help="one JSON object with the answer")
    check.add_argument(
        "--wait",
        type=_wait,
        default=None,
        metavar="SECONDS",
        help=f"the longest to wait for Segment's count (default {DEFAULT_WAIT:.0f})",
    )
    check.add_argument(
        "--no-destinations",
        action="store_true",
        help='keep the heartbeat away from destinations (integrations: {"All": false}); '
        "warehouses still load it",
    )
    key = check.add_mutually_exclusive_group()
    key.add_argument(
        "--write-key-fd",
        type=_fd,
        metavar="N",
        help="read the write key from open file descriptor N (as in --write-key-fd 3 3<FILE)",
    )
    key.add_argument(
        "--write-key-stdin", action="store_true", help="read the write key from standard input"
    )
    check.add_argument(
        "--token-fd",
        type=_fd,
        metavar="N",
        help="read the Public API token from open file descriptor N (as in --token-fd 4 4<FILE)",
    )
    where = check.add_mutually_exclusive_group()
    where.add_argument(
        "--endpoint", metavar="URL", help="Tracking API address (default https://api.segment.io)"
    )
    where.add_argument(
        "--sandbox",
        action="store_true",
        help="check against a built-in local sandbox (needs no key or token): to try it out",
    )
    _add_api_endpoint_option(check)
    check.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_DEADLINE,
        metavar="SECONDS",
        help=f"the most sending may take, every try included (default {DEFAULT_DEADLINE:.0f})",
    )
    check.add_argument(
        "--verbose", "-v", action="store_true", help="add technical details to errors"
    )


# app.warehouse_sql's names, stated here so that building the parser stays light (a test checks
# that they agree).
WAREHOUSES = {"postgres": "PostgreSQL", "redshift": "Redshift", "snowflake": "Snowflake",
              "bigquery": "BigQuery"}  # fmt: skip
_WAREHOUSE_ALIASES = {"postgresql": "postgres", "pg": "postgres", "bq": "bigquery"}
DEFAULT_SCHEMA = "chatlio"


def _warehouse(text: str) -> str:
    key = text.strip().lower()
    key = _WAREHOUSE_ALIASES.get(key, key)
    if key not in WAREHOUSES:
        raise argparse.ArgumentTypeError(f"must be one of {', '.join(WAREHOUSES)}")
    return key


def _schema(text: str) -> str:
    from app.warehouse_sql import SchemaNameError, check_schema

    try:
        return check_schema(text.strip())
    except SchemaNameError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_sql_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sql = commands.add_parser(
        "sql",
        help="print the Live Chat tables and starter queries for a warehouse",
        description="Print, as SQL to paste into the warehouse, the tables and columns the four "
        "Live Chat events create (as comments) and starter queries: conversations per agent "
        "per day, the median conversation length, messages per conversation, and the visitors "
        "who chatted (through tracks). Exit 0.",
    )
    sql.add_argument(
        "--warehouse",
        type=_warehouse,
        default="postgres",
        metavar="NAME",
        help=f"{', '.join(WAREHOUSES)} (default postgres)",
    )
    sql.add_argument(
        "--schema",
        type=_schema,
        default=DEFAULT_SCHEMA,
        metavar="NAME",
        help="the source's schema, as Segment's SQL Settings show it "
        f"(default {DEFAULT_SCHEMA}, for a source named Chatlio)",
    )


def _add_validate_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    validate = commands.add_parser(
        "validate",
        help="check real Live Chat events (as Segment's Source Debugger shows them)",
        description="Check events against Segment's Live Chat spec and the rules of Segment "
        "and its warehouses: the exact event names, conversation_duration a whole number, a "
        "visitor id, the ids each event needs, Segment's size limits, messageId and the "
        "timestamps. Give one event, a JSON list of events, JSON lines or a /v1/batch body: "
        "what the Source Debugger's Raw view shows. Prints one sentence per problem, with what "
        "it causes and the fix. Exit 0 when every event is clean, 1 when anything is wrong, 2 "
        "when the file cannot be read.",
    )
    validate.add_argument(
        "file",
        nargs="?",
        default=None,
        metavar="FILE",
        help="the file to check; - or nothing: standard input",
    )
    validate.add_argument(
        "--json", action="store_true", help="the whole report as one JSON object, for scripts"
    )


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


def _add_api_endpoint_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api-endpoint",
        metavar="URL",
        help="Public API address (default: Segment's US host, then its EU host; plain http "
        "only to this computer)",
    )


def _add_confirm_options(send: argparse.ArgumentParser) -> None:
    send.add_argument(
        "--confirm",
        action="store_true",
        help="after sending, wait until Segment's own count (Public API) covers the events it "
        "accepted; needs a Public API token, except with --sandbox",
    )
    send.add_argument(
        "--wait",
        type=_wait,
        default=None,
        metavar="SECONDS",
        help="with --confirm: the longest to wait for Segment's count "
        f"(default {DEFAULT_WAIT:.0f})",
    )
    _add_api_endpoint_option(send)


def _wait(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= MAX_WAIT:  # also refuses nan
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds above 0 and at most {MAX_WAIT:.0f}, like 180"
        )
    return seconds


def _add_token_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = commands.add_parser(
        "token",
        help="store, inspect or delete the Segment Public API token in the keyring",
        description="The Public API token lets the app check the write key, create the "
        "Chatlio source and confirm that Segment counted the test events. " + PUBLIC_API_ACCESS,
    )
    actions = token.add_subparsers(dest="action", metavar="ACTION", required=True)
    token_set = actions.add_parser(
        "set",
        help="check a token with Segment and store it in the keyring",
        description="Check the token with Segment (the host that accepts it tells the "
        "workspace's region) and store it in the keyring. A token Segment refuses is not stored.",
    )
    token_set.add_argument(
        "--stdin", action="store_true", help="read the token from standard input"
    )
    _add_api_endpoint_option(token_set)
    token_set.add_argument(
        "--verbose", "-v", action="store_true", help="add technical details to errors"
    )
    actions.add_parser("status", help="say whether a token is stored, and where")
    actions.add_parser("delete", help="delete the stored token")


def _add_source_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    source = commands.add_parser(
        "source",
        help="create the Chatlio source, or check which source a write key belongs to",
        description="Uses Segment's Public API with the token from 'token set' or "
        "$SEGMENT_API_TOKEN (Team and Business plans).",
    )
    actions = source.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create",
        help="create a Chatlio source in the workspace and store its write key in the keyring",
        description="Create a Chatlio source in the token's workspace. Its write key goes "
        "straight into the keyring under the source's name: it is never shown. Exit 0 when "
        "the source was created and its key stored, 1 otherwise, 2 for usage errors.",
    )
    create.add_argument(
        "--name",
        default=None,
        metavar="NAME",
        help=f"the new source's name, also its keyring entry (default {DEFAULT_SOURCE})",
    )
    check = actions.add_parser(
        "check",
        help="say which source a write key belongs to, and where that source sends",
        description="Find the source whose write keys hold the key, across every source of "
        "the workspace, and list its destinations and warehouses. The key comes from "
        f"--write-key-stdin, else ${KEY_ENV}, else the keyring entry of --source. Exit 0 only "
        "when it belongs to a Chatlio source, 1 when it belongs to another source or to none "
        "(and with --cdn, which cannot tell a Chatlio key from a website's), 2 for usage "
        "errors such as no token.",
    )
    check.add_argument(
        "--source",
        default=None,
        metavar="NAME",
        help=f"Segment source whose stored key to check (default {DEFAULT_SOURCE})",
    )
    check.add_argument(
        "--write-key-stdin", action="store_true", help="read the write key from standard input"
    )
    check.add_argument(
        "--cdn",
        action="store_true",
        help="without a token: ask Segment's CDN whether it knows the key (unofficial; puts "
        "the key in a web address sent to cdn.segment.com)",
    )
    check.add_argument(
        "--yes", "-y", action="store_true", help="with --cdn: do not ask first on a terminal"
    )
    check.add_argument("--cdn-endpoint", metavar="URL", help=argparse.SUPPRESS)  # for tests
    for sub in (create, check):
        _add_api_endpoint_option(sub)
        sub.add_argument(
            "--verbose", "-v", action="store_true", help="add technical details to errors"
        )


# The most history that can be asked for (the app's settings offer the same).
MAX_KEPT_SENDS = 1_000_000
MAX_KEPT_DAYS = 3650


def _limit(text: str) -> int:
    return _whole_number(text, 1, MAX_LIMIT, ", like 50")


def _add_history_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    history = commands.add_parser(
        "history",
        help="list, export or clear the sends kept in the send history",
        description="Every send, from the app and from 'send' (unless given --no-history), is "
        "kept in the send history on this computer, with the requests as sent (the write key "
        "and the token never) and the answers. With no action: the newest sends, one per "
        "line. Exit 0 when it could be read, 1 when not, 2 for usage errors.",
    )
    history.add_argument(
        "--limit",
        type=_limit,
        default=None,
        metavar="N",
        help=f"list the newest N sends (default {DEFAULT_HISTORY_LIMIT})",
    )
    history.add_argument("--json", action="store_true", help="one JSON object per send per line")
    actions = history.add_subparsers(dest="history_command", metavar="[ACTION]")
    export = actions.add_parser(
        "export",
        help="write every kept send to a file, as HAR or as JSON lines",
        description="Write every kept send, oldest first, to FILE ('-' for standard output). "
        "HAR 1.2 has one entry per HTTP try, for a browser's network tools or a HAR viewer; "
        "JSON lines have one object per send, with every result, for scripts. The file is "
        "written whole or not at all, readable by you only.",
    )
    kind = export.add_mutually_exclusive_group(required=True)
    kind.add_argument("--har", metavar="FILE", help="write HAR 1.2")
    kind.add_argument("--jsonl", metavar="FILE", help="write one JSON object per send per line")
    clear = actions.add_parser(
        "clear",
        help="delete every kept send",
        description="Delete every kept send; the file keeps no trace of them. Asks first on a "
        "terminal; without one, needs --yes.",
    )
    clear.add_argument(
        "--yes", "-y", action="store_true", help="do not ask first (needed without a terminal)"
    )
    keep = actions.add_parser(
        "keep",
        help="say, or set, how much history is kept",
        description="With no option: how much history is kept now (the last 1,000 sends, "
        "unless changed here or in the app's settings). A setting that keeps less deletes the "
        "older sends at once; --off keeps none, and deletes those kept.",
    )
    amount = keep.add_mutually_exclusive_group()
    amount.add_argument(
        "--sends",
        type=lambda text: _whole_number(text, 1, MAX_KEPT_SENDS, ", like 1000"),
        metavar="N",
        help=f"keep the last N sends (1 to {MAX_KEPT_SENDS:,})",
    )
    amount.add_argument(
        "--days",
        type=lambda text: _whole_number(text, 1, MAX_KEPT_DAYS, ", like 90"),
        metavar="N",
        help=f"keep the sends of the last N days (1 to {MAX_KEPT_DAYS:,})",
    )
    amount.add_argument("--off", action="store_true", help="keep no history")
