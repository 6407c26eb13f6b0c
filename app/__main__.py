"""One entry point: no arguments opens the app, a command runs headless."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from app.exit_codes import ExitCode

# The options the app's window takes, each with one address, for this run only.
GUI_OPTIONS = ("--endpoint", "--api-endpoint")


def gui_addresses(args: Sequence[str]) -> dict[str, str] | None:
    """`--endpoint URL` and `--api-endpoint URL` (or `--option=URL`) with no command: the
    addresses by option, {} for no arguments at all; None when the arguments are a command."""
    found: dict[str, str] = {}
    rest = list(args)
    while rest:
        option, _, value = rest.pop(0).partition("=")
        if option not in GUI_OPTIONS or option in found:
            return None
        if not value:
            if not rest:
                return None
            value = rest.pop(0)
        found[option] = value
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    addresses = gui_addresses(args)
    if addresses is None:
        from app.cli import run

        return run(args)
    from app.segment.endpoint import EndpointError
    from app.ui.app import run_gui

    # The CLI's rule for both: plain http only to loopback.
    try:
        endpoint = api_endpoint = None
        if "--endpoint" in addresses:
            from app.segment.endpoint import parse_endpoint

            endpoint = parse_endpoint(addresses["--endpoint"])
        if "--api-endpoint" in addresses:
            from app.segment.public_api.hosts import parse_api_endpoint

            api_endpoint = parse_api_endpoint(addresses["--api-endpoint"])
    except EndpointError as error:
        print(f"chatlio-segment-setup: {error}", file=sys.stderr)
        return ExitCode.USAGE
    return run_gui(sys.argv[:1], endpoint=endpoint, api_endpoint=api_endpoint)


if __name__ == "__main__":
    sys.exit(main())
