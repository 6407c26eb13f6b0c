"""Run the benchmarks, print the table, write build/benchmarks/results.json (and results.md).

    scripts/bench                      everything (about two minutes on 2 cores)
    scripts/bench --only start wire    some of it (groups: start gui wire send sandbox
                                       history package)
    scripts/bench --quick              fewer repeats, to check that it runs

Never a pass/fail gate: the exit status is 0 whatever the figures, unless --strict is given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.benchmarks import (
    history_core,
    history_gui,
    package_size,
    responsiveness,
    sandbox_load,
    send_process,
    startup,
    wire,
)
from tests.benchmarks.common import APP_ROOT_ENV, RESULTS_DIR, TIMES, Row, machine_info

GROUPS = ("start", "gui", "wire", "send", "sandbox", "history", "package")


def _prepare_environment() -> None:
    """The same interpreter settings for every child, app and floor alike.

    Bytecode is cached (under build/benchmarks/pycache, never next to the sources), as it is
    for an installed app: with PYTHONDONTWRITEBYTECODE=1 every start would recompile the app's
    own modules and the figures would describe a development checkout, not the product.
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(RESULTS_DIR / "pycache")
    # scripts/bench provides Xvfb; run directly without a display, Qt would abort on xcb.
    if "QT_QPA_PLATFORM" not in os.environ:
        os.environ["QT_QPA_PLATFORM"] = "xcb" if os.environ.get("DISPLAY") else "offscreen"


def _digits(row: Row) -> int:
    return {"s": 3, "ms": 1, "MB": 1}.get(row.unit, 2)


def _value(row: Row, value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.{_digits(row)}f} {row.unit}"


def _versus(row: Row) -> str:
    if row.compare == "ratio" and row.ratio is not None:
        return f"{row.ratio:.2f}{TIMES}"
    if row.difference is not None:
        return f"{row.difference:+.{_digits(row)}f} {row.unit}"
    return "—"


def _result(row: Row) -> str:
    if row.error == package_size.NOT_BUILT:
        return "not built"
    if row.error is not None:
        return "ERROR"
    return {True: "PASS", False: "**FAIL**", None: "—"}[row.passed]


