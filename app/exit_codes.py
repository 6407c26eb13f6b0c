"""What the command line's exit status means; scripts and CI rely on these numbers."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """0: everything worked; 1: it ran, and something failed; 2: it could not run as asked."""

    OK = 0
    FAILED = 1
    USAGE = 2
    INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT
