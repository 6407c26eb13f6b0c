"""Wait until a window is painted on the X display, then save a screenshot of the whole screen.

    python packaging/screenshot.py --out shot.png [--pid PID] [--timeout 30]

Runs with any Python that has PySide6 (the build's virtual environment does), next to the app
under test on the same DISPLAY (Xvfb): it watches the screen, not the app, so it works for the
installed, frozen app as for the source. Under Xvfb with no window manager the screen is black
until a window paints; "painted" means enough of the screen is no longer black and shows more
than a handful of colours (text, not just a filled rectangle). Exit 0 when saved, 1 on timeout
or when the process --pid exits first.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtGui import QImage, QScreen

POLL_SECONDS = 0.02
# A painted wizard covers far more than this and shows hundreds of colours (anti-aliased text).
MIN_PAINTED_FRACTION = 0.02
MIN_COLOURS = 16


def screen() -> QScreen:
    """The X display's screen, through a QGuiApplication on the xcb platform."""
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(["screenshot"])
    assert isinstance(app, QGuiApplication)
    primary = app.primaryScreen()
    if primary is None:
        raise SystemExit("no X screen: set DISPLAY (run under xvfb-run)")
    return primary


def grab(target: QScreen) -> QImage:
    from PySide6.QtGui import QImage

    return target.grabWindow(0).toImage().convertToFormat(QImage.Format.Format_RGB888)


def painted(image: QImage) -> bool:
    """Whether a real window has been drawn on an otherwise black screen."""
    data = bytes(image.constBits())
    # Every 31st byte: a prime step samples all three channels across the whole screen.
    sample = data[::31]
    if not sample:
        return False
    lit = len(sample) - sample.count(0)
    return lit / len(sample) >= MIN_PAINTED_FRACTION and len(set(sample)) >= MIN_COLOURS


def wait_for_paint(
    target: QScreen, timeout: float, alive: Callable[[], bool] = lambda: True
) -> float | None:
    """Seconds until the screen shows a painted window, or None on timeout or when not alive."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if painted(grab(target)):
            return time.monotonic() - started
        if not alive():
            return None
        time.sleep(POLL_SECONDS)
    return None


def _alive(pid: int | None) -> Callable[[], bool]:
    def check() -> bool:
        if pid is None:
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        # A zombie (exited, not yet reaped by its parent) is not alive either.
        status = Path(f"/proc/{pid}/status")
        return not (status.exists() and "State:\tZ" in status.read_text())

    return check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="PNG file to write")
    parser.add_argument("--pid", type=int, help="fail early if this process exits")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait")
    parser.add_argument(
        "--settle", type=float, default=1.0, help="seconds to wait after the first paint"
    )
    args = parser.parse_args(argv)
    target = screen()
    alive = _alive(args.pid)
    elapsed = wait_for_paint(target, args.timeout, alive)
    if elapsed is None:
        grab(target).save(str(args.out))
        reason = "the app exited" if not alive() else f"nothing painted in {args.timeout:g} s"
        print(f"screenshot: {reason}; the screen as it was is in {args.out}", file=sys.stderr)
        return 1
    time.sleep(args.settle)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not grab(target).save(str(args.out)):
        print(f"screenshot: could not write {args.out}", file=sys.stderr)
        return 1
    print(f"screenshot: a window painted after {elapsed:.2f} s; saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