def table(rows: Sequence[Row]) -> str:
    """A Markdown table: readable in a terminal, pasteable into the README."""
    header = ["Benchmark", "Floor", "App", "App vs floor", "Target", "Result"]
    lines = [header]
    for row in rows:
        lines.append(
            [
                row.name,
                _value(row, row.floor),
                _value(row, row.app),
                _versus(row),
                row.target_text(),
                _result(row),
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["| " + " | ".join(c.ljust(w) for c, w in zip(lines[0], widths, strict=True)) + " |"]
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in lines[1:]:
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
    return "\n".join(out)


def floors(rows: Sequence[Row]) -> str:
    return "\n".join(f"- {row.name}: floor = {row.floor_name}" for row in rows if row.floor_name)


def machine_line(machine: dict[str, object]) -> str:
    return (
        f"{machine['cpu']}, {machine['cores']} cores, {machine['memory']} RAM, {machine['os']} "
        f"(kernel {machine['kernel']}); Python {machine['python']}, PySide6 "
        f"{machine['pyside6']}, httpx {machine['httpx']}, keyring {machine['keyring']}; "
        f"QT_QPA_PLATFORM={machine['qt_platform']}"
        f"{' under Xvfb' if machine['xvfb'] else ''}; {machine['date']}, "
        f"commit {machine['git_commit']}{' + local changes' if machine['git_dirty'] else ''}"
    )


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=GROUPS, default=list(GROUPS))
    parser.add_argument("--repeats", type=int, default=11, help="start/memory pairs (11)")
    parser.add_argument("--gui-repeats", type=int, default=3, help="runs per GUI scenario (3)")
    parser.add_argument("--rounds", type=int, default=40, help="wire rounds per side (40)")
    parser.add_argument("--quick", action="store_true", help="3 pairs, 1 GUI run, 10 rounds")
    parser.add_argument("--stacks", action="store_true", help="sample the GUI stack in stalls")
    parser.add_argument(
        "--json",
        type=Path,
        help="where to write (build/benchmarks/results.json; --only writes "
        "results-<groups>.json, and --quick adds -quick)",
    )
    parser.add_argument(
        "--app-root",
        type=Path,
        help="measure the app package in this folder instead (a patched copy holding app/ and "
        "resources/ only: a tests/ folder there would shadow this suite)",
    )
    parser.add_argument("--onefolder", type=Path, help="one-folder build to measure")
    parser.add_argument("--deb", type=Path, help=".deb to measure")
    parser.add_argument("--naive-onefolder", type=Path, help="naive one-folder build")
    parser.add_argument("--naive-deb", type=Path, help="naive .deb")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.gui_repeats, args.rounds = 3, 1, 10
    if args.json is None:  # only a full run replaces results.json
        name = "results" if set(args.only) == set(GROUPS) else "results-" + "-".join(args.only)
        args.json = RESULTS_DIR / (f"{name}-quick.json" if args.quick else f"{name}.json")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.app_root is not None:
        if not (args.app_root / "app" / "__init__.py").is_file():
            print(f"{args.app_root} holds no app package", file=sys.stderr)
            return 2
        os.environ[APP_ROOT_ENV] = str(args.app_root.resolve())
    _prepare_environment()
    machine = machine_info()
    print(f"Machine: {machine_line(machine)}", flush=True)

    def say(text: str) -> None:
        print(text, flush=True)

    rows: list[Row] = []
    if "start" in args.only:
        say(f"Cold start and memory: {args.repeats} interleaved pairs after one warm-up pair")
        rows += startup.run(args.repeats, say)
    if "gui" in args.only:
        say(f"Responsiveness: {args.gui_repeats} fresh process(es) per scenario")
        rows += responsiveness.run(args.gui_repeats, args.stacks, say)
    if "wire" in args.only:
        say(f"Wire overhead: {args.rounds} interleaved rounds per side after 5 warm-up rounds")
        rows += wire.run(args.rounds, 5, say)
    if "send" in args.only:
        say(f"send as a whole process: {args.repeats} interleaved pairs after one warm-up pair")
        rows += send_process.run(args.repeats, say)
    if "sandbox" in args.only:
        sandbox_rounds = max(2, args.rounds // 5)
        say(f"Sandbox under load: {sandbox_rounds} interleaved 2 s rounds per side, then memory")
        rows += sandbox_load.run(sandbox_rounds, 2.0, say)
    if "history" in args.only:
        say("Send history: 100,000 sends against none (start, record, export, the History tab)")
        rows += history_core.run(args.quick, say)
        rows += history_gui.run(args.gui_repeats, say)
    if "package" in args.only:
        rows += package_size.run(args.onefolder, args.deb, args.naive_onefolder, args.naive_deb)

    machine["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    text = table(rows)
    print()
    print(text)
    print()
    print(floors(rows))
    for row in rows:
        if row.error and row.error != package_size.NOT_BUILT:
            print(f"\n{row.name}: {row.error}")
    busy = max(machine["load_average"][0], machine["load_average_end"][0])
    if busy > 0.5:
        print(
            f"\nNote: the 1-minute load average was up to {busy} around this run (earlier runs "
            "count too); other work slows app and floor unevenly, so publish figures from a "
            "quiet machine."
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": machine,
        "settings": {
            "repeats": args.repeats,
            "gui_repeats": args.gui_repeats,
            "rounds": args.rounds,
            "groups": args.only,
        },
        "results": [row.to_json() for row in rows],
    }
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    args.json.with_suffix(".md").write_text(
        f"Machine: {machine_line(machine)}\n\n{text}\n\n{floors(rows)}\n"
    )
    print(f"\nWrote {args.json} and {args.json.with_suffix('.md')}")
    missed = any(row.passed is False for row in rows)
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
