"""Cold start of the desktop app to a usable main window, beside a bare PySide6 window.

Each measurement is a fresh Python process, timed from launch until the window has been shown
and painted (the child then exits). Ours opens a copy of the demo database (built once, before
timing) and shows the Dashboard with its figures, checks and charts; the baseline makes the
same imports and shows an empty QMainWindow. A third line shows a window importing PySide6
alone, for scale (the difference is the import cost of SQLAlchemy, Alembic and the core).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.bench_startup [--runs N]

Target: ours ≤ 1.5 × the baseline.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OURS = """
import sys
from PySide6.QtWidgets import QApplication
from ui.app import application, Session
from fundtracker.storage import open_database
app = application()
window = Session().open(open_database(sys.argv[1]), ask=False)
window.show()
app.processEvents()
window.grab()  # painted
"""
# The same imports as the app's start-up path (ui.app brings PySide6 widgets, SQLAlchemy and
# the core's storage with Alembic; the Dashboard adds charts and the figures engine).
BASELINE = """
import sys
from PySide6.QtWidgets import QApplication, QMainWindow
import ui.app, PySide6.QtCharts, fundtracker.figures, fundtracker.checks
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1280, 800)
window.show()
app.processEvents()
window.grab()
"""


PYSIDE_ONLY = """
import sys
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1280, 800)
window.show()
app.processEvents()
window.grab()
"""


def timed(code: str, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True, env=_env())
    return time.perf_counter() - start


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    return env


def demo_database(folder: Path) -> Path:
    from fundtracker.demo import load_demo
    from fundtracker.storage import open_database

    path = folder / "demo.sqlite3"
    db = open_database(str(path))
    load_demo(db)
    db.dispose()
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as scratch:
        template = demo_database(Path(scratch))
        os.environ["FUNDTRACKER_DATA_DIR"] = scratch
        os.environ["XDG_CONFIG_HOME"] = scratch  # fresh window settings: opens on the Dashboard
        ours, base, bare = [], [], []
        timed(BASELINE)  # warm the file cache for both
        for run in range(runs):
            copy = Path(scratch) / f"run{run}.sqlite3"
            shutil.copy(template, copy)
            base.append(timed(BASELINE))
            ours.append(timed(OURS, str(copy)))
            bare.append(timed(PYSIDE_ONLY))
    ours_s, base_s = statistics.median(ours), statistics.median(base)
    print(f"bare window, PySide6 imports only:  {statistics.median(bare):.3f} s (for scale)")
    print(f"bare window, same imports as ours:  {base_s:.3f} s (median of {runs})")
    print(f"Fundtracker, demo data, Dashboard:  {ours_s:.3f} s (median of {runs})")
    print(f"ratio: {ours_s / base_s:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
