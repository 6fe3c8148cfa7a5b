"""Issue 17 in the window: Restore… names the submitted returns an older backup takes away and
asks before un-submitting them."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from fundtracker import backup
from fundtracker.periods import Period
from fundtracker.returns.submission import export_return
from fundtracker.storage import Database

GRANT = "CRG-2025-26"


def _standing(path: Path) -> list[tuple[str, int]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(
            "SELECT period, version_number FROM submissions WHERE reopened_at IS NULL"
        ).fetchall()
    finally:
        connection.close()


def test_restore_names_the_submissions_it_takes_away_and_does_nothing_when_declined(
    qtbot: QtBot, demo_ui_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui import app, backups, dialogs

    path = demo_ui_db.sqlite_path
    assert path is not None
    older = backup.backup_now(path, tmp_path / "older.sqlite3")
    export_return(demo_ui_db, GRANT, Period.parse("2025/26-Q1"), tmp_path / "q1.xlsx", submit=True)
    session = app.Session()
    window: Any = session.open(demo_ui_db)
    assert window is not None
    qtbot.addWidget(window)
    monkeypatch.setattr(backups, "ask_open_path", lambda *_a: older)
    asked: list[tuple[str, str]] = []
    answers = [False, True]

    def confirm(_w: object, _title: str, text: str, action: str) -> bool:
        asked.append((text, action))
        return answers.pop(0)

    monkeypatch.setattr(dialogs, "confirm", confirm)
    window.restore_backup()  # declined: nothing restored, nothing kept, the window stays
    text, action = asked[0]
    assert "restoring it un-submits them" in text
    assert "• CRG-2025-26 2025/26-Q1 version 1 (submitted " in text
    assert action == "Restore and un-submit"
    assert _standing(path) == [("2025/26-Q1", 1)]
    assert [b for b in backup.list_backups(path) if b.kind == "before-restore"] == []
    assert session.window is window

    window.restore_backup()  # confirmed: restored, and the window reopens over it
    assert _standing(path) == []
    assert session.window is not None and session.window is not window
    qtbot.addWidget(session.window)
    session.close_current()


def test_attaching_evidence_on_a_full_disk_shows_what_could_not_be_written(
    window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from fundtracker.operations.returns import AttachEvidence
    from fundtracker.returns import evidence

    def full(*_args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("fundtracker.returns.evidence.shutil.copyfile", full)
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(b"%PDF-1.4 " + b"x" * 2048)  # 2,057 bytes: about 2 KB
    assert window.workspace.run(AttachEvidence(4, invoice), window) is None
    boxes = [b for b in window.findChildren(QMessageBox) if b.objectName() == "errorBox"]
    assert boxes, "no message was shown"
    text = boxes[-1].text()
    assert "invoice.pdf, into the evidence folder" in text
    assert "could not be written: the disk is full (it needs about 2 KB)" in text
    assert evidence.list_attachments(window.db, [4]) == []
