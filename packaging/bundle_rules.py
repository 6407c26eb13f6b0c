"""What the frozen app keeps of Qt and the build machine: the trimming rules the spec applies.

A widgets app needs QtCore, QtGui, QtWidgets, a platform plugin and a few image and input
plugins. PyInstaller's Qt hooks collect more (every plugin of a category, translations, and the
libraries those plugins link), and on Linux it copies whatever shared libraries the build
machine has, which is how a GTK theme plugin drags in ~20 MB of the build host's GTK. These rules
drop all of that. Kept in a module of its own so that tests can check them without a build.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import PurePosixPath

# Python modules never bundled: Qt modules a widgets app does not use, and the standard
# library's GUI toolkit. (PyInstaller only bundles what is imported; this guards against a
# stray import pulling in hundreds of megabytes.)
EXCLUDED_MODULES = (
    "tkinter",
    "_tkinter",
    "PySide6.QtDBus",
    "PySide6.QtDesigner",
    "PySide6.QtHelp",
    "PySide6.QtNetwork",
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtPdf",
    "PySide6.QtPdfWidgets",
    "PySide6.QtPrintSupport",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuick3D",
    "PySide6.QtQuickControls2",
    "PySide6.QtQuickWidgets",
    "PySide6.QtSql",
    "PySide6.QtTest",
    "PySide6.QtUiTools",
    "PySide6.QtWebChannel",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineQuick",
    "PySide6.QtWebEngineWidgets",
    "PySide6.QtXml",
)

# Qt plugins kept, by category, as base names without "lib" and extension. A category that is
# not listed is dropped whole (sql drivers, tls, network information, qml tooling, print
# support, evdev input, eglfs, the Wayland compositor side, designer, vector image formats).
KEPT_QT_PLUGINS: dict[str, frozenset[str] | None] = {
    # xcb for X11 (and XWayland), wayland for native Wayland sessions, offscreen for
    # --self-test; windows and cocoa on their systems. eglfs, linuxfb, vnc and minimal go.
    "platforms": frozenset({"qxcb", "qwayland", "qoffscreen", "qwindows", "qcocoa"}),
    # Not qgtk3: it links GTK, and PyInstaller would copy the build host's GTK, cairo and pango
    # (~20 MB) into the bundle. The portal theme gives dark mode and portal dialogs over D-Bus.
    "platformthemes": frozenset({"qxdgdesktopportal"}),
    # Compose keys (dead keys, accents) and IBus input methods; not the virtual keyboard, which
    # is written in QML and would pull in QtQuick.
    "platforminputcontexts": frozenset(
        {"composeplatforminputcontextplugin", "ibusplatforminputcontextplugin"}
    ),
    # The app's icon is an SVG; .ico for Windows. PNG, BMP, PPM, XBM and JPEG-free formats are
    # built into QtGui. Not qpdf (QtPdf), webp, tiff, tga, gif, icns, wbmp or jpeg.
    "imageformats": frozenset({"qsvg", "qico"}),
    "iconengines": frozenset({"qsvgicon"}),
    # GL integrations for xcb: tiny, and Qt looks for one when any widget asks for OpenGL.
    "xcbglintegrations": frozenset({"qxcb-egl-integration", "qxcb-glx-integration"}),
    # Native styles (windows 11 "modern" style, macOS style): all of them.
    "styles": None,
    # The client side of Wayland only: xdg-shell windows, client-side decorations, EGL.
    "wayland-shell-integration": frozenset({"xdg-shell"}),
    "wayland-decoration-client": frozenset({"adwaita", "bradient"}),
    "wayland-graphics-integration-client": frozenset({"qt-plugin-wayland-egl"}),
}

# Qt libraries that no kept module or plugin needs; dropped even if a hook collects them.
_UNUSED_QT = re.compile(
    r"(^|[/\\])(lib)?Qt6?("
    r"Qml|Quick|Pdf|WebEngine|WebChannel|WebSockets|Network(?!Auth)|Designer|VirtualKeyboard|"
    r"Lottie|Labs|Sql|Test|Help|UiTools|Xml|PrintSupport|OpenGLWidgets|EglFS|Charts|Multimedia|"
    r"Positioning|Concurrent|WaylandCompositor|WaylandEgl|WlShell|ShaderTools|3D|Graphs"
    r")[A-Za-z0-9]*(\.so|\.dll|\.dylib|\.framework|$|[./\\])"
)

# Windows: software OpenGL (20 MB) and the shader compiler serve QtQuick/OpenGL only.
_UNUSED_WINDOWS = re.compile(r"(^|[/\\])(opengl32sw|d3dcompiler_\d+)\.dll$", re.IGNORECASE)

# Linux system libraries the .deb declares as dependencies instead of copying them from the
# build machine: X11/xcb, xkbcommon, fontconfig/freetype, GLib, D-Bus and Wayland, whose copies
# would have to match the desktop's own versions and configuration files (fontconfig's
# fonts.conf, xkb's keymaps) and the system libxcb/libGL that PyInstaller never bundles;
# libstdc++ and libgcc_s, because the system's OpenGL driver is loaded into the process and may
# need a newer libstdc++ than the build machine's; OpenSSL, so that TLS gets the system's
# security updates and its own CA paths; and the compression libraries every system has.
SYSTEM_LIBRARIES = re.compile(
    r"^lib("
    r"X11|X11-xcb|Xau|Xdmcp|Xext|Xrender|Xi|Xcursor|Xfixes|Xrandr|Xinerama|"
    r"xcb-[a-z0-9-]+|xkbcommon|xkbcommon-x11|"
    r"fontconfig|freetype|png16|brotli(common|dec)|"
    r"glib-2\.0|gobject-2\.0|gio-2\.0|gmodule-2\.0|gthread-2\.0|"
    r"dbus-1|systemd|wayland-[a-z]+|EGL|GL|GLX|GLdispatch|OpenGL|"
    r"gtk-3|gdk-3|cairo|cairo-gobject|pango-1\.0|pangocairo-1\.0|atk-1\.0|harfbuzz|gdk_pixbuf-2\.0|"
    r"stdc\+\+|gcc_s|ssl|crypto|z|zstd|lzma|bz2|ffi"
    r")\.so(\.[0-9]+)*$"
)


def _plugin(dest: str) -> tuple[str, str] | None:
    """(category, base name) when `dest` is a Qt plugin inside the bundle."""
    parts = PurePosixPath(dest.replace("\\", "/")).parts
    for index in range(len(parts) - 2):
        if parts[index] == "plugins" and "PySide6" in parts[:index]:
            category, filename = parts[index + 1], parts[-1]
            base = filename.split(".", 1)[0]
            if base.startswith("lib") and not filename.endswith(".dll"):
                base = base[3:]
            return category, base
    return None


def keep_binary(dest: str, platform: str) -> bool:
    """Whether a binary collected at `dest` (its path inside the bundle) stays in the bundle."""
    plugin = _plugin(dest)
    if plugin is not None:
        category, base = plugin
        if category not in KEPT_QT_PLUGINS:
            return False
        kept = KEPT_QT_PLUGINS[category]
        return kept is None or base in kept
    if _UNUSED_QT.search(dest):
        return False
    if platform == "win32" and _UNUSED_WINDOWS.search(dest):
        return False
    name = PurePosixPath(dest.replace("\\", "/")).name
    return not (platform.startswith("linux") and "/" not in dest and SYSTEM_LIBRARIES.match(name))


def keep_data(dest: str) -> bool:
    """Whether a data file collected at `dest` stays: no Qt translations, QML or Qt plugins."""
    path = dest.replace("\\", "/")
    if "PySide6/" in path and ("/translations/" in path or "/qml/" in path):
        return False
    plugin = _plugin(dest)
    if plugin is not None:
        return keep_binary(dest, "")
    return not _UNUSED_QT.search(path)


def split(
    entries: Iterable[tuple[str, str, str]], keep: Callable[[str], bool]
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """Entries of a PyInstaller TOC split into (kept, dropped) by `keep(dest)`."""
    kept: list[tuple[str, str, str]] = []
    dropped: list[tuple[str, str, str]] = []
    for entry in entries:
        (kept if keep(entry[0]) else dropped).append(entry)
    return kept, dropped


def is_root(dest: str) -> bool:
    """Whether a bundled binary is loaded for its own sake: a Python extension module, a Qt
    plugin or libpython. Every other shared library is there only because a root links it."""
    path = dest.replace("\\", "/")
    name = PurePosixPath(path).name
    return (
        "/lib-dynload/" in f"/{path}"
        or ".cpython-" in name
        or ".abi3." in name
        or _plugin(dest) is not None
        or name.startswith("libpython")
    )


def prune_unreachable(
    entries: Iterable[tuple[str, str, str]], needed: Callable[[str], Iterable[str]]
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """Drop shared libraries that no kept root links, directly or through other libraries.

    Trimming plugins leaves their libraries behind (GTK's, eglfs's); `needed(source)` lists the
    sonames a binary links (its ELF NEEDED entries). Returns (kept, dropped).
    """
    entries = list(entries)
    by_name = {
        PurePosixPath(dest.replace("\\", "/")).name: entry
        for entry in entries
        for dest in [entry[0]]
    }
    reached: set[str] = set()
    queue = [entry for entry in entries if is_root(entry[0])]
    while queue:
        dest, source, _kind = queue.pop()
        if dest in reached:
            continue
        reached.add(dest)
        for soname in needed(source):
            linked = by_name.get(soname)
            if linked is not None and linked[0] not in reached:
                queue.append(linked)
    kept = [entry for entry in entries if entry[0] in reached]
    dropped = [entry for entry in entries if entry[0] not in reached]
    return kept, dropped


def elf_needed(path: str) -> list[str]:
    """The sonames an ELF file links (its NEEDED entries), read with binutils' readelf."""
    import subprocess

    output = subprocess.run(  # noqa: S603
        ["readelf", "-d", path],  # noqa: S607 - readelf from binutils, which PyInstaller needs too
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", output)
