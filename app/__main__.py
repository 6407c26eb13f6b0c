"""One entry point: no arguments opens the app, a command runs headless."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        from app.ui.app import run_gui

        return run_gui(sys.argv[:1])
    from app.cli import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
