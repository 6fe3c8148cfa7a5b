"""Getting around: a check finding opens what it names, a dropped ledger starts the wizard,
evidence is attached from the ledger, and another database opens in its own window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from fundtracker.models import Attachment
from fundtracker.storage import Database


def test_a_finding_opens_the_line_it_names(qtbot: QtBot, window: Any) -> None:
    dashboard = window.show_page("dashboard")
    findings = dashboard.findings_list
    row = next(
        n for n in range(findings.count()) if findings.item(n).text().startswith("SPEND_UNASSIGNED")
    )
    findings.itemActivated.emit(findings.item(row))
    assert window.current_page() == "spending"
    spending = window.pages["spending"]
    (selected,) = spending.selected_rows()
    assert selected.reference == "INV88120"

    row = next(n for n in range(findings.count()) if "A07" in findings.item(n).text())
    findings.itemActivated.emit(findings.item(row))
    assert window.current_page() == "projects"
    assert window.pages["projects"].current_code() == "A07"


def test_dropping_a_ledger_file_starts_the_import_wizard(
    qtbot: QtBot, window: Any, tmp_path: Path
) -> None:
    ledger = tmp_path / "drop.csv"
    ledger.write_text("Date,Supplier,Net\n03/01/2026,A,10.00\n", encoding="utf-8")
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(ledger))])
    event = QDropEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    assert window.current_page() == "imports"
    imports = window.pages["imports"]
    assert imports.steps.currentIndex() == 1
    assert [str(r.values.net) for r in imports.preview.rows if r.values] == ["10.00"]


def test_attach_evidence_to_the_selected_line(
    qtbot: QtBot, window: Any, demo_ui_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QFileDialog

    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(b"%PDF-1.4 illustrative invoice")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(invoice), ""))
    page = window.show_page("spending")
    line = page.model.line_at(0)
    page.table.selectRow(0)
    assert page.attach_button.isEnabled()
    page.attach_evidence()
    with demo_ui_db.read() as session:
        stored = session.scalars(select(Attachment)).one()
    assert stored.spend_line_id == line.id and stored.original_name == "invoice.pdf"
    qtbot.waitUntil(lambda: page.model.line_at(0).attachments == 1)
    assert page.model.index(0, 13).data() == "1 file"


def test_open_another_database_in_its_place(
    qtbot: QtBot, demo_ui_db: Database, tmp_path: Path
) -> None:
    from ui import app

    session = app.Session()
    window = session.open(demo_ui_db)
    assert window is not None
    qtbot.addWidget(window)
    other = tmp_path / "new.sqlite3"
    window.open_requested.emit(str(other))
    assert session.window is not None and session.window is not window
    qtbot.addWidget(session.window)
    assert str(other) in session.window.windowTitle()
    assert session.window.workspace.grant == ""  # a new, empty database
    from ui.settings import recent_databases

    assert recent_databases()[0] == str(other.resolve())
    session.close_current()


def test_grant_and_plan_files_round_trip_through_the_pages(
    qtbot: QtBot, window: Any, demo_ui_db: Database, tmp_path: Path
) -> None:
    from fundtracker.services.plans import list_plans

    plan = tmp_path / "svd.toml"
    plan.write_text(
        '[plan]\nkey = "svd-2025"\nname = "Serious Violence Duty strategy"\nkind = "statutory"\n'
        'effective_from = 2025-04-01\n\n[[priorities]]\ncode = "S1"\ntitle = "Prevent"\n',
        encoding="utf-8",
    )
    priorities = window.show_page("priorities")
    assert priorities.import_path(plan)
    assert len(list_plans(demo_ui_db)) == 3
    qtbot.waitUntil(lambda: priorities.plans.rowCount() == 3)

    grants = window.show_page("grants")
    out = tmp_path / "grant.toml"
    grants.export_path(out)
    text = out.read_text(encoding="utf-8")
    assert 'reference = "CRG-2025-26"' in text
    edited = tmp_path / "edited.toml"
    edited.write_text(text.replace("Crime Reduction Grant 2025/26", "CRG renamed"), "utf-8")
    assert grants.import_path(edited)
    qtbot.waitUntil(lambda: grants.fields["name"].text() == "CRG renamed")
    assert "CRG renamed" in window.grant_box.currentText()


def test_evidence_pack_is_written_off_the_gui_thread(
    qtbot: QtBot, window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zipfile

    page = window.show_page("returns")
    out = tmp_path / "pack.zip"
    monkeypatch.setattr(page, "_ask_path", lambda *a: out)
    page.evidence_pack()
    qtbot.waitUntil(out.exists, timeout=15_000)
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
    assert any(n.endswith(".xlsx") for n in names) and any(n.endswith(".csv") for n in names)


def test_restore_from_a_backup_reopens_the_database(
    qtbot: QtBot, demo_ui_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fundtracker import backup
    from fundtracker.services.spend import add_spend
    from ui import app, backups, dialogs

    assert demo_ui_db.sqlite_path is not None
    path = demo_ui_db.sqlite_path
    session = app.Session()
    window = session.open(demo_ui_db)
    assert window is not None
    qtbot.addWidget(window)

    # Saved as a plain database copy in the backups folder, where the list finds it.
    def beside(_window: object, _title: str, suggested: Path) -> Path:
        return (suggested.parent / "backups" / suggested.name).with_suffix(".sqlite3")

    monkeypatch.setattr(backups, "ask_save_path", beside)
    window.backup_now()

    def manual_backups() -> list[backup.Backup]:
        # Opening the database may also have taken the daily backup: wait for this one.
        return [b for b in backup.list_backups(path) if b.kind == "manual"]

    qtbot.waitUntil(lambda: bool(manual_backups()), timeout=10_000)
    assert "Last backup" in window.backup_label.text()
    add_spend(demo_ui_db, "CRG-2025-26", {"date": "2025-05-01", "net": "1", "reference": "GONE"})
    monkeypatch.setattr(dialogs, "confirm", lambda *a: True)
    manual = manual_backups()
    monkeypatch.setattr(backups, "ask_open_path", lambda *_a: manual[0].path)
    window.restore_backup()
    assert session.window is not None and session.window is not window
    qtbot.addWidget(session.window)
    from fundtracker.services.spend import list_spend

    assert "GONE" not in {line.reference for line in list_spend(session.window.db, "CRG-2025-26")}
    session.close_current()
