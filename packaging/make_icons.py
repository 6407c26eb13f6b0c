"""Render resources/icons/app.svg to the PNG, .ico and .icns icons that are committed beside it.

Run after editing the SVG: `.venv/bin/python packaging/make_icons.py`. It needs only Qt (QtSvg
ships in PySide6-Essentials); .ico and .icns are written here with the standard library, so
neither Pillow nor macOS's iconutil is needed. Output is repeatable with one Qt on one CPU;
another CPU may differ by a level in a few antialiased pixels, so the tests compare the pictures
with a tolerance and check `rendered-from.json`, the SVG digest recorded here, not PNG bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
SVG = ICONS / "app.svg"
# What the committed icons were rendered from: the SVG's digest, checked by the tests.
MANIFEST = "rendered-from.json"
# freedesktop hicolor sizes; 512 is also the largest Windows and macOS need besides @2x.
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# Apple's icns element types, each holding one PNG of the given pixel size.
ICNS_TYPES = (
    (b"icp4", 16),
    (b"ic11", 32),  # 16@2x
    (b"icp5", 32),
    (b"ic12", 64),  # 32@2x
    (b"ic07", 128),
    (b"ic13", 256),  # 128@2x
    (b"ic08", 256),
    (b"ic14", 512),  # 256@2x
    (b"ic09", 512),
    (b"ic10", 1024),  # 512@2x
)


def app_id() -> str:
    sys.path.insert(0, str(ROOT))
    from app import APP_ID

    return APP_ID


def render_png(svg: Path, size: int) -> bytes:
    """The SVG drawn on a transparent size-by-size canvas, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    if QGuiApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _app = QGuiApplication([])  # kept alive by Qt itself until exit
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg} is not a valid SVG for Qt")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]  # stub wants bytes; str works
        raise SystemExit(f"Qt could not encode a {size} px PNG")
    buffer.close()
    return bytes(data.data())


def ico(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico with one PNG-compressed image per size (read by Windows Vista and later)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, images = b"", b""
    for size in sizes:
        data = pngs[size]
        side = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        images += data
        offset += len(data)
    return header + entries + images


def icns(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns with PNG elements, as iconutil writes them."""
    body = b"".join(
        kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def generate(svg: Path = SVG, out: Path = ICONS) -> list[Path]:
    """Write every icon file; returns the paths written."""
    name = app_id()
    sizes = sorted({*PNG_SIZES, *ICO_SIZES, *(size for _kind, size in ICNS_TYPES)})
    pngs = {size: render_png(svg, size) for size in sizes}
    written = []
    for size in PNG_SIZES:
        path = out / "hicolor" / f"{size}x{size}" / "apps" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pngs[size])
        written.append(path)
    (out / "app.ico").write_bytes(ico({size: pngs[size] for size in ICO_SIZES}))
    (out / "app.icns").write_bytes(icns(pngs))
    manifest = out / MANIFEST
    manifest.write_text(json.dumps({"svg_sha256": svg_digest(svg)}, indent=2) + "\n")
    written += [out / "app.ico", out / "app.icns", manifest]
    return written


def svg_digest(svg: Path = SVG) -> str:
    return hashlib.sha256(svg.read_bytes()).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--svg", type=Path, default=SVG, help="source SVG (default %(default)s)")
    parser.add_argument("--out", type=Path, default=ICONS, help="output folder")
    args = parser.parse_args()
    for path in generate(args.svg, args.out):
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
