"""Start the desktop app: ``fundtracker [--database DB] [--demo] [--screenshot DIR]``.

Only what the first window needs is imported on the way up; pages import their own modules.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEventLoop, QLockFile, QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from fundtracker import __version__
from fundtracker.errors import FundtrackerError
from fundtracker.storage import Database, data_dir, open_database, resolve_url
from ui import errors, resources
from ui.access import lock_database
from ui.main_window import PAGES, MainWindow
from ui.pages.base import Page
from ui.settings import remember_database
from ui.workspace import Workspace

SCREENSHOT_SIZE = (1280, 800)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="fundtracker", description="Fundtracker desktop app")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--database", metavar="DB", help="a database file or SQLAlchemy URL")
    parser.add_argument("--demo", action="store_true", help="open a fresh demo database")
    parser.add_argument(
        "--screenshot", metavar="DIR", type=Path, help="save every page as DIR/<page>.png, exit"
    )
    return parser.parse_args(argv)


def application() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Fundtracker")
    app.setOrganizationName("Fundtracker")
    app.setWindowIcon(resources.app_icon())
    return app


def open_target(target: str | None, demo: bool) -> Database:
    if demo and not target:
        target = str(Path(tempfile.mkdtemp(prefix="fundtracker-demo-")) / "demo.sqlite3")
    db = open_database(target)
    if demo:
        from fundtracker.demo import load_demo

        load_demo(db)
    return db


class Session:
    """One open database and its window; opening another database replaces both."""

    def __init__(self) -> None:
        self.window: MainWindow | None = None
        self.lock: QLockFile | None = None

    def open(self, db: Database, ask: bool = True) -> MainWindow | None:
        lock, got_it = lock_database(db)
        read_only = db.read_only
        if not got_it:
            if not ask or not _open_read_only_anyway(db):
                db.dispose()
                return None
            read_only = True
        self.close_current()
        self.lock = lock if got_it else None
        window = MainWindow(Workspace(db, read_only=read_only))
        window.open_requested.connect(self.open_path)
        self.window = window
        if db.sqlite_path is not None:
            remember_database(str(db.sqlite_path))
        return window

    def open_path(self, target: str) -> None:
        if self.window is not None and resolve_url(target) == self.window.workspace.db.url:
            self.close_current()  # reopening the same file (after a restore): let go of it first
        try:
            db = open_database(target)
        except FundtrackerError as error:
            errors.show_error(self.window, error)
            return
        window = self.open(db)
        if window is not None:
            window.show()

    def close_current(self) -> None:
        if self.window is not None:
            self.window.close()
            self.window.workspace.db.dispose()
            self.window.deleteLater()
            self.window = None
        if self.lock is not None:
            self.lock.unlock()
            self.lock = None


def _open_read_only_anyway(db: Database) -> bool:
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "Database already open",
        f"Another copy of Fundtracker has {db.display_name} open.\n\n"
        "Two copies editing the same file would confuse each other. You can look at it "
        "read-only, or quit and use the other copy.",
    )
    read_only = box.addButton("Open read-only", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return box.clickedButton() is read_only


def _settle(app: QApplication, page: Page, seconds: float = 10.0) -> None:
    """Let a page finish what it shows (its refresh, totals from a background thread)."""
    deadline = time.monotonic() + seconds
    app.processEvents()
    while page.busy() and time.monotonic() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)
    app.processEvents()  # lay out what the last of that work set (the totals' new width)


def screenshots(window: MainWindow, folder: Path) -> list[Path]:
    """Every page at 1280×800, plus the import wizard's mapping step."""
    folder.mkdir(parents=True, exist_ok=True)
    window.remember_state = False
    window.resize(*SCREENSHOT_SIZE)
    app = application()
    written = []
    for name, _title in PAGES:
        page = window.show_page(name)
        _settle(app, page)
        path = folder / f"{name}.png"
        window.grab().save(str(path))
        written.append(path)
    imports = window.show_page("imports")
    mapping = getattr(imports, "show_mapping_example", None)
    if mapping is not None and mapping():
        app.processEvents()
        path = folder / "imports-mapping.png"
        window.grab().save(str(path))
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    app = application()
    app.setStyleSheet(resources.style_sheet())
    log = errors.install_log(data_dir())
    hook = errors.ExceptHook(strict=bool(args.screenshot)).install()
    try:
        db = open_target(args.database, args.demo)
    except FundtrackerError as error:
        QMessageBox.critical(None, "Fundtracker", f"{error}\n\n(Errors are logged to {log}.)")
        return 1
    if args.screenshot:  # a fresh layout, and the officer's saved one left alone
        QSettings.setPath(
            QSettings.Format.IniFormat,
            QSettings.Scope.UserScope,
            tempfile.mkdtemp(prefix="fundtracker-settings-"),
        )
    session = Session()
    window = session.open(db, ask=not args.screenshot)
    if window is None:
        return 1
    window.show()
    if args.screenshot:
        for path in screenshots(window, args.screenshot):
            print(path)
        session.close_current()
        if hook.failures:  # a page that raised must not pass for a good picture
            print(
                f"fundtracker: {hook.failures} unexpected error(s) while taking screenshots "
                "(tracebacks above)",
                file=sys.stderr,
            )
            return 1
        return 0
    code = int(app.exec())
    session.close_current()
    return code


if __name__ == "__main__":
    sys.exit(main())
