"""`token set/status/delete`, and the token and workspace every Public API command starts from."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from app.cli_support import (
    PROG,
    PUBLIC_API_ACCESS,
    UsageError,
    api_endpoint,
    prompt_hidden,
    read_fd,
    read_from_stdin,
    say_api_error,
)
from app.exit_codes import ExitCode
from app.redaction import printable
from app.token_store import TOKEN_ENV

if TYPE_CHECKING:
    from app.proof.workspace import TokenCheck
    from app.segment.cancel import CancelToken
    from app.segment.public_api.client import PublicApiClient
    from app.segment.sandbox import Sandbox
    from app.token_store import KeyringTokenStore

TOKEN = "the Public API token"  # noqa: S105 - how sentences name it
HOW_TO_GIVE = f"Store one with '{PROG} token set', or give it in ${TOKEN_ENV}."


# --- the token every Public API command uses ---------------------------------------------------


class NoToken(UsageError):
    """No token is given or stored (a command may offer another way)."""


@dataclass(frozen=True)
class ApiAccess:
    """A token that works, where it came from, and the workspace and host it opened."""

    token: str = field(repr=False)
    origin: str
    check: TokenCheck

    def client(self, cancel: CancelToken | None = None) -> PublicApiClient:
        """A client on the host that accepted the token (close it, or use it in `with`)."""
        from app.segment.public_api.client import PublicApiClient

        return PublicApiClient(self.check.endpoint, self.token, cancel=cancel)


def stored_token(secrets: list[str], fd: int | None = None) -> tuple[str, str]:
    """The token and where it came from: file descriptor `fd`, else $SEGMENT_API_TOKEN, else
    the keyring; UsageError (NoToken when there is none)."""
    from app.keystore import KeystoreUnavailable
    from app.token_store import InvalidToken, KeyringTokenStore, check_token_text

    if fd is not None:
        raw, origin = read_fd(fd, TOKEN, "--token-fd"), f"file descriptor {fd}"
    elif os.environ.get(TOKEN_ENV):
        raw, origin = os.environ[TOKEN_ENV], f"${TOKEN_ENV}"
    else:
        try:
            stored = KeyringTokenStore().load()
        except KeystoreUnavailable as exc:
            # No keyring: no stored token either (a command may offer another way, as for none).
            raise NoToken(f"{exc.message}\nOr give the token in ${TOKEN_ENV}.") from None
        if stored is None:
            raise NoToken(
                "This needs a Segment Public API token, and none is stored. "
                f"{HOW_TO_GIVE} {PUBLIC_API_ACCESS}"
            )
        raw, origin = stored, "the keyring"
    secrets += [raw, raw.strip()]
    try:
        return check_token_text(raw), origin
    except InvalidToken as exc:
        raise UsageError(f"The token from {origin} cannot be used: {exc}") from None


def open_api(
    args: argparse.Namespace,
    secrets: list[str],
    sandbox: Sandbox | None = None,
    token: tuple[str, str] | None = None,
) -> ApiAccess:
    """The token checked with `GET /`: on --api-endpoint, else the US then the EU host.

    `token` is (token, origin) when already read, else `stored_token` reads it. With the
    built-in `sandbox`, its own Public API and made-up token: never the real one.
    Raises UsageError (no token) or PublicApiError (Segment refused it, or could not be asked).
    """
    from app.proof.workspace import check_token
    from app.segment import SANDBOX_TOKEN
    from app.segment.public_api.hosts import REGION_HOSTS, parse_api_endpoint

    if sandbox is not None:
        if getattr(args, "api_endpoint", None) is not None:
            raise UsageError("--api-endpoint cannot be used with --sandbox, which answers itself.")
        endpoint = parse_api_endpoint(sandbox.public_api_url)
        check = check_token(SANDBOX_TOKEN, (endpoint,))
        return ApiAccess(SANDBOX_TOKEN, "the sandbox (it needs no token)", check)
    given = api_endpoint(getattr(args, "api_endpoint", None))
    text, origin = token or stored_token(secrets)
    check = check_token(text, (given,) if given is not None else REGION_HOSTS)
    return ApiAccess(text, origin, check)


# --- token set / status / delete ----------------------------------------------------------------


def run_token(
    args: argparse.Namespace, stdin: TextIO | None, out: TextIO, secrets: list[str]
) -> int:
    from app.keystore import KeystoreUnavailable
    from app.token_store import KeyringTokenStore

    store = KeyringTokenStore()
    try:
        if args.action == "set":
            return _set(args, stdin, out, secrets, store)
        if args.action == "status":
            status = store.status()
            print(status.describe(), file=out)
            if os.environ.get(TOKEN_ENV):
                print(f"${TOKEN_ENV} is set: commands use it instead.", file=out)
                return ExitCode.OK
            return ExitCode.OK if status.stored else ExitCode.FAILED
        if args.action == "delete":
            if store.delete():
                print(f"Deleted the Public API token from {store.location()}.", file=out)
                return ExitCode.OK
            print("No Public API token was stored.", file=out)
            return ExitCode.FAILED
    except KeystoreUnavailable as exc:
        print(exc.message, file=sys.stderr)
        return ExitCode.FAILED
    raise UsageError("Unknown token action.")


def _set(
    args: argparse.Namespace,
    stdin: TextIO | None,
    out: TextIO,
    secrets: list[str],
    store: KeyringTokenStore,
) -> int:
    from app.proof.workspace import check_token
    from app.segment.public_api.errors import PublicApiError
    from app.segment.public_api.hosts import REGION_HOSTS
    from app.token_store import InvalidToken, check_token_text

    given = api_endpoint(args.api_endpoint)
    prompt = "Paste the Segment Public API token (it will not be shown): "
    if args.stdin:
        raw = read_from_stdin(stdin, prompt, TOKEN, f"give it in ${TOKEN_ENV}")
    else:
        raw = prompt_hidden(prompt, TOKEN, "token set --stdin")
    secrets += [raw, raw.strip()]
    try:
        token = check_token_text(raw)
    except InvalidToken as exc:
        raise UsageError(str(exc)) from None
    try:
        check = check_token(token, (given,) if given is not None else REGION_HOSTS)
    except PublicApiError as exc:
        say_api_error(exc, args.verbose)
        print("The token was not stored.", file=sys.stderr)
        return ExitCode.FAILED
    location = store.save(token)
    print(printable(check.describe()), file=out)
    print(f"Stored the Public API token in {location}.", file=out)
    return ExitCode.OK
