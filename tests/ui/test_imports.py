"""Map and import a ledger through the wizard, then undo the batch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from fundtracker.models import ImportBatch, SpendLine
from fundtracker.storage import Database

LEDGER = """Ledger transactions report
Run date: 06/01/2026

Posting Date;Payee;Details;Txn Ref;Cost Centre;Value;Tax
03/01/2026;Kent Youth Trust;Youth session;W-1;CS101;£145.00;0.00
05-Jan-26;RadioLink Security Ltd;Radio airtime;W-2;CS102;"1.210,50";0
06/01/2026;Unknown Supplier;Misc;W-3;CS999;(45.00);(9.00)
;;Grand total;;;;
"""


def _count(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count(SpendLine.id))) or 0)


def test_map_and_import_a_ledger_through_the_wizard(
    qtbot: QtBot, window: Any, demo_ui_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text(LEDGER.replace('"1.210,50"', "1210.50"), encoding="cp1252")
    before = _count(demo_ui_db)
    page = window.show_page("imports")
    qtbot.keyClicks(page.file_edit, str(path))
    qtbot.mouseClick(
        page.findChild(type(page.import_button), "toMapping"), Qt.MouseButton.LeftButton
    )
    assert page.steps.currentIndex() == 1
    # "Value" and "Tax" are not names the core recognises: the officer maps them.
    for field, column in [("net", "Value"), ("vat", "Tax"), ("reference", "Txn Ref")]:
        box = page.field_boxes[field]
        box.setCurrentIndex(box.findData(column))
    qtbot.waitUntil(lambda: len(page.preview.rows) == 4)
    lines = [r for r in page.preview.rows if r.kind == "line"]
    assert [str(r.values.net) for r in lines if r.values] == ["145.00", "1210.50", "-45.00"]
    qtbot.keyClicks(page.save_profile, "Unit4 payments")

    qtbot.mouseClick(page.findChild(type(page.import_button), "toCheck"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.steps.currentIndex() == 2, timeout=10_000)
    assert page.plan is not None and page.plan.importable == 3 and page.plan.unassigned == 1
    assert _count(demo_ui_db) == before  # the check wrote nothing

    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.steps.currentIndex() == 3, timeout=10_000)
    assert _count(demo_ui_db) == before + 3
    with demo_ui_db.read() as session:
        batch = session.scalars(select(ImportBatch)).one()
        unassigned = session.scalar(select(SpendLine).where(SpendLine.reference == "W-3"))
    assert batch.imported == 3 and batch.file_name == "ledger.csv"
    assert unassigned is not None and unassigned.allocation_id is None
    page.reload()
    assert [
        p
        for p in range(page.profile_box.count())
        if page.profile_box.itemText(p) == "Unit4 payments"
    ]

    from ui import dialogs

    qtbot.waitUntil(lambda: page.batches.rowCount() == 1)
    page.batch_table.selectRow(0)
    monkeypatch.setattr(dialogs, "confirm", lambda *a: True)
    page.undo_selected_batch()
    assert _count(demo_ui_db) == before


def test_a_file_with_bad_rows_is_refused_before_anything_is_written(
    qtbot: QtBot, window: Any, demo_ui_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("Date,Supplier,Net\n03/01/2026,A,10.00\n31/02/2026,B,12.00\n", encoding="utf-8")
    before = _count(demo_ui_db)
    page = window.show_page("imports")
    page.start(path)
    assert page.steps.currentIndex() == 1
    assert [r.row for r in page.preview.rows if r.errors] == [3]
    page.to_check()
    qtbot.waitUntil(lambda: page.steps.currentIndex() == 2, timeout=10_000)
    assert not page.import_button.isEnabled()
    assert "Row 3" in page.plan_details.toPlainText()
    page.skip_errors.setChecked(True)
    qtbot.waitUntil(lambda: page.import_button.isEnabled(), timeout=10_000)
    assert _count(demo_ui_db) == before
