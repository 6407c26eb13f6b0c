"""--self-test's Qt check: the platform plugin, painting, collation (ICU) and the SVG icon."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from app import APP_NAME, __version__
from app.selftest import CheckFailed


def _plugin_dirs() -> list[str]:
    from PySide6.QtCore import QCoreApplication, QLibraryInfo

    dirs = [
        *QCoreApplication.libraryPaths(),
        QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath),
    ]
    return list(dict.fromkeys(dirs))


def _platform_plugin_present(name: str) -> bool:
    """Whether Qt's platform plugin `name` exists, checked before Qt would abort without it."""
    candidates = (f"libq{name}.so", f"q{name}.dll", f"libq{name}.dylib")
    return any(
        (Path(directory) / "platforms" / candidate).exists()
        for directory in _plugin_dirs()
        for candidate in candidates
    )


def check_qt() -> str:
    """A QApplication on the offscreen platform paints a widget, collates text (ICU) and draws
    the SVG app icon."""
    from PySide6.QtCore import QCollator, QLocale
    from PySide6.QtGui import QIcon, QImageReader
    from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

    app = QApplication.instance()
    if app is None:
        if not _platform_plugin_present("offscreen"):
            searched = ", ".join(f"{directory}/platforms" for directory in _plugin_dirs())
            raise CheckFailed(f"Qt's offscreen platform plugin is missing (looked in {searched})")
        # Headless on purpose, whatever the desktop: this checks the app, not the screen.
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        app = QApplication([sys.argv[0] if sys.argv else "chatlio-segment-setup"])
    assert isinstance(app, QApplication)
    platform = app.platformName()

    widget = QWidget()
    layout = QVBoxLayout(widget)
    layout.addWidget(QLabel(f"{APP_NAME} {__version__}"))
    widget.resize(240, 80)
    pixmap = widget.grab()
    widget.deleteLater()
    if pixmap.isNull() or pixmap.width() < 1:
        raise CheckFailed(f"Qt could not paint a widget on the {platform} platform")

    # Sorting for people goes through ICU on Linux (its data library is trimmed in the build):
    # without working collation data, "B" would sort before "a".
    if QCollator(QLocale(QLocale.Language.German)).compare("a", "B") >= 0:
        raise CheckFailed("Qt sorts text in code-point order: its collation (ICU) data is missing")

    formats = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
    if "svg" not in formats:
        raise CheckFailed(
            "Qt cannot read SVG images (the imageformats/qsvg plugin is missing), "
            "so the app's icon would not show"
        )
    icon_path = _app_icon_path()
    if icon_path is None:
        raise CheckFailed("the app icon resources/icons/app.svg was not found next to the app")
    if QIcon(str(icon_path)).pixmap(32, 32).isNull():
        raise CheckFailed(
            f"Qt could not draw the app icon {icon_path} "
            "(the iconengines/qsvgicon plugin is probably missing)"
        )
    return f"platform {platform}, painted a widget, sorted text, drew the SVG icon"


def _app_icon_path() -> Path | None:
    """Where app/ui/app.py looks for the icon: resources/ beside the app package."""
    import app

    resources = Path(app.__file__).resolve().parent.parent / "resources"
    candidates = [resources / "icons" / "app.svg", resources / "app.svg"]
    return next((path for path in candidates if path.exists()), None)
