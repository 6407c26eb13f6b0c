"""`sql [--warehouse NAME] [--schema NAME]`: the Live Chat tables as a warehouse spells them, and
starter queries to paste into it."""

from __future__ import annotations

import argparse
from typing import TextIO

from app.exit_codes import ExitCode
from app.warehouse_sql import DIALECTS, everything_text


def run_sql(args: argparse.Namespace, stdin: TextIO | None, out: TextIO, secrets: list[str]) -> int:
    """Print the tables and the queries; the grammar has checked both names already."""
    out.write(everything_text(DIALECTS[args.warehouse], args.schema))
    return ExitCode.OK
