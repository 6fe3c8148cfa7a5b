"""The import check in the window: exclude other funds' lines by rule and by row, see the money
totals and the income-sign warning, import, and find the exclusions remembered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from fundtracker.models import ImportExclusion, SpendLine
from fundtracker.storage import Database

LEDGER = """Posting Date,Payee,Details,Invoice No,Cost Centre,Net Amount,VAT
03/01/2026,Kent Youth Trust,Youth session,W-1,CS101,145.00,29.00
05/01/2026,Safer Streets Co,CCTV,SS-1,SS900,300.00,60.00
06/01/2026,Kent PCC,Grant payment,PCC-4,CS101,-2000.00,0
07/01/2026,Acme Ltd,Refund,CN-9,CS101,-10.00,-2.00
,,Grand total,,,-1565.00,87.00
"""


def _count(db: Database, model: Any) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_exclude_in_the_check_then_import(
    qtbot: QtBot, window: Any, demo_ui_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "january.csv"
    path.write_text(LEDGER, encoding="utf-8")
    before = _count(demo_ui_db, SpendLine)
    page = window.show_page("imports")
    page.start(path)
    assert page.steps.currentIndex() == 1
    qtbot.mouseClick(page.findChild(type(page.import_button), "toCheck"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.steps.currentIndex() == 2, timeout=10_000)
    assert page.plan.importable == 4 and page.plan.excluded == 0

    page.exclude_edit.setText("cost_centre=colour=; row")  # badly written: named, no check
    page.to_check()
    assert "is not 'row' and a row number" in page.exclude_error.text()

    page.exclude_edit.setText("cost_centre=SS900, row 4")
    page.to_check()
    qtbot.waitUntil(lambda: page.plan.excluded == 2, timeout=10_000)
    assert page.exclude_error.text() == ""
    # Will import rows 2 and 5: net 145.00 − 10.00 = 135.00, VAT 29.00 − 2.00 = 27.00,
    # gross 162.00. Excluded rows 3 and 4: net 300.00 − 2,000.00 = −1,700.00, VAT 60.00.
    money = page.plan.money
    assert (money["imported"].rows, money["imported"].net, money["imported"].vat) == (
        2,
        13500,
        2700,
    )
    assert (money["excluded"].rows, money["excluded"].net, money["excluded"].vat) == (
        2,
        -170000,
        6000,
    )
    text = page.plan_label.text()
    assert "£162.00" in text and "-£1,700.00" in text
    # 135.00 − 1,700.00 = −1,565.00 and 27.00 + 60.00 = 87.00: the totals row agrees; the
    # refund on row 5 carries the income-sign warning.
    assert page.plan.totals_row is not None and page.plan.totals_row.agrees
    assert "income sign" in text and "row(s) 5" in text
    assert page.import_button.text() == "Import 2 lines"

    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.steps.currentIndex() == 3, timeout=10_000)
    assert _count(demo_ui_db, SpendLine) == before + 2
    assert _count(demo_ui_db, ImportExclusion) == 2
