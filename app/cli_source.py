"""`source create` and `source check`: the Chatlio source made, and a write key's owner told."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from app.cli_support import (
    PROG,
    UsageError,
    api_endpoint,
    ask_yes_no,
    resolve_key,
    say_api_error,
)
from app.cli_token import NoToken, open_api
from app.exit_codes import ExitCode
from app.redaction import printable

if TYPE_CHECKING:
    from app.cli_support import KeyChoice
    from app.proof.workspace import TokenCheck
    from app.segment.public_api.models import Source

CDN_QUESTION = (
    "Check the key with Segment's CDN{instead}? This unofficial check puts the key in a web "
    "address sent to cdn.segment.com."
)
EU_STOP = (
    "No source was created: Segment offers the Chatlio source only to workspaces in its US "
    "region. Use a US workspace."
)
CDN_KNOWN_NOTE = f"With a Public API token, '{PROG} source check' tells which source it is."


def run_source(
    args: argparse.Namespace, stdin: TextIO | None, out: TextIO, secrets: list[str]
) -> int:
    """`source create` or `source check`; a Public API failure is its sentence, exit 1."""
    from app.segment.public_api.errors import PublicApiError

    try:
        if args.action == "create":
            return _create(args, out, secrets)
        if args.action == "check":
            return _check(args, stdin, out, secrets)
    except PublicApiError as exc:
        say_api_error(exc, args.verbose)
        return ExitCode.FAILED
    raise UsageError("Unknown source action.")


def _source_lines(check: TokenCheck, source: Source) -> list[str]:
    from app.segment import links

    page = links.source_page(check.workspace.slug, source.slug, "overview")
    return [
        f"  name {source.name}, slug {source.slug}, id {source.id} ({source.catalog.name})",
        f"  in Segment: {page}",
    ]


# --- source create ------------------------------------------------------------------------------


def _create(args: argparse.Namespace, out: TextIO, secrets: list[str]) -> int:
    from app import keystore
    from app.proof.create import create_chatlio_source
    from app.segment import links
    from app.segment.endpoint import Region

    try:
        name = keystore.check_source(keystore.DEFAULT_SOURCE if args.name is None else args.name)
    except keystore.InvalidSourceName as exc:
        raise UsageError(str(exc)) from None
    access = open_api(args, secrets)
    print(printable(access.check.describe()), file=out)
    if access.check.region is Region.EU:
        print(EU_STOP, file=sys.stderr)
        return ExitCode.FAILED
    with access.client() as client:
        created = create_chatlio_source(client, name)
    source = created.source
    workspace = printable(access.check.workspace.name)
    print(f"Created a Chatlio source in workspace {workspace}:", file=out)
    for line in _source_lines(access.check, source):
        print(printable(line), file=out)
    keys_page = links.source_page(access.check.workspace.slug, source.slug, "settings/keys")
    by_hand = (
        f"Copy the key from {keys_page} (Settings → API Keys) and store it with: "
        f'{PROG} key set --source "{name}"'
    )
    if created.write_key is None:
        why = (
            f"Its write key could not be read afterwards ({created.unread.rstrip('.')})."
            if created.unread
            else "The token cannot see write keys (it needs the Source Admin role), so the new "
            "source's write key was not taken."
        )
        print(f"{why} {by_hand}", file=sys.stderr)
        return ExitCode.FAILED
    secrets.append(created.write_key)
    store = keystore.KeyStore()
    try:
        replaced = store.load(name) is not None
        # The key comes from Segment itself: no warning about its shape.
        location = store.save(name, created.write_key).location
    except keystore.KeystoreUnavailable as exc:
        print(f"{exc.message}\nThe write key was not stored. {by_hand}", file=sys.stderr)
        return ExitCode.FAILED
    again = ", replacing the key stored under that name before" if replaced else ""
    print(
        f"Its write key is stored in {location} for source '{name}'{again}. It is not shown; "
        f"'{PROG} send' uses it.",
        file=out,
    )
    return ExitCode.OK


# --- source check -------------------------------------------------------------------------------


def _check(args: argparse.Namespace, stdin: TextIO | None, out: TextIO, secrets: list[str]) -> int:
    from app.proof.connections import source_connections
    from app.proof.key_owner import find_key_owner
    from app.segment.public_api.errors import ApiErrorKind, PublicApiError

    if args.yes and not args.cdn:
        raise UsageError("--yes is for --cdn: add --cdn, or leave --yes out.")
    key = resolve_key(args, stdin, secrets)
    if args.cdn:
        return _cdn(args, key, stdin, out)
    try:
        access = open_api(args, secrets)
    except NoToken as exc:
        if stdin is None or not stdin.isatty() or not sys.stderr.isatty():
            raise UsageError(
                f"{exc}\nOr check without a token: {PROG} source check --cdn"
            ) from None
        print(str(exc), file=sys.stderr)
        return _cdn(args, key, stdin, out, instead=True)
    print(printable(access.check.describe()), file=out)
    print(f"Looking for the write key from {key.origin} among its sources (not shown).", file=out)
    with access.client() as client:
        owner = find_key_owner(client, key.key)
        print(printable(owner.describe()), file=out)
        if owner.source is None:
            return ExitCode.FAILED
        for line in _source_lines(access.check, owner.source):
            print(printable(line), file=out)
        try:
            connections = source_connections(client, owner.source.id)
        except PublicApiError as exc:  # the answer to "is it the right key?" stands
            if exc.kind is ApiErrorKind.CANCELLED:
                raise
            say_api_error(exc, args.verbose)
        else:
            print(printable(connections.describe()), file=out)
    return ExitCode.OK if owner.is_chatlio else ExitCode.FAILED


def _cdn(
    args: argparse.Namespace,
    key: KeyChoice,
    stdin: TextIO | None,
    out: TextIO,
    *,
    instead: bool = False,
) -> int:
    """The unofficial, token-free check: asked first on a terminal, unless --yes."""
    from app.proof.cdn import CDN_HOST, CdnAnswer, cdn_lookup

    endpoint = api_endpoint(args.cdn_endpoint)
    ask = not args.yes and stdin is not None and stdin.isatty()
    question = CDN_QUESTION.format(instead=" instead" if instead else "")
    if ask and stdin is not None and not ask_yes_no(question, stdin):
        print("Nothing was checked.", file=out)
        return ExitCode.FAILED
    check = cdn_lookup(key.key, base_url=endpoint.base_url if endpoint else CDN_HOST)
    print(printable(check.sentence), file=out)
    if args.verbose and check.technical:
        print(f"  ({printable(check.technical)})", file=out)
    if check.answer is CdnAnswer.KNOWN:
        print(CDN_KNOWN_NOTE, file=out)
    # Not 0 even then: the CDN knows every source's key, a website's too, so it cannot tell
    # that this is a Chatlio source's (what exit 0 of `source check` means).
    return ExitCode.FAILED
