"""One entry point: no arguments opens the app, a command runs headless."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from app.exit_codes import ExitCode


def gui_endpoint(args: Sequence[str]) -> str | None:
    """The URL of `--endpoint URL` (or `--endpoint=URL`) given with no command, else None."""
    if len(args) == 2 and args[0] == "--endpoint":
        return args[1]
    if len(args) == 1 and args[0].startswith("--endpoint="):
        return args[0].partition("=")[2]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    address = gui_endpoint(args)
    if not args or address is not None:
        from app.ui.app import run_gui

        endpoint = None
        if address is not None:
            from app.segment.endpoint import EndpointError, parse_endpoint

            try:
                endpoint = parse_endpoint(address)
            except EndpointError as error:  # the CLI's rule: plain http only to loopback
                print(f"chatlio-segment-setup: {error}", file=sys.stderr)
                return ExitCode.USAGE
        return run_gui(sys.argv[:1], endpoint=endpoint)
    from app.cli import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
