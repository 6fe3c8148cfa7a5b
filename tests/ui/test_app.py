"""The application around the window: screenshots, one copy per database file, remembered
window state, read-only mode and the log of unexpected errors."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from fundtracker.storage import Database, open_database

PAGES = ["dashboard", "grants", "projects", "spending", "priorities", "returns", "imports", "audit"]


def test_screenshot_mode_renders_every_page(
    qtbot: QtBot, tmp_path: Path, demo_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtGui import QImage

    from ui.app import main

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    database = tmp_path / "shots.sqlite3"
    database.write_bytes(demo_template.read_bytes())
    out = tmp_path / "shots"
    assert main(["--database", str(database), "--screenshot", str(out)]) == 0
    for name in [*PAGES, "imports-mapping"]:
        image = QImage(str(out / f"{name}.png"))
        assert (image.width(), image.height()) == (1280, 800), name


def test_a_second_copy_is_told_the_database_is_open(
    qtbot: QtBot, demo_ui_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui import app
    from ui.access import lock_database

    first = app.Session()
    window = first.open(demo_ui_db)
    assert window is not None and not window.workspace.read_only
    qtbot.addWidget(window)
    other = open_database(str(demo_ui_db.sqlite_path))
    _lock, got_it = lock_database(other)
    assert not got_it
    monkeypatch.setattr(app, "_open_read_only_anyway", lambda db: True)
    second = app.Session().open(other)
    assert second is not None and second.workspace.read_only
    qtbot.addWidget(second)
    assert "read-only" in second.windowTitle()
    spending = second.show_page("spending")
    assert not spending.add_button.isEnabled()
    assert not spending.model.flags(spending.model.index(0, 3)) & Qt.ItemFlag.ItemIsEditable
    monkeypatch.setattr(app, "_open_read_only_anyway", lambda db: False)
    assert app.Session().open(open_database(str(demo_ui_db.sqlite_path))) is None
    first.close_current()
    again = open_database(str(demo_ui_db.sqlite_path))
    lock, got_it = lock_database(again)
    assert got_it and lock is not None
    lock.unlock()
    again.dispose()


def test_window_state_and_last_grant_are_remembered(
    qtbot: QtBot, window: Any, demo_ui_db: Database, isolated_settings: Path
) -> None:
    from ui.main_window import MainWindow
    from ui.workspace import Workspace

    window.show_page("spending").table.setColumnWidth(2, 311)
    window.show_page("audit")
    window.resize(1100, 700)
    window.close()
    assert list(isolated_settings.rglob("*.ini"))
    again = MainWindow(Workspace(demo_ui_db))
    qtbot.addWidget(again)
    assert again.current_page() == "audit"
    assert again.workspace.grant == "CRG-2025-26"
    assert again.page("spending").table.columnWidth(2) == 311


def test_unexpected_errors_are_logged_and_shown_with_the_log_location(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from ui import errors

    log = errors.install_log(tmp_path)
    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        errors.unexpected(type(error), error, error.__traceback__)
    assert "RuntimeError: boom" in log.read_text(encoding="utf-8")
    boxes = [w for w in _top_levels() if w.objectName() == "unexpectedBox"]
    assert boxes and str(log) in boxes[-1].text() and "Traceback" not in boxes[-1].text()
    for box in boxes:
        box.close()


def _top_levels() -> list[Any]:
    from PySide6.QtWidgets import QApplication

    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]


def test_long_work_runs_off_the_gui_thread_and_can_be_cancelled(qtbot: QtBot, window: Any) -> None:
    import threading
    import time

    from ui.operations import Progress, run_in_background

    started = threading.Event()
    threads: list[threading.Thread] = []

    def work(progress: Progress) -> str:
        threads.append(threading.current_thread())
        progress.report(1, 100)
        started.set()
        while not progress.cancelled:
            time.sleep(0.01)
        return "stopped"

    results: list[str] = []
    operation = run_in_background(window, "Working…", work, results.append)
    qtbot.waitUntil(started.is_set)
    assert threads[0] is not threading.main_thread()
    operation.dialog.canceled.emit()  # what the Cancel button sends
    qtbot.waitUntil(lambda: results == ["stopped"])
