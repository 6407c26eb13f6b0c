"""What the command line's commands share: usage errors, reading a secret, yes-or-no questions."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from app.redaction import printable

if TYPE_CHECKING:
    from app.segment.endpoint import Endpoint
    from app.segment.public_api.errors import PublicApiError
    from app.segment.public_api.hosts import ApiEndpoint

PROG = "chatlio-segment-setup"
KEY_ENV = "SEGMENT_WRITE_KEY"
PUBLIC_API_ACCESS = (
    "A workspace owner makes one in Segment under Settings → Access Management → Tokens "
    "(Team and Business plans)."
)


# Where a key comes from on a machine without a keyring (cron, CI, a server): never argv.
OTHER_KEY_WAYS = (
    f"Or give the key in ${KEY_ENV}, on standard input (--write-key-stdin) or on a file "
    "descriptor (--write-key-fd 3 3<key-file)."
)


class UsageError(Exception):
    """The command cannot run as asked; the message tells the person what to do instead."""


def read_from_stdin(stdin: TextIO | None, prompt: str, what: str, other_way: str) -> str:
    """A secret piped in; typed at a terminal, it is read without echo instead of shown.

    `what` names the secret ("the write key"); `other_way` says how else to give it.
    """
    if stdin is None:  # started with standard input closed
        raise UsageError(
            f"There is no standard input to read {what} from. Pipe it in, or {other_way}."
        )
    if stdin.isatty():
        try:
            return getpass.getpass(prompt)
        except EOFError:
            raise UsageError(f"Nothing was typed. Paste {what} at the prompt.") from None
    return read_piped(stdin, what)


# More than any key or token; a file descriptor left open on something big is not read whole.
MAX_SECRET_BYTES = 64 * 1024


def read_fd(fd: int, what: str, option: str) -> str:
    """A secret from an open file descriptor (`--write-key-fd 3 3<key-file`), which is closed
    after; for headless machines with no keyring, and never on the command line itself."""
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= MAX_SECRET_BYTES:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError:
        raise UsageError(
            f"Nothing can be read from file descriptor {fd} ({option} {fd}): open it when "
            f"starting the command, as in '{option} {fd} {fd}<FILE', where FILE holds {what}."
        ) from None
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
    if size > MAX_SECRET_BYTES:
        raise UsageError(f"File descriptor {fd} holds far more than {what}: check what it opens.")
    try:
        return b"".join(chunks).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(
            f"What file descriptor {fd} holds is not plain text (UTF-8): save {what} as plain "
            "text and try again."
        ) from None


def read_piped(stdin: TextIO, what: str) -> str:
    """Text piped in, decoded here: a secret saved as UTF-16, say, gets a sentence, not a crash."""
    buffer = getattr(stdin, "buffer", None)
    if buffer is None:  # already text (a StringIO)
        return stdin.read()
    try:
        return bytes(buffer.read()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(
            f"What you piped in as {what} is not plain text: it may have been saved as UTF-16, "
            "or contain other bytes. Copy it again from Segment, save it as plain text (UTF-8), "
            "and pipe it in again."
        ) from None


def prompt_hidden(prompt: str, what: str, stdin_command: str) -> str:
    """A secret typed at the terminal without echo; with no terminal, a sentence instead.

    With no terminal getpass would read the secret with echo on, after a warning.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", getpass.GetPassWarning)
        try:
            return getpass.getpass(prompt)
        except getpass.GetPassWarning:
            raise UsageError(
                f"There is no terminal to type {what} into without it showing. Pipe it in "
                f"instead: {PROG} {stdin_command}"
            ) from None
        except EOFError:
            raise UsageError(
                f"Nothing was typed. Paste {what} at the prompt, or pipe it in with "
                f"'{PROG} {stdin_command}'."
            ) from None


def ask_yes_no(question: str, stdin: TextIO) -> bool:
    """Ask on the terminal (stderr, so stdout stays the answer); only 'y' or 'yes' is yes."""
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    answer = stdin.readline()
    if not answer.endswith("\n"):
        print(file=sys.stderr)
    return answer.strip().lower() in {"y", "yes"}


def tracking_endpoint(text: str) -> Endpoint:
    """The Tracking API address given (Segment's US host when empty); UsageError if unusable."""
    from app.segment.endpoint import EndpointError, parse_endpoint

    try:
        return parse_endpoint(text)
    except EndpointError as exc:
        raise UsageError(str(exc)) from None


def api_endpoint(text: str | None) -> ApiEndpoint | None:
    """`--api-endpoint URL` checked (plain http only to loopback), or None when not given."""
    if text is None:
        return None
    from app.segment.endpoint import EndpointError
    from app.segment.public_api.hosts import parse_api_endpoint

    try:
        return parse_api_endpoint(text)
    except EndpointError as exc:
        raise UsageError(str(exc)) from None


def say_api_error(error: PublicApiError, verbose: bool) -> None:
    """The Public API's failure in a sentence on stderr; --verbose adds the technical detail."""
    print(printable(error.sentence), file=sys.stderr)
    if verbose:
        details = [f"while trying to {error.call}"] if error.call else []
        if error.status is not None:
            details.append(f"HTTP {error.status}")
        if error.technical:
            details.append(error.technical)
        print(f"  ({printable('; '.join(details))})", file=sys.stderr)


@dataclass(frozen=True)
class KeyChoice:
    """The write key to use (hidden from repr), and where it came from, in words."""

    key: str = field(repr=False)
    origin: str


def resolve_key(args: argparse.Namespace, stdin: TextIO | None, secrets: list[str]) -> KeyChoice:
    """--write-key-stdin, else $SEGMENT_WRITE_KEY, else the keyring entry of --source.

    Every form of the key read is added to `secrets`. Raises UsageError with what to do.
    """
    from app import keystore

    fd = getattr(args, "write_key_fd", None)
    if fd is not None:
        raw, origin = read_fd(fd, "the write key", "--write-key-fd"), f"file descriptor {fd}"
    elif getattr(args, "write_key_stdin", False):
        raw = read_key_from_stdin(stdin, "Paste the write key (it will not be shown): ")
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
            raise UsageError(f"{exc.message}\n{OTHER_KEY_WAYS}") from None
        if stored is None:
            raise UsageError(
                f"No write key is stored for source '{source}'. Store one with "
                f"'{PROG} key set --source \"{source}\"'. {OTHER_KEY_WAYS}"
            )
        raw, origin = stored, f"the keyring (source '{source}')"
    secrets += [raw, raw.strip()]
    try:
        checked = keystore.check_write_key(raw)
    except keystore.InvalidWriteKey as exc:
        raise UsageError(f"The write key from {origin} cannot be used: {exc}") from None
    if checked.warning:
        print(f"Warning: {checked.warning}", file=sys.stderr)
    return KeyChoice(checked.key, origin)


def read_key_from_stdin(stdin: TextIO | None, prompt: str) -> str:
    """The write key piped in; typed at a terminal, it is read without echo instead of shown."""
    return read_from_stdin(stdin, prompt, "the write key", f"pass it in ${KEY_ENV}")
