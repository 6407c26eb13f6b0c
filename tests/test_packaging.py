"""Packaging: desktop files, icons, trimming rules and scripts; the full build when asked for.

The fast tests always run. `test_build_install_start_and_remove` builds the frozen app and the
.deb, installs it with apt, self-tests and starts it, then purges it: it runs only with
RUN_PACKAGING=1 or in CI (CI=true), as root.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app import APP_ID, APP_NAME, __version__
from tests.packaging_helpers import load

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
RESOURCES = ROOT / "resources"
ICONS = RESOURCES / "icons"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


@pytest.fixture(scope="module")
def rules() -> Any:
    return load("bundle_rules")


# --- desktop integration ----------------------------------------------------------------------


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment, method-assign]  # keys are case-sensitive
    parser.read(RESOURCES / f"{APP_ID}.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_file_is_named_after_the_app_id_and_launches_the_command() -> None:
    entry = desktop_entry()

    assert entry["Type"] == "Application"
    assert entry["Name"] == APP_NAME
    assert entry["Exec"] == "chatlio-segment-setup"
    assert entry["TryExec"] == "chatlio-segment-setup"
    assert entry["Icon"] == APP_ID
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";")
    assert "Network" in entry["Categories"].split(";")


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils absent")
def test_desktop_file_validates() -> None:
    result = subprocess.run(
        ["desktop-file-validate", str(RESOURCES / f"{APP_ID}.desktop")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout


def test_metainfo_describes_this_app_and_version() -> None:
    root = ET.parse(RESOURCES / f"{APP_ID}.metainfo.xml").getroot()

    assert root.tag == "component"
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("name") == APP_NAME
    assert root.findtext("launchable[@type='desktop-id']") == f"{APP_ID}.desktop"
    assert root.findtext("icon[@type='stock']") == APP_ID
    assert root.findtext("provides/binary") == "chatlio-segment-setup"
    assert root.findtext("project_license") == "MIT"
    versions = [release.get("version") for release in root.iterfind("releases/release")]
    assert versions[0] == __version__, "add a <release> for the new version to the metainfo"


@pytest.mark.skipif(not shutil.which("appstreamcli"), reason="appstream absent")
def test_metainfo_validates() -> None:
    result = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(RESOURCES / f"{APP_ID}.metainfo.xml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- icons ------------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_svg_icon_is_square_and_self_contained() -> None:
    svg = ET.parse(ICONS / "app.svg").getroot()

    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert svg.get("viewBox") == "0 0 128 128"
    text = (ICONS / "app.svg").read_text()
    assert "xlink:href" not in text
    assert "<image" not in text
    assert "<text" not in text  # fonts differ between machines


@pytest.mark.parametrize("size", PNG_SIZES)
def test_hicolor_png_exists_at_its_size(size: int) -> None:
    path = ICONS / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"

    assert png_size(path.read_bytes()) == (size, size)


def test_ico_holds_the_windows_sizes_as_png() -> None:
    data = (ICONS / "app.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])

    assert (reserved, kind) == (0, 1)
    sizes = []
    for index in range(count):
        width, height, *_rest, length, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * index : 22 + 16 * index]
        )
        image = data[offset : offset + length]
        assert png_size(image) == (width or 256, height or 256)
        sizes.append(width or 256)
    assert sizes == [16, 24, 32, 48, 64, 128, 256]


def test_icns_holds_every_macos_size() -> None:
    data = (ICONS / "app.icns").read_bytes()

    assert data[:4] == b"icns"
    assert struct.unpack(">I", data[4:8])[0] == len(data)
    found: dict[bytes, tuple[int, int]] = {}
    offset = 8
    while offset < len(data):
        kind, length = (
            data[offset : offset + 4],
            struct.unpack(">I", data[offset + 4 : offset + 8])[0],
        )
        found[kind] = png_size(data[offset + 8 : offset + length])
        offset += length
    assert found[b"icp4"] == (16, 16)
    assert found[b"ic07"] == (128, 128)
    assert found[b"ic09"] == (512, 512)
    assert found[b"ic10"] == (1024, 1024)


def test_committed_icons_were_rendered_from_this_svg() -> None:
    make_icons = load("make_icons")

    manifest = json.loads((ICONS / make_icons.MANIFEST).read_text())

    assert manifest["svg_sha256"] == make_icons.svg_digest(ICONS / "app.svg"), (
        "app.svg changed since the icons were rendered: run python packaging/make_icons.py"
    )


def _pixels(png: bytes) -> tuple[tuple[int, int], bytes]:
    from PySide6.QtGui import QImage

    image = QImage.fromData(png).convertToFormat(QImage.Format.Format_ARGB32)
    assert not image.isNull()
    return (image.width(), image.height()), bytes(image.constBits())


def _largest_difference(a: bytes, b: bytes) -> int:
    return max((abs(x - y) for x, y in zip(a, b, strict=True)), default=0)


# Another CPU's rasteriser may put a few antialiased pixels a level or two apart; a wrong or
# stale picture is off by far more than this in many pixels.
PIXEL_TOLERANCE = 8


def test_committed_icons_look_like_a_fresh_render(qtbot: QtBot, tmp_path: Path) -> None:
    make_icons = load("make_icons")

    fresh_icons = {
        path.relative_to(tmp_path): path
        for path in make_icons.generate(ICONS / "app.svg", tmp_path)
        if path.suffix == ".png"
    }

    assert len(fresh_icons) == len(PNG_SIZES)
    for relative, fresh in fresh_icons.items():
        committed_size, committed = _pixels((ICONS / relative).read_bytes())
        fresh_size, rendered = _pixels(fresh.read_bytes())
        assert committed_size == fresh_size, relative
        assert _largest_difference(committed, rendered) <= PIXEL_TOLERANCE, (
            f"{relative} differs from a fresh render of app.svg: run packaging/make_icons.py"
        )


def test_the_icon_comparison_notices_a_different_picture(qtbot: QtBot) -> None:
    _size, pixels = _pixels((ICONS / "hicolor/32x32/apps" / f"{APP_ID}.png").read_bytes())
    blanked = bytes(len(pixels))

    assert _largest_difference(pixels, pixels) == 0
    assert _largest_difference(pixels, blanked) > PIXEL_TOLERANCE


# --- the PyInstaller spec and its trimming rules ----------------------------------------------


def test_spec_applies_the_trimming_rules() -> None:
    spec = (PACKAGING / "chatlio-segment-setup.spec").read_text()

    assert "excludes=list(bundle_rules.EXCLUDED_MODULES)" in spec
    assert "bundle_rules.keep_binary" in spec
    assert "bundle_rules.keep_data" in spec
    assert "bundle_rules.prune_unreachable" in spec
    assert "upx=False" in spec
    assert "STRIP = LINUX" in spec
    assert 'copy_metadata("keyring")' in spec
    assert 'collect_submodules("keyring.backends")' in spec
    assert "bundle_identifier=MACOS_BUNDLE_ID" in spec


@pytest.mark.parametrize(
    "module",
    [
        "PySide6.QtQml",
        "PySide6.QtQuick",
        "PySide6.QtWebEngineCore",
        "PySide6.QtWebEngineWidgets",
        "PySide6.QtPdf",
        "PySide6.QtNetwork",
        "PySide6.QtDBus",
        "tkinter",
    ],
)
def test_unused_modules_are_excluded(rules: Any, module: str) -> None:
    assert module in rules.EXCLUDED_MODULES


@pytest.mark.parametrize(
    ("dest", "kept"),
    [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", True),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", True),
        ("PySide6/Qt/plugins/platforms/libqeglfs.so", False),
        ("PySide6/Qt/plugins/platforms/libqvnc.so", False),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", False),
        ("PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so", True),
        ("PySide6/Qt/plugins/imageformats/libqsvg.so", True),
        ("PySide6/Qt/plugins/imageformats/libqpdf.so", False),
        ("PySide6/Qt/plugins/imageformats/libqwebp.so", False),
        ("PySide6/Qt/plugins/iconengines/libqsvgicon.so", True),
        ("PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so", False),
        ("PySide6/Qt/plugins/platforminputcontexts/libcomposeplatforminputcontextplugin.so", True),
        ("PySide6/Qt/plugins/sqldrivers/libqsqlite.so", False),
        ("PySide6/Qt/plugins/tls/libqopensslbackend.so", False),
        ("PySide6/Qt/plugins/qmltooling/libqmldbg_tcp.so", False),
        ("PySide6/Qt/lib/libQt6Widgets.so.6", True),
        ("PySide6/Qt/lib/libQt6Svg.so.6", True),
        ("PySide6/Qt/lib/libQt6Qml.so.6", False),
        ("PySide6/Qt/lib/libQt6Quick.so.6", False),
        ("PySide6/Qt/lib/libQt6Network.so.6", False),
        ("PySide6/Qt/lib/libQt6Pdf.so.6", False),
        ("PySide6/Qt/lib/libQt6WebEngineCore.so.6", False),
        ("libgtk-3.so.0", False),
        ("libxcb-cursor.so.0", False),
        ("libfontconfig.so.1", False),
        ("libstdc++.so.6", False),
        ("libpython3.11.so.1.0", True),
        ("cryptography/hazmat/bindings/_rust.abi3.so", True),
    ],
)
def test_linux_binaries_kept_or_dropped(rules: Any, dest: str, kept: bool) -> None:
    assert rules.keep_binary(dest, "linux") is kept


@pytest.mark.parametrize(
    ("dest", "kept"),
    [
        ("PySide6\\plugins\\platforms\\qwindows.dll", True),
        ("PySide6\\plugins\\styles\\qmodernwindowsstyle.dll", True),
        ("PySide6\\plugins\\imageformats\\qico.dll", True),
        ("PySide6\\plugins\\imageformats\\qjpeg.dll", False),
        ("PySide6\\opengl32sw.dll", False),
        ("PySide6\\Qt6Qml.dll", False),
        ("PySide6\\Qt6Widgets.dll", True),
    ],
)
def test_windows_binaries_kept_or_dropped(rules: Any, dest: str, kept: bool) -> None:
    assert rules.keep_binary(dest, "win32") is kept


def test_translations_and_qml_are_dropped(rules: Any) -> None:
    assert not rules.keep_data("PySide6/Qt/translations/qtbase_de.qm")
    assert not rules.keep_data("PySide6/Qt/qml/QtQuick/Controls/qmldir")
    assert rules.keep_data("certifi/cacert.pem")
    assert rules.keep_data("resources/icons/app.svg")
    assert rules.keep_data("resources/icons/ui/show.svg")
    assert rules.keep_data("keyring-25.7.0.dist-info/entry_points.txt")


def test_unreachable_libraries_are_pruned(rules: Any) -> None:
    links = {
        "/src/_ssl.cpython-311-x86_64-linux-gnu.so": ["libssl.so.3"],
        "/src/libssl.so.3": ["libcrypto.so.3"],
        "/src/libcrypto.so.3": [],
        "/src/libqxcb.so": ["libQt6XcbQpa.so.6"],
        "/src/libQt6XcbQpa.so.6": [],
        "/src/libatk-bridge-2.0.so.0": ["libatspi.so.0"],  # left by the dropped GTK plugin
        "/src/libatspi.so.0": [],
    }
    entries = [
        ("python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so",
         "/src/_ssl.cpython-311-x86_64-linux-gnu.so", "EXTENSION"),
        ("libssl.so.3", "/src/libssl.so.3", "BINARY"),
        ("libcrypto.so.3", "/src/libcrypto.so.3", "BINARY"),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/src/libqxcb.so", "BINARY"),
        ("PySide6/Qt/lib/libQt6XcbQpa.so.6", "/src/libQt6XcbQpa.so.6", "BINARY"),
        ("libatk-bridge-2.0.so.0", "/src/libatk-bridge-2.0.so.0", "BINARY"),
        ("libatspi.so.0", "/src/libatspi.so.0", "BINARY"),
    ]  # fmt: skip

    kept, dropped = rules.prune_unreachable(entries, lambda source: links[source])

    assert [dest for dest, _, _ in dropped] == ["libatk-bridge-2.0.so.0", "libatspi.so.0"]
    assert len(kept) == 5


# --- build script, installers, CI -------------------------------------------------------------


def test_build_script_help() -> None:
    result = subprocess.run(
        [sys.executable, str(PACKAGING / "build.py"), "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )

    assert result.returncode == 0, result.stderr
    assert "--naive" in result.stdout
    assert "dist/" in result.stdout


def test_deb_declares_what_qt_xcb_needs_and_recommends_a_keyring() -> None:
    build = load("build")
    declared = build._declared_packages(build.DEB_DEPENDS)

    for package in (
        "libgl1",
        "libegl1",
        "libfontconfig1",
        "libxkbcommon0",
        "libxkbcommon-x11-0",
        "libxcb-cursor0",
        "libxcb-icccm4",
        "libxcb-image0",
        "libxcb-keysyms1",
        "libxcb-render-util0",
        "libxcb-shape0",
        "libdbus-1-3",
        "fonts-dejavu-core",
    ):
        assert package in declared
    assert any("gnome-keyring" in entry for entry in build.DEB_RECOMMENDS)


@pytest.mark.parametrize(
    "script", ["smoke_test.sh", "with_keyring.sh", "macos/smoke_test_dmg.sh"], ids=str
)
def test_shell_scripts_parse(script: str) -> None:
    result = subprocess.run(
        ["bash", "-n", str(PACKAGING / script)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_inno_setup_script_installs_per_user_and_upgrades_in_place() -> None:
    iss = (PACKAGING / "windows" / "chatlio-segment-setup.iss").read_text()

    assert "PrivilegesRequired=lowest" in iss
    assert "DefaultDirName={autopf}" in iss
    assert "AppId={{" in iss  # a fixed GUID: installing a new version replaces the old one
    assert "[Icons]" in iss
    assert "{group}" in iss
    assert "chatlio-segment-setup-cli.exe" in iss
    assert "#define AppVersion" in iss


# --- the real thing ---------------------------------------------------------------------------


def _packaging_requested() -> bool:
    return os.environ.get("RUN_PACKAGING") == "1" or os.environ.get("CI", "").lower() in {
        "1",
        "true",
        "yes",
    }


@pytest.mark.packaging
@pytest.mark.timeout(1800)
@pytest.mark.skipif(not _packaging_requested(), reason="slow: set RUN_PACKAGING=1 (CI does)")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the .deb is built on Linux")
def test_build_install_start_and_remove() -> None:
    if os.geteuid() != 0:
        pytest.skip("installing the .deb with apt needs root")
    missing = [
        tool for tool in ("readelf", "strip", "dpkg-deb", "xvfb-run") if not shutil.which(tool)
    ]
    assert not missing, f"install binutils, dpkg and xvfb first; missing: {missing}"

    build = subprocess.run(
        [sys.executable, str(PACKAGING / "build.py")],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=1500,
    )
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    sizes = json.loads((ROOT / "build" / "sizes-release.json").read_text())
    debs = [ROOT / "dist" / name for name in sizes["artifacts"] if name.endswith(".deb")]
    assert len(debs) == 1
    assert any(name.endswith(".tar.gz") for name in sizes["artifacts"])

    smoke = subprocess.run(
        ["bash", str(PACKAGING / "smoke_test.sh"), str(debs[0])],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=600,
    )

    assert smoke.returncode == 0, smoke.stdout[-4000:] + smoke.stderr[-4000:]
    assert "Self-test passed" in smoke.stdout
    assert (ROOT / "build" / "smoke" / "installed-gui.png").stat().st_size > 10_000


# --- ICU data trimming ------------------------------------------------------------------------


def _icu_header() -> bytes:
    info = struct.pack("<HHBBBB4s4s4s", 20, 0, 0, 0, 2, 0, b"CmnD", b"\1\0\0\0", b"\0\0\0\0")
    header = struct.pack("<HBB", 32, 0xDA, 0x27) + info
    return header + b"\0" * (32 - len(header))


@pytest.mark.parametrize(
    ("item", "kept"),
    [
        ("coll/ucadata.icu", True),
        ("coll/de.res", True),
        ("coll/zh.res", True),
        ("brkitr/word.brk", True),
        ("brkitr/cjdict.dict", False),
        ("zoneinfo64.res", True),
        ("metaZones.res", True),
        ("likelySubtags.res", True),
        ("root.res", True),
        ("pool.res", True),
        ("en.res", True),
        ("en_GB.res", True),
        ("de.res", False),
        ("zh_Hant_HK.res", False),
        ("ibm-5348_P100-1997.cnv", False),
        ("cnvalias.icu", True),
        ("nfkc.nrm", True),
        ("zone/de.res", False),
        ("zone/root.res", True),
        ("zone/en.res", True),
        ("lang/fr.res", False),
        ("translit/Latin_ASCII.res", False),
        ("rbnf/de.res", False),
    ],
)
def test_icu_items_kept_or_dropped(item: str, kept: bool) -> None:
    assert load("icu_data").keep(item) is kept


def test_icu_package_round_trip_keeps_names_sorted_and_items_aligned() -> None:
    icu = load("icu_data")
    items = [("icudt73l/a.res", b"A" * 32), ("icudt73l/b.cnv", b"B" * 5), ("icudt73l/c.icu", b"C")]

    data = icu.Package(_icu_header(), items).serialize()
    parsed = icu.Package.parse(data)

    assert [name for name, _ in parsed.items] == [name for name, _ in items]
    assert [item.rstrip(b"\0") for _, item in parsed.items] == [b"A" * 32, b"B" * 5, b"C"]
    toc = data[32:]
    offsets = [struct.unpack_from("<II", toc, 4 + 8 * i)[1] for i in range(3)]
    assert all(offset % 16 == 0 for offset in offsets)


def test_icu_package_refuses_other_data() -> None:
    with pytest.raises(ValueError, match="not an ICU common data package"):
        load("icu_data").Package.parse(b"\0" * 64)


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("readelf", "as", "ld")), reason="binutils absent"
)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ICU is bundled on Linux only")
def test_shrinking_qt_icu_data_keeps_a_valid_library(tmp_path: Path) -> None:
    import PySide6

    icu = load("icu_data")
    original = next((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*"))
    library = tmp_path / original.name
    shutil.copyfile(original, library)

    total, kept = icu.shrink(library)

    assert 0 < kept < total
    assert library.stat().st_size < original.stat().st_size / 3
    name, offset, size = icu._symbol(library)
    assert name.startswith("icudt")
    package = icu.Package.parse(library.read_bytes()[offset : offset + size])
    names = [item for item, _ in package.items]
    assert names == sorted(names)
    assert len(names) == kept
    assert any(item.endswith("coll/ucadata.icu") for item in names)
    soname = subprocess.run(
        ["readelf", "-d", str(library)], capture_output=True, text=True, check=True
    ).stdout
    assert f"[{original.name}]" in soname
