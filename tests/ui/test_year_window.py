"""The year in the window (issue 13): Record a virement… on the Projects page, Release
commitment… and Record the invoice… on the Spending page, Start next year's grant… on the
Returns page. Each is one step: asserted on the database, then undone.

Set FUNDTRACKER_DIALOG_SCREENSHOTS=DIR to save each dialog as it is filled in (the pictures in
docs/screenshots/year-*.png are made so)."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialogButtonBox, QLineEdit, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from fundtracker.models import Grant, SpendLine
from fundtracker.operations import run_operation
from fundtracker.operations.year import CloseGrant, StartNextYear
from fundtracker.periods import Period
from fundtracker.returns.submission import export_return
from fundtracker.services.grants import get_grant
from fundtracker.services.spend import add_spend, release_commitment
from fundtracker.services.virements import list_virements
from fundtracker.storage import Database
from ui.year_dialogs import CarryForwardDialog, InvoiceDialog, OperationForm, ReleaseDialog

GRANT = "CRG-2025-26"  # the demo year: no return submitted, five open commitments
Form = TypeVar("Form", bound=OperationForm)


def _screenshot(dialog: QWidget, name: str) -> None:
    folder = os.environ.get("FUNDTRACKER_DIALOG_SCREENSHOTS")
    if folder:
        dialog.grab().save(str(Path(folder) / f"year-{name}.png"))


def _type(qtbot: QtBot, form: OperationForm, **values: str) -> None:
    for name, text in values.items():
        edit = form.fields[name]
        assert isinstance(edit, QLineEdit)
        edit.clear()
        qtbot.keyClicks(edit, text)


def _choose(form: OperationForm, name: str, data: object) -> None:
    combo = form.fields[name]
    assert isinstance(combo, QComboBox)
    combo.setCurrentIndex(combo.findData(data))


def _ok(qtbot: QtBot, form: OperationForm) -> None:
    qtbot.mouseClick(
        form.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton
    )


def _opened(page: QWidget, kind: type[Form]) -> Form:
    found = [d for d in page.findChildren(kind) if d.isVisible()]
    assert len(found) == 1, found
    return found[0]


def _line(db: Database, line_id: int) -> SpendLine:
    with db.read() as session:
        return session.get_one(SpendLine, line_id)


def _lines_of(db: Database, reference: str) -> list[SpendLine]:
    with db.read() as session:
        grant = get_grant(session, reference)
        return list(session.scalars(select(SpendLine).where(SpendLine.grant_id == grant.id)))


def test_record_a_virement_then_undo(qtbot: QtBot, window: Any, demo_ui_db: Database) -> None:
    page = window.show_page("projects")
    assert page.model.headerData(5, Qt.Orientation.Horizontal) == "Budget"
    assert page.profile_note.isHidden()  # quarters add up to the budget: nothing to explain
    dialog = page.record_virement()
    _choose(dialog, "from", "A06")
    _choose(dialog, "to", "A01")
    # A sub-penny amount is refused beside its field; nothing is recorded, the form stays.
    _type(
        qtbot,
        dialog,
        amount="500.005",
        approval="OPCC/VIR/2025/03",
        approved_on="20/09/2025",
        effective="01/10/2025",
        note="Workshops moved online",
    )
    _ok(qtbot, dialog)
    assert dialog.isVisible() and dialog.fields["amount"].property("invalid") is True
    assert "amount" in dialog.error.text()
    _screenshot(dialog, "virement-refused")
    assert list_virements(demo_ui_db, GRANT) == []
    _type(qtbot, dialog, amount="500.00")
    assert dialog.error.text() == ""  # typing puts the refusal away
    _screenshot(dialog, "virement")
    _ok(qtbot, dialog)
    assert not dialog.isVisible()
    recorded = list_virements(demo_ui_db, GRANT)
    assert [(v["from"], v["to"], v["amount"], v["approval"]) for v in recorded] == [
        ("A06", "A01", "500.00", "OPCC/VIR/2025/03")
    ]
    assert (recorded[0]["approved_on"], recorded[0]["effective"]) == ("2025-09-20", "2025-10-01")
    # The table: original budgets, then what moved and the budget now, before the quarters.
    # A01 8,000.00 + 500.00 = 8,500.00; A06 2,500.00 − 500.00 = 2,000.00.
    model = page.model
    qtbot.waitUntil(lambda: model.headerData(5, Qt.Orientation.Horizontal) == "Original budget")
    columns = {
        model.headerData(c, Qt.Orientation.Horizontal): c for c in range(model.columnCount())
    }
    assert columns["Virements"] == columns["Original budget"] + 1
    assert columns["Budget after virements"] == columns["Original budget"] + 2
    rows = {a.code: r for r, a in enumerate(model.allocations)}

    def cell(code: str, header: str) -> str:
        return str(model.index(rows[code], columns[header]).data())

    assert (cell("A01", "Virements"), cell("A01", "Budget after virements")) == (
        "£500.00",
        "£8,500.00",
    )
    assert (cell("A06", "Virements"), cell("A06", "Budget after virements")) == (
        "-£500.00",
        "£2,000.00",
    )

    # The quarters (the profile as set) no longer add up to the budget after virements: the
    # page says what they are.
    assert not page.profile_note.isHidden()
    assert "profile as set, of its original budget" in page.profile_note.text()
    _screenshot(window, "projects-virements")
    window.workspace.undo_stack.undo()
    assert list_virements(demo_ui_db, GRANT) == []
    qtbot.waitUntil(
        lambda: (
            "Virements"
            not in {
                page.model.headerData(c, Qt.Orientation.Horizontal)
                for c in range(page.model.columnCount())
            }
        )
    )
    window.workspace.undo_stack.redo()
    assert len(list_virements(demo_ui_db, GRANT)) == 1


def test_release_a_commitment_then_undo(qtbot: QtBot, window: Any, demo_ui_db: Database) -> None:
    page = window.show_page("spending")
    assert page.select_line(122)  # CCTV Solutions, A07, committed 2,350.00
    _screenshot(window, "spending-commitments")
    page.release_button.click()
    dialog = _opened(page, ReleaseDialog)
    _type(qtbot, dialog, on="31/03/2026")
    _screenshot(dialog, "release-commitment")
    _ok(qtbot, dialog)
    assert not dialog.isVisible()
    assert _line(demo_ui_db, 122).released_on == date(2026, 3, 31)
    window.workspace.undo_stack.undo()
    assert _line(demo_ui_db, 122).released_on is None


def test_record_the_invoice_as_a_new_line_then_undo(
    qtbot: QtBot, window: Any, demo_ui_db: Database
) -> None:
    page = window.show_page("spending")
    before = {line.id for line in _lines_of(demo_ui_db, GRANT)}
    assert page.select_line(125)  # Kent Youth Trust, A01, committed 1,200.00
    page.invoice_button.click()
    dialog = _opened(page, InvoiceDialog)
    _type(qtbot, dialog, date="12/01/2026", net="1180.00", reference="KYT-INV-77")
    _screenshot(dialog, "record-invoice")
    _ok(qtbot, dialog)
    new = [line for line in _lines_of(demo_ui_db, GRANT) if line.id not in before]
    assert [(n.date, n.net, n.reference, n.status) for n in new] == [
        (date(2026, 1, 12), Decimal("1180.00"), "KYT-INV-77", "paid")
    ]
    # Released on the day the invoice counts: the 1,200.00 is committed no more, the 1,180.00
    # is spend, so the money is counted once.
    assert _line(demo_ui_db, 125).released_on == date(2026, 1, 12)
    window.workspace.undo_stack.undo()  # one step: the invoice line goes, the PO is open again
    assert {line.id for line in _lines_of(demo_ui_db, GRANT)} == before
    assert _line(demo_ui_db, 125).released_on is None


def test_match_the_invoice_to_an_imported_line_then_undo(
    qtbot: QtBot, window: Any, demo_ui_db: Database
) -> None:
    page = window.show_page("spending")
    assert page.select_line(129)  # West Kent DA Forum, A03, committed 1,800.00
    page.invoice_button.click()
    dialog = _opened(page, InvoiceDialog)
    dialog.match.setChecked(True)
    combo = dialog.fields["actual"]
    assert isinstance(combo, QComboBox) and combo.count() > 0 and combo.isEnabled()
    actual = _line(demo_ui_db, int(combo.currentData()))
    assert actual.status != "committed"
    _ok(qtbot, dialog)
    assert _line(demo_ui_db, 129).released_on == actual.counted_on
    window.workspace.undo_stack.undo()
    assert _line(demo_ui_db, 129).released_on is None
    assert _line(demo_ui_db, actual.id).net == actual.net  # the matched line is untouched


def _close_the_demo_year(db: Database, folder: Path) -> int:
    """Release the commitments in March, add an April line that landed in this grant, record
    Q4 as submitted and close the year. Returns the April line's id."""
    with db.read() as session:
        open_ids = session.scalars(select(SpendLine.id).where(SpendLine.status == "committed"))
        ids = list(open_ids)
    for line_id in ids:
        release_commitment(db, line_id, on=date(2026, 3, 20))
    april = add_spend(
        db,
        GRANT,
        {
            "date": "10/04/2026",
            "net": "320.00",
            "allocation": "A01",
            "supplier": "Kent Youth Trust",
            "reference": "KYT-APR",
        },
    )
    period = Period.parse("2025/26-Q4")
    export_return(db, GRANT, period, folder / "q4.xlsx", prepared_by="officer", submit=True)
    run_operation(db, CloseGrant(GRANT, "year end"))
    return april.id


