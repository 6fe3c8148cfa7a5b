"""Render resources/icons/fundtracker.svg into a Windows icon (.ico) for the executables and
the MSI, with Qt's own SVG renderer and ICO writer (no other tool on the build machine).

    python packaging/windows/make_icon.py OUT.ico
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SVG = Path(__file__).resolve().parents[2] / "resources" / "icons" / "fundtracker.svg"
SIZE = 256  # the largest size Windows shows; it scales down for the Start menu and taskbar


def main(out: str) -> int:
    _app = QGuiApplication(sys.argv[:1])
    image = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    QSvgRenderer(str(SVG)).render(painter)
    painter.end()
    if not image.save(out, "ICO"):
        print(f"could not write {out}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
