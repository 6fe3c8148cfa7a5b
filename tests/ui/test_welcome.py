"""First run: a database with no grant opens on the welcome page; its three ways on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from fundtracker.services.grants import list_grants, load_grant
from fundtracker.storage import Database, open_database
from tests.ui.assistant_support import click, find, shot, type_in
from tests.ui.test_assistant import fill_offer, fill_payments, fill_plans, fill_projects
from ui.assistant import NewGrantAssistant
from ui.main_window import MainWindow
from ui.welcome import OpenDatabaseDialog
from ui.workspace import Workspace


@pytest.fixture
def empty_window(qtbot: QtBot, db: Database) -> Iterator[MainWindow]:
    main = MainWindow(Workspace(db))
    qtbot.addWidget(main)
    main.show()
    qtbot.waitExposed(main)
    yield main


def test_a_database_with_no_grant_opens_on_the_welcome_page(empty_window: MainWindow) -> None:
    assert empty_window.body.currentWidget() is empty_window.welcome
    assert not empty_window.import_action.isEnabled()  # no grant to import into yet
    assert not empty_window.export_action.isEnabled()
    shot(empty_window, "welcome")


def test_set_up_a_grant_from_the_welcome_page_then_undo_it(
    qtbot: QtBot, empty_window: MainWindow, db: Database
) -> None:
    click(qtbot, empty_window.welcome, "Set up a grant")
    wizard = empty_window.assistant
    assert isinstance(wizard, NewGrantAssistant) and wizard.isVisible()
    fill_offer(qtbot, wizard)
    for fill in (fill_payments, fill_plans, fill_projects):
        wizard.next()
        fill(qtbot, wizard)
    wizard.next()
    assert wizard.currentPage() is wizard.review_page
    wizard.accept()
    qtbot.waitUntil(lambda: empty_window.body.currentWidget() is empty_window.splitter)
    assert empty_window.grant_box.currentData() == "CSF-2026-27"
    assert empty_window.import_action.isEnabled() and empty_window.export_action.isEnabled()
    assert empty_window.workspace.grant == "CSF-2026-27"
    assert len(load_grant(db, "CSF-2026-27").allocations) == 6
    # One undo step takes it all away, and the welcome page is back.
    assert empty_window.undo_action.text() == "&Undo Set up grant CSF-2026-27"
    empty_window.undo_action.trigger()
    qtbot.waitUntil(lambda: empty_window.body.currentWidget() is empty_window.welcome)
    assert list_grants(db) == []


def test_ctrl_n_opens_the_assistant_on_a_window_with_grants(
    qtbot: QtBot, window: MainWindow
) -> None:
    assert window.body.currentWidget() is window.splitter
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert isinstance(window.assistant, NewGrantAssistant) and window.assistant.isVisible()
    window.assistant.reject()


def test_try_the_demo_opens_a_separate_file(
    qtbot: QtBot, empty_window: MainWindow, db: Database
) -> None:
    with qtbot.waitSignal(empty_window.open_requested, timeout=60_000) as opened:
        click(qtbot, empty_window.welcome, "Try the demo")
    demo_path = Path(str(opened.args[0]))
    assert demo_path != db.sqlite_path and demo_path.is_file()
    demo = open_database(str(demo_path))
    try:
        assert [g.reference for g in list_grants(demo)]  # the demo year is in it
    finally:
        demo.dispose()
    assert list_grants(db) == []  # the officer's database is untouched


def test_open_a_database_file(qtbot: QtBot, tmp_path: Path, db: Database) -> None:
    dialog = OpenDatabaseDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    assert db.sqlite_path is not None
    type_in(qtbot, dialog, "Database file", str(tmp_path / "missing.sqlite3"))
    dialog.accept()
    problem = find(dialog, "Database file problem", QLabel)
    assert isinstance(problem, QLabel) and "there is no file" in problem.text()
    type_in(qtbot, dialog, "Database file", str(db.sqlite_path))
    with qtbot.waitSignal(dialog.chosen) as chosen:
        dialog.accept()
    assert chosen.args == [str(db.sqlite_path)]


def test_a_shared_database_password_is_used_but_never_stored(
    qtbot: QtBot, isolated_settings: Path
) -> None:
    dialog = OpenDatabaseDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    type_in(qtbot, dialog, "Shared database address", "mysql://alice@server/fundtracker")
    dialog.accept()
    problem = find(dialog, "Shared database address problem", QLabel)
    assert isinstance(problem, QLabel) and "must be a PostgreSQL address" in problem.text()
    qtbot.wait(20)  # let the layout make room for the refusal, as the event loop would
    shot(dialog, "welcome-open-database-refused")
    type_in(qtbot, dialog, "Shared database address", "postgresql+psycopg://alice@db.example/ft")
    type_in(qtbot, dialog, "Password", "s3cret-Pa55")
    shot(dialog, "welcome-open-database")
    with qtbot.waitSignal(dialog.chosen) as chosen:
        dialog.accept()
    assert chosen.args == ["postgresql+psycopg://alice:s3cret-Pa55@db.example/ft"]
    assert dialog.password.text() == ""
    stored = [p.read_text(errors="replace") for p in isolated_settings.rglob("*") if p.is_file()]
    assert not any("s3cret" in text for text in stored)
