"""Spending as the officer uses it: type a line, see the dashboard change, undo and redo it,
edit in place, assign, split and delete — asserting on the database."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog, QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from fundtracker.models import AuditEvent, SpendLine
from fundtracker.storage import Database
from tests.ui.conftest import message_boxes

GRANT = "CRG-2025-26"


def _count(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count(SpendLine.id))) or 0)


def _line(db: Database, reference: str) -> SpendLine | None:
    with db.read() as session:
        return session.scalar(select(SpendLine).where(SpendLine.reference == reference))


def _type_line(qtbot: QtBot, page: Any, **fields: str) -> None:
    for name, text in fields.items():
        widget = page.entry[name]
        if isinstance(widget, QComboBox):
            widget.setCurrentIndex(widget.findData(text))
        else:
            assert isinstance(widget, QLineEdit)
            widget.clear()
            qtbot.keyClicks(widget, text)
    qtbot.keyClick(page.entry["net"], Qt.Key.Key_Return)


def test_type_a_line_see_the_dashboard_change_undo_and_redo(
    qtbot: QtBot, window: Any, demo_ui_db: Database
) -> None:
    dashboard = window.show_page("dashboard")
    dashboard.period_box.setCurrentIndex(dashboard.period_box.findData("2025/26"))
    spent = dashboard.tiles["spend_to_date"].value
    before_text = spent.text()
    before = _count(demo_ui_db)

    page = window.show_page("spending")
    _type_line(
        qtbot,
        page,
        date="03/07/25",
        allocation="A01",
        supplier="Kent Youth Trust",
        reference="UI-1",
        net="£1,000.50",
    )
    line = _line(demo_ui_db, "UI-1")
    assert line is not None and line.net == Decimal("1000.50")
    assert line.date.isoformat() == "2025-07-03" and line.allocation_id is not None
    assert _count(demo_ui_db) == before + 1
    assert page.entry["net"].text() == ""  # ready for the next line
    assert [r.id for r in page.selected_rows()] == [line.id]  # and the new line is shown

    window.show_page("dashboard")
    after_text = spent.text()
    assert after_text != before_text
    before_amount = Decimal(before_text.strip("£").replace(",", ""))
    assert Decimal(after_text.strip("£").replace(",", "")) - before_amount == Decimal("1000.50")

    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _line(demo_ui_db, "UI-1") is None
    qtbot.waitUntil(lambda: spent.text() == before_text)

    qtbot.keyClick(
        window,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert _line(demo_ui_db, "UI-1") is not None
    qtbot.waitUntil(lambda: spent.text() == after_text)


def test_bad_fields_are_shown_beside_them_and_nothing_is_added(
    qtbot: QtBot, window: Any, demo_ui_db: Database
) -> None:
    page = window.show_page("spending")
    before = _count(demo_ui_db)
    _type_line(qtbot, page, date="31/02/2025", reference="BAD", net="12.345")
    assert _count(demo_ui_db) == before
    assert page.entry["date"].property("invalid") is True
    assert page.entry["net"].property("invalid") is True
    assert "fractions of a penny" in page.entry["net"].toolTip()
    assert "date" in page.entry_error.text()
    assert window.workspace.undo_stack.count() == 0


def test_edit_in_place_then_undo_restores_the_old_value(
    qtbot: QtBot, window: Any, demo_ui_db: Database
) -> None:
    page = window.show_page("spending")
    model = page.model
    row = model.line_at(0)
    supplier_column = 3  # after Line, Date, Project
    index = model.index(0, supplier_column)
    page.table.setCurrentIndex(index)
    page.table.edit(index)
    (editor,) = [e for e in page.table.viewport().findChildren(QLineEdit) if e.isVisible()]
    editor.selectAll()
    qtbot.keyClicks(editor, "Renamed Supplier Ltd")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits on the next event

    def stored() -> str:
        with demo_ui_db.read() as session:
            return session.get_one(SpendLine, row.id).supplier

    qtbot.waitUntil(lambda: stored() == "Renamed Supplier Ltd")
    qtbot.waitUntil(lambda: model.line_at(0).supplier == "Renamed Supplier Ltd")
    window.undo_action.trigger()
    assert stored() == row.supplier
    with demo_ui_db.read() as session:
        reasons = session.scalars(
            select(AuditEvent.reason).where(AuditEvent.entity_id == row.id)
        ).all()
    assert f"undo: Change supplier of line {row.id}" in reasons


def test_a_stale_edit_is_refused_as_a_conflict(
    qtbot: QtBot, window: Any, demo_ui_db: Database
) -> None:
    from fundtracker.services.spend import update_spend

    page = window.show_page("spending")
    row = page.model.line_at(0)
    update_spend(demo_ui_db, row.id, {"notes": "changed elsewhere"})  # another user
    assert not page.model.setData(page.model.index(0, 3), "Mine Ltd")
    with demo_ui_db.read() as session:
        assert session.get_one(SpendLine, row.id).supplier == row.supplier
    assert any("someone else" in b.text() for b in message_boxes(window))


def test_assign_split_and_delete_selected_lines(
    qtbot: QtBot, window: Any, demo_ui_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui import dialogs

    page = window.show_page("spending")
    page.unassigned_only.setChecked(True)
    assert page.model.rowCount() == 1
    line_id = page.model.line_at(0).id
    page.table.selectRow(0)
    monkeypatch.setattr(dialogs, "ask_choice", lambda *a: "A05 Cuckooing awareness campaign")
    page.assign_selected()
    with demo_ui_db.read() as session:
        assert session.get_one(SpendLine, line_id).allocation.code == "A05"  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: page.model.rowCount() == 0)  # no longer unassigned

    page.unassigned_only.setChecked(False)
    assert page.select_line(line_id)
    page.split_selected()
    (dialog,) = [w for w in window.findChildren(QDialog) if w.objectName() == "splitDialog"]
    (_c1, first), (combo, second) = dialog.parts
    combo.setCurrentIndex(combo.findData("A02"))
    first.setText("50.00")
    second.setText("1.00")
    dialog.split()
    assert "must add up" in dialog.error.text()  # refused, dialog stays open
    second.setText(str(Decimal("86.40") - Decimal("50.00")))
    dialog.split()
    with demo_ui_db.read() as session:
        parts = session.scalars(select(SpendLine).where(SpendLine.reference == "INV88120")).all()
    assert sorted(p.net for p in parts) == [Decimal("36.40"), Decimal("50.00")]

    window.undo_action.trigger()  # undo the split
    with demo_ui_db.read() as session:
        parts = session.scalars(select(SpendLine).where(SpendLine.reference == "INV88120")).all()
    assert [p.net for p in parts] == [Decimal("86.40")]

    qtbot.waitUntil(lambda: not page._stale)  # the table shows the line as it is now
    before = _count(demo_ui_db)
    assert page.select_line(line_id)
    monkeypatch.setattr(dialogs, "confirm", lambda *a: True)
    window.activateWindow()
    page.table.setFocus()
    qtbot.waitUntil(page.table.hasFocus)
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert _count(demo_ui_db) == before - 1
    window.undo_action.trigger()
    assert _count(demo_ui_db) == before


def test_filters_narrow_the_ledger_in_sql(qtbot: QtBot, window: Any) -> None:
    page = window.show_page("spending")
    qtbot.waitUntil(lambda: page.model.summary.lines > 0)
    total = page.model.summary.lines
    assert page.summary.text().startswith(f"{total} lines")
    page.status_filter.setCurrentIndex(page.status_filter.findData("committed"))
    assert len(page.model.rows) == 5  # the page itself is read at once
    assert all(r.status == "committed" for r in page.model.rows)
    qtbot.waitUntil(lambda: page.model.summary.lines == 5)  # the totals follow
    assert page.summary.text().startswith("5 lines")
    page.clear_filters()
    qtbot.keyClicks(page.search, "credit note")
    qtbot.waitUntil(lambda: page.model.summary.lines == 2)
    page.clear_filters()
    qtbot.waitUntil(lambda: page.model.summary.lines == total)


def test_an_undo_the_lock_refuses_is_explained_and_dropped(
    qtbot: QtBot, window: Any, demo_ui_db: Database, tmp_path: Any
) -> None:
    from fundtracker.periods import Period
    from fundtracker.returns.submission import export_return

    page = window.show_page("spending")
    _type_line(qtbot, page, date="10/05/2025", allocation="A01", reference="UI-LOCK", net="10")
    assert _line(demo_ui_db, "UI-LOCK") is not None
    export_return(demo_ui_db, GRANT, Period.parse("2025/26-Q1"), tmp_path / "q1.xlsx", submit=True)
    window.undo_action.trigger()
    assert _line(demo_ui_db, "UI-LOCK") is not None  # the submitted return keeps it
    assert any("locked" in b.text() for b in message_boxes(window))
    assert window.workspace.undo_stack.count() == 0


def test_fast_entry_by_keyboard_alone(qtbot: QtBot, window: Any, demo_ui_db: Database) -> None:
    page = window.show_page("spending")
    window.activateWindow()
    page.entry["date"].setFocus()
    qtbot.waitUntil(page.entry["date"].hasFocus)
    for text in ["01/08/2025", "A03", "West Kent DA Forum", "Session", "KEY-1", "250", "50"]:
        qtbot.keyClicks(window.focusWidget(), text)
        qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Tab)
    assert window.focusWidget() is page.entry["status"]
    qtbot.keyClick(page.entry["vat"], Qt.Key.Key_Return)
    from fundtracker.services.spend import get_spend

    found = _line(demo_ui_db, "KEY-1")
    assert found is not None
    line = get_spend(demo_ui_db, found.id)
    assert line.allocation is not None
    assert (line.allocation.code, line.supplier, line.net, line.vat) == (
        "A03",
        "West Kent DA Forum",
        Decimal("250.00"),
        Decimal("50.00"),
    )


def test_after_a_purchase_order_the_next_line_typed_is_paid(
    qtbot: QtBot, window: Any, demo_ui_db: Database
) -> None:
    # The status used to stay "committed" after adding a purchase order, so the invoice typed
    # next went in as a second commitment: spend understated, nothing said.
    page = window.show_page("spending")
    _type_line(qtbot, page, date="03/07/25", allocation="A01", reference="PO-9",
               net="500.00", status="committed")  # fmt: skip
    order = _line(demo_ui_db, "PO-9")
    assert order is not None and order.status == "committed"
    assert page.entry["status"].currentData() == "paid"
    assert page.entry["allocation"].currentData() == "A01"  # the project stays for the next
    _type_line(qtbot, page, date="04/07/25", reference="INV-9", net="500.00")
    invoice = _line(demo_ui_db, "INV-9")
    assert invoice is not None and invoice.status == "paid"
