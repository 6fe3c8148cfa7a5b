"""Icons and the style sheet, read from the ``resources`` package via importlib.resources
(so they load the same from a checkout, a wheel or a zip)."""

from __future__ import annotations

import importlib
import re
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from PySide6.QtCore import QByteArray
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QApplication, QStyle


@cache
def _folder() -> Traversable:
    package = importlib.import_module("resources")
    if getattr(package, "__file__", None):
        return resources.files(package)
    # An editable install made before resources/ became a regular package maps it as a
    # namespace package, which importlib.resources cannot read; its real folder is on __path__.
    return Path(next(p for p in package.__path__ if Path(p).is_dir()))


def read_text(name: str) -> str:
    return _folder().joinpath(name).read_text(encoding="utf-8")


def read_bytes(name: str) -> bytes:
    return _folder().joinpath(name).read_bytes()


@cache
def app_icon() -> QIcon:
    pixmap = QPixmap()
    pixmap.loadFromData(QByteArray(read_bytes("icons/fundtracker.svg")), "SVG")
    return QIcon(pixmap)


# Qt's own icons for the common actions: they follow the platform's theme.
STANDARD = {
    "new": QStyle.StandardPixmap.SP_FileIcon,
    "open": QStyle.StandardPixmap.SP_DialogOpenButton,
    "import": QStyle.StandardPixmap.SP_ArrowDown,
    "export": QStyle.StandardPixmap.SP_DialogSaveButton,
    "undo": QStyle.StandardPixmap.SP_ArrowBack,
    "redo": QStyle.StandardPixmap.SP_ArrowForward,
    "delete": QStyle.StandardPixmap.SP_TrashIcon,
    "refresh": QStyle.StandardPixmap.SP_BrowserReload,
    "find": QStyle.StandardPixmap.SP_FileDialogContentsView,
    "dashboard": QStyle.StandardPixmap.SP_ComputerIcon,
    "grants": QStyle.StandardPixmap.SP_FileDialogDetailedView,
    "projects": QStyle.StandardPixmap.SP_DirIcon,
    "spending": QStyle.StandardPixmap.SP_FileDialogListView,
    "priorities": QStyle.StandardPixmap.SP_DialogApplyButton,
    "returns": QStyle.StandardPixmap.SP_DialogSaveButton,
    "imports": QStyle.StandardPixmap.SP_ArrowDown,
    "audit": QStyle.StandardPixmap.SP_FileDialogInfoView,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
    "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
}


def icon(name: str) -> QIcon:
    style = QApplication.style()
    return style.standardIcon(STANDARD[name]) if name in STANDARD else QIcon()


BASE_POINTS = 9.0  # the font size app.qss's point sizes are written for (Windows' and Qt's)


def style_sheet() -> str:
    """app.qss for the user's font and palette: its point sizes grow with the application's
    font (a 200% font makes a 200% title), and ``@error``, ``@warning`` and ``@good`` become
    colours that read on the palette's background (dark, light or high contrast)."""
    from ui.accessibility import SIGNAL_COLOURS, signal_colour

    points = QApplication.font().pointSizeF()  # -1 for a font sized in pixels
    scale = points / BASE_POINTS if points > 0 else 1.0
    text = re.sub(
        r"(\d+(?:\.\d+)?)pt\b", lambda m: f"{float(m[1]) * scale:.1f}pt", read_text("app.qss")
    )
    for kind in SIGNAL_COLOURS:
        text = text.replace(f"@{kind}", signal_colour(kind))
    return text