def test_start_next_year_moving_the_april_line_then_undo(
    qtbot: QtBot, window: Any, demo_ui_db: Database, tmp_path: Path
) -> None:
    april = _close_the_demo_year(demo_ui_db, tmp_path)
    page = window.show_page("returns")
    page.reload()
    assert page.next_year_button.isEnabled()
    _screenshot(window, "returns-next-year")
    dialog = page.start_next_year()
    assert dialog.move_lines.isChecked() and "1 line(s)" in dialog.move_lines.text()
    # No reference yet: refused beside the field, nothing created, the form stays open.
    _type(qtbot, dialog, award="21000.00")
    _ok(qtbot, dialog)
    assert dialog.isVisible() and dialog.fields["reference"].property("invalid") is True
    with demo_ui_db.read() as session:
        assert len(session.scalars(select(Grant.id)).all()) == 1
    _type(qtbot, dialog, reference="CRG-2026-27", award="21000.00")
    _screenshot(dialog, "next-year")
    _ok(qtbot, dialog)
    assert not dialog.isVisible()
    with demo_ui_db.read() as session:
        new = get_grant(session, "CRG-2026-27")
        # Allocated 41,500.00 of 42,000.00 × 21,000 ÷ 42,000 = 20,750.00.
        assert (new.award, new.start_date, new.end_date) == (
            Decimal("21000.00"),
            date(2026, 4, 1),
            date(2027, 3, 31),
        )
        assert sum(a.budget for a in new.allocations) == Decimal("20750.00")
    moved = _line(demo_ui_db, april)
    assert [line.id for line in _lines_of(demo_ui_db, "CRG-2026-27")] == [april]
    assert moved.allocation_id is not None
    assert window.workspace.grant == "CRG-2026-27"  # the new grant is the current one

    window.workspace.undo_stack.undo()  # one step: the line goes back, the grant is removed
    with demo_ui_db.read() as session:
        assert session.scalar(select(Grant.id).where(Grant.reference == "CRG-2026-27")) is None
    assert april in {line.id for line in _lines_of(demo_ui_db, GRANT)}


