"""Returns: fill a narrative and export the workbook; submit and see a locked line refuse an
edit; reopen with a reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from fundtracker.models import Narrative, SpendLine, Submission
from fundtracker.storage import Database
from tests.ui.conftest import message_boxes


def _choose_period(page: Any, period: str) -> None:
    for row in range(page.periods.count()):
        if page.periods.item(row).data(Qt.ItemDataRole.UserRole) == period:
            page.periods.setCurrentRow(row)
            return
    raise AssertionError(period)


def _projects_sheet(path: Path) -> dict[str, dict[str, Any]]:
    sheet = openpyxl.load_workbook(path)["Projects"]
    rows = list(sheet.iter_rows(values_only=True))
    header_at = next(n for n, r in enumerate(rows) if r and r[0] == "Code")
    header = rows[header_at]
    return {str(r[0]): dict(zip(header, r, strict=False)) for r in rows[header_at + 1 :] if r[0]}


def test_fill_a_narrative_and_export_the_return(
    qtbot: QtBot, window: Any, demo_ui_db: Database, tmp_path: Path
) -> None:
    page = window.show_page("returns")
    _choose_period(page, "2025/26-Q2")
    outputs_column = 7
    index = page.model.index(0, outputs_column)
    page.table.setCurrentIndex(index)
    page.table.edit(index)
    (editor,) = [e for e in page.table.viewport().findChildren(QLineEdit) if e.isVisible()]
    qtbot.keyClicks(editor, "=120 young people reached")  # text, never a formula
    qtbot.keyClick(editor, Qt.Key.Key_Return)

    def stored() -> str | None:
        with demo_ui_db.read() as session:
            narrative = session.scalar(select(Narrative).where(Narrative.period == "2025/26-Q2"))
            return narrative.outputs if narrative else None

    qtbot.waitUntil(lambda: stored() == "=120 young people reached")
    out = tmp_path / "q2.xlsx"
    page.export_to(out)
    qtbot.waitUntil(out.exists, timeout=15_000)
    projects = _projects_sheet(out)
    assert projects["A01"]["Outputs and outcomes"] == "=120 young people reached"
    assert "Total" in projects

    window.undo_action.trigger()
    assert stored() == ""


def test_submit_then_a_locked_line_refuses_an_edit(
    qtbot: QtBot,
    window: Any,
    demo_ui_db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ui import dialogs

    page = window.show_page("returns")
    _choose_period(page, "2025/26-Q3")
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "confirm", lambda _p, _t, text, _a="": asked.append(text) or True)
    out = tmp_path / "q3.xlsx"
    monkeypatch.setattr(page, "_ask_path", lambda *a: out)
    page.submit()
    assert "error" in asked[0] and "Submit anyway" in asked[0]  # the check errors come first
    qtbot.waitUntil(out.exists, timeout=15_000)
    with demo_ui_db.read() as session:
        submission = session.scalars(select(Submission)).one()
    assert submission.period == "2025/26-Q3"
    qtbot.waitUntil(lambda: "Submitted v1" in page.status.text())
    assert not page.submit_button.isEnabled() and page.reopen_button.isEnabled()

    spending = window.show_page("spending")
    row = spending.model.line_at(0)
    assert row.date.month == 4
    assert not spending.model.setData(spending.model.index(0, 3), "Changed Ltd")
    with demo_ui_db.read() as session:
        assert session.get_one(SpendLine, row.id).supplier == row.supplier
    assert any("locked" in b.text() for b in message_boxes(window))

    window.show_page("returns")
    assert page.reopen_with("Correcting a miscoded line")
    assert spending.model.setData(spending.model.index(0, 3), "Changed Ltd")
    with demo_ui_db.read() as session:
        assert session.get_one(SpendLine, row.id).supplier == "Changed Ltd"
