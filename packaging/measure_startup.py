"""Time from starting the app to its first painted window: the frozen build against the source.

    xvfb-run -a -s "-screen 0 1024x768x24" bash packaging/with_keyring.sh \\
        build/venv-pack/bin/python packaging/measure_startup.py --runs 5

Each run starts the app as a new user would (an empty HOME, so the setup wizard opens) on the
X display, watches the screen until the window is painted (packaging/screenshot.py's test),
then ends the app. The variants alternate so that both see the same machine load; one warm-up
run each comes first, so the page cache is warm for both. Prints medians and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from screenshot import screen, wait_for_paint

ROOT = Path(__file__).resolve().parent.parent
FROZEN = ROOT / "build" / "pyinstaller-dist" / "chatlio-segment-setup" / "chatlio-segment-setup"


def variants(args: argparse.Namespace) -> dict[str, list[str]]:
    found = {
        "frozen": [str(args.frozen)],
        # The same dependencies as the frozen app, from the source tree: a source install.
        "source": [str(args.python), "-m", "app"],
    }
    return {name: command for name, command in found.items() if name in args.only}


def one_run(command: list[str], timeout: float) -> float | None:
    home = Path(tempfile.mkdtemp(prefix="startup-home-"))
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "QT_QPA_PLATFORM": "xcb",
    }
    target = screen()
    started = time.monotonic()
    process = subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        seen = wait_for_paint(target, timeout, lambda: process.poll() is None)
        return None if seen is None else time.monotonic() - started
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(home, ignore_errors=True)
        # Let the screen go black again before the next run.
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--frozen", type=Path, default=FROZEN)
    parser.add_argument("--python", type=Path, default=Path(sys.executable))
    parser.add_argument("--only", nargs="+", default=["frozen", "source"])
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        print("No DISPLAY: run under xvfb-run (see --help).", file=sys.stderr)
        return 2
    commands = variants(args)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for name, command in commands.items():  # warm-up
        if one_run(command, args.timeout) is None:
            print(f"{name}: no window painted within {args.timeout:g} s", file=sys.stderr)
            return 1
    for _ in range(args.runs):
        for name, command in commands.items():
            seconds = one_run(command, args.timeout)
            if seconds is None:
                print(f"{name}: no window painted within {args.timeout:g} s", file=sys.stderr)
                return 1
            times[name].append(seconds)
    result: dict[str, dict[str, float | list[float]]] = {}
    for name, values in times.items():
        result[name] = {
            "median_s": statistics.median(values),
            "min_s": min(values),
            "max_s": max(values),
            "runs": [round(v, 3) for v in values],
        }
        print(
            f"{name:7} first paint: median {statistics.median(values) * 1000:.0f} ms "
            f"(min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f}, {len(values)} runs)"
        )
    if {"frozen", "source"} <= times.keys():
        ratio = statistics.median(times["frozen"]) / statistics.median(times["source"])
        print(f"frozen / source: {ratio:.2f}x (budget 1.3x)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