def test_carry_a_commitment_forward_then_undo(
    qtbot: QtBot, window: Any, demo_ui_db: Database
) -> None:
    # Next year's grant first (the window offers it once the last return is submitted; the
    # core any time): the demo's projects, so A07 is there too.
    run_operation(demo_ui_db, StartNextYear(GRANT, "CRG-2026-27", None, None))
    window.workspace.set_grant(GRANT)
    page = window.show_page("spending")
    assert page.select_line(122)  # CCTV Solutions, A07, committed 2,350.00
    menu = page.context_menu()
    assert "Carry forward…" in [action.text() for action in menu.actions()]
    page.carry_button.click()
    dialog = _opened(page, CarryForwardDialog)
    combo = dialog.fields["to"]
    assert isinstance(combo, QComboBox)
    assert [combo.itemData(i) for i in range(combo.count())] == ["CRG-2026-27"]
    _screenshot(dialog, "carry-forward")
    _ok(qtbot, dialog)
    assert not dialog.isVisible()
    [carried] = _lines_of(demo_ui_db, "CRG-2026-27")
    assert (carried.status, carried.date, carried.net) == (
        "committed",
        date(2026, 4, 1),
        Decimal("2350.00"),
    )
    assert _line(demo_ui_db, 122).released_on == date(2026, 4, 1)

    window.workspace.undo_stack.undo()
    assert _lines_of(demo_ui_db, "CRG-2026-27") == []
    assert _line(demo_ui_db, 122).released_on is None


def test_carry_forward_with_no_later_grant_says_to_start_one(window: Any) -> None:
    page = window.show_page("spending")
    assert page.select_line(122)
    page.carry_button.click()
    dialog = _opened(page, CarryForwardDialog)
    assert "start next year's grant first" in dialog.error.text()
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()


def test_next_years_grant_can_start_before_the_last_return(window: Any) -> None:
    # April's invoices arrive before Q4's return is done: the check says to move them to the
    # right grant, so the window must offer next year's grant then (it offered it only once
    # the year's last return was submitted, after the return it should have been kept out of).
    page = window.show_page("returns")
    page.reload()
    assert page.next_year_button.isEnabled()
