"""The File menu's backups as an officer uses them: Back up now… asks where (and remembers),
Restore… opens any backup file, Save a copy for a colleague… and Open a copy…, and the
backup folder chosen in Preferences receiving the daily backup."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox
from pytestqt.qtbot import QtBot

from fundtracker import backup
from fundtracker.returns import evidence
from fundtracker.services.spend import add_spend, list_spend
from fundtracker.storage import Database

INVOICE = b"%PDF-1.4 invoice for the street pastors"
GRANT = "CRG-2025-26"


def _attach(db: Database, tmp_path: Path) -> str:
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(INVOICE)
    return evidence.attach(db, 4, invoice).sha256


def _menu_texts(window: Any) -> list[str]:
    file_menu = window.menuBar().actions()[0].menu()
    return [a.text() for a in file_menu.actions() if a.text()]


def _session(qtbot: QtBot, db: Database) -> Any:
    from ui import app

    session = app.Session()
    window = session.open(db)
    assert window is not None
    qtbot.addWidget(window)
    return session


def test_the_file_menu_offers_backup_restore_and_the_hand_over(window: Any) -> None:
    texts = _menu_texts(window)
    for wanted in (
        "&Back up now…",
        "&Restore…",
        "&Save a copy for a colleague…",
        "Open a &copy…",
    ):
        assert wanted in texts


def test_back_up_now_asks_where_writes_an_ftbackup_and_remembers_the_place(
    qtbot: QtBot, window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui import backups

    sha = _attach(window.db, tmp_path)
    asked: list[Path] = []
    elsewhere = tmp_path / "USB stick"
    elsewhere.mkdir()

    def answer(_window: object, _title: str, suggested: Path) -> Path:
        asked.append(suggested)
        return elsewhere / "before-year-end"  # typed without an extension

    monkeypatch.setattr(backups, "ask_save_path", answer)
    window.backup_now()
    written = elsewhere / "before-year-end.ftbackup"
    qtbot.waitUntil(written.exists, timeout=15_000)
    assert asked[0].parent == window.db.sqlite_path.parent  # first time: beside the database
    assert asked[0].suffix == ".ftbackup" and "-manual-" in asked[0].name
    with zipfile.ZipFile(written) as archive:
        assert f"evidence/{sha[:2]}/{sha}" in archive.namelist()
    qtbot.waitUntil(lambda: "written to" in window.statusBar().currentMessage(), timeout=5000)

    window.backup_now()  # the second time it starts in the place used last
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=5000)
    assert asked[1].parent == elsewhere


def test_restore_opens_an_ftbackup_and_puts_back_the_database_and_the_evidence(
    qtbot: QtBot, demo_ui_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui import backups, dialogs

    sha = _attach(demo_ui_db, tmp_path)
    assert demo_ui_db.sqlite_path is not None
    path = demo_ui_db.sqlite_path
    saved = backup.write_backup_file(path, tmp_path / "saved.ftbackup").path
    add_spend(demo_ui_db, GRANT, {"date": "2025-05-01", "net": "1", "reference": "GONE"})
    stored = backup.evidence_store(path) / sha[:2] / sha
    stored.unlink()  # the evidence file lost since

    session = _session(qtbot, demo_ui_db)
    window = session.window
    offered: list[Path] = []

    def choose(_window: object, _title: str, start: Path) -> Path:
        offered.append(start)
        return saved

    monkeypatch.setattr(backups, "ask_open_path", choose)
    questions: list[str] = []
    monkeypatch.setattr(dialogs, "confirm", lambda _w, _t, text, _a: questions.append(text) or True)
    window.restore_backup()
    assert "evidence files in the backup are put back" in questions[0]
    assert session.window is not None and session.window is not window
    qtbot.addWidget(session.window)
    references = {line.reference for line in list_spend(session.window.db, GRANT)}
    assert "GONE" not in references
    assert stored.read_bytes() == INVOICE
    assert any(b.kind == "before-restore" for b in backup.list_backups(path))
    session.close_current()


def test_restore_refuses_a_damaged_file_and_leaves_the_window_working(
    qtbot: QtBot, demo_ui_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from ui import backups, dialogs

    assert demo_ui_db.sqlite_path is not None
    bad = tmp_path / "not-a-backup.ftbackup"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("notes.txt", "hello")
    before = hashlib.sha256(demo_ui_db.sqlite_path.read_bytes()).hexdigest()
    session = _session(qtbot, demo_ui_db)
    window = session.window
    monkeypatch.setattr(backups, "ask_open_path", lambda *_a: bad)
    monkeypatch.setattr(dialogs, "confirm", lambda *_a: True)
    window.restore_backup()
    boxes = [b for b in window.findChildren(QMessageBox) if b.objectName() == "errorBox"]
    assert boxes and "'notes.txt', a name a Fundtracker backup never has" in boxes[-1].text()
    assert hashlib.sha256(demo_ui_db.sqlite_path.read_bytes()).hexdigest() == before
    for box in boxes:
        box.close()
    session.close_current()


def test_save_a_copy_then_open_it_as_a_new_database_in_a_folder_the_person_picks(
    qtbot: QtBot, demo_ui_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui import backups

    sha = _attach(demo_ui_db, tmp_path)
    session = _session(qtbot, demo_ui_db)
    window = session.window
    copy = tmp_path / "for Sam.ftbackup"
    monkeypatch.setattr(backups, "ask_save_path", lambda *_a: copy)
    window.save_copy()
    qtbot.waitUntil(copy.exists, timeout=15_000)

    sams_folder = tmp_path / "Sam's grants"
    sams_folder.mkdir()
    monkeypatch.setattr(backups, "ask_open_path", lambda *_a: copy)
    monkeypatch.setattr(backups, "ask_folder", lambda *_a: sams_folder)
    window.open_copy()
    qtbot.waitUntil(
        lambda: session.window is not None and session.window is not window, timeout=15_000
    )
    qtbot.addWidget(session.window)
    opened = session.window.db
    assert opened.sqlite_path == sams_folder / "fundtracker.sqlite3"
    [info] = evidence.list_attachments(opened)
    assert info.sha256 == sha
    assert evidence.verified_path(opened, info).read_bytes() == INVOICE
    assert len(list_spend(opened, GRANT)) == len(list_spend(demo_ui_db, GRANT))
    session.close_current()


def test_preferences_keep_a_backup_folder_and_refuse_one_that_cannot_be_reached(
    qtbot: QtBot, window: Any, tmp_path: Path
) -> None:
    from ui.preferences import PreferencesDialog, backup_folder

    dialog = PreferencesDialog(window)
    qtbot.addWidget(dialog)
    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    dialog.backup_folder.clear()
    qtbot.keyClicks(dialog.backup_folder, str(tmp_path / "not mounted"))
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert "not a folder that can be reached" in dialog.problem.text()
    assert backup_folder() is None  # nothing saved

    share = tmp_path / "share"
    share.mkdir()
    dialog.backup_folder.clear()
    qtbot.keyClicks(dialog.backup_folder, str(share))
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert backup_folder() == share
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_the_chosen_backup_folder_receives_the_daily_backup_when_the_window_opens(
    qtbot: QtBot, demo_ui_db: Database, tmp_path: Path
) -> None:
    from ui.preferences import set_backup_folder

    _attach(demo_ui_db, tmp_path)
    share = tmp_path / "share"
    share.mkdir()
    set_backup_folder(share)
    assert demo_ui_db.sqlite_path is not None
    session = _session(qtbot, demo_ui_db)
    window = session.window
    assert window.daily_backup is not None
    qtbot.waitUntil(window.daily_backup.isFinished, timeout=15_000)
    [taken] = backup.list_offsite_backups(demo_ui_db.sqlite_path, share)
    assert taken.kind == "daily" and taken.path.suffix == ".ftbackup"
    qtbot.waitUntil(lambda: "Daily backup saved" in window.statusBar().currentMessage())
    assert "in your backup folder" in window.backup_label.text()
    session.close_current()


def test_an_unreachable_backup_folder_is_named_in_the_status_bar(
    qtbot: QtBot, demo_ui_db: Database, tmp_path: Path
) -> None:
    from ui.preferences import set_backup_folder

    gone = tmp_path / "network drive"
    set_backup_folder(gone)
    session = _session(qtbot, demo_ui_db)
    window = session.window
    qtbot.waitUntil(window.daily_backup.isFinished, timeout=15_000)
    qtbot.waitUntil(lambda: "cannot be reached" in window.statusBar().currentMessage())
    assert str(gone) in window.statusBar().currentMessage()
    assert not gone.exists()
    session.close_current()
