"""Editing the grant's details and payments in place on the Grants page (the demo year:
CRG-2025-26, award £42,000.00, 01/04/2025 to 31/03/2026, £28,000.00 received 15/05/2025 and
£14,000.00 expected 15/01/2026)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from fundtracker.models import AuditEvent
from fundtracker.services.grants import load_grant
from fundtracker.storage import Database
from tests.ui.assistant_support import choose, click, find, shot, type_in
from ui.fields import Refusal
from ui.grant_editor import GrantEditor
from ui.main_window import MainWindow

D = Decimal
REF = "CRG-2025-26"


@pytest.fixture
def editor(qtbot: QtBot, window: MainWindow) -> GrantEditor:
    page = window.show_page("grants")
    qtbot.waitUntil(lambda: not page.busy())
    click(qtbot, page, "Edit grant")
    editor = page.editor  # type: ignore[attr-defined]
    assert isinstance(editor, GrantEditor) and editor.isVisible()
    return editor


def refusal(root: QWidget, label: str) -> str:
    widget = find(root, f"{label} problem", QLabel)
    assert isinstance(widget, Refusal)
    return widget.message()


def audit_count(db: Database) -> int:
    with db.read() as session:
        return session.query(AuditEvent).count()


def payments(db: Database) -> list[tuple[date, Decimal, bool, date | None]]:
    return [(p.date, p.amount, p.received, p.received_on) for p in load_grant(db, REF).payments]


def test_change_details_then_undo(
    qtbot: QtBot, window: MainWindow, editor: GrantEditor, demo_ui_db: Database
) -> None:
    details = editor.details
    type_in(qtbot, details, "Grant name", "Crime Reduction Grant 2025/26 (revised)")
    type_in(qtbot, details, "Award", "£43,500.00")
    choose(qtbot, details, "Return frequency", "Half-yearly")
    type_in(qtbot, details, "Conditions", "Spend by 31 March.")
    click(qtbot, details, "Save changes")
    grant = load_grant(demo_ui_db, REF)
    assert (grant.name, grant.award, grant.return_frequency, grant.conditions) == (
        "Crime Reduction Grant 2025/26 (revised)",
        D("43500.00"),
        "half-yearly",
        "Spend by 31 March.",
    )
    shot(window, "grant-editor")
    window.undo_action.trigger()
    grant = load_grant(demo_ui_db, REF)
    assert (grant.name, grant.award) == ("Crime Reduction Grant 2025/26", D("42000.00"))


@pytest.mark.parametrize(
    ("label", "value", "message"),
    [
        ("Award", "42000.005", "fractions of a penny"),
        ("Award", "0", "must be more than £0.00"),
        ("End", "01/01/2025", "is before the start"),
        ("Start", "30/02/2025", "is not a date"),
        ("Grant name", "", "is required"),
    ],
)
def test_bad_details_are_refused_beside_the_field_and_nothing_is_written(
    qtbot: QtBot, editor: GrantEditor, demo_ui_db: Database, label: str, value: str, message: str
) -> None:
    before = audit_count(demo_ui_db)
    type_in(qtbot, editor.details, label, value)
    click(qtbot, editor.details, "Save changes")
    assert message in refusal(editor.details, label)
    assert audit_count(demo_ui_db) == before
    assert load_grant(demo_ui_db, REF).award == D("42000.00")


def test_mark_an_instalment_received_on_a_day(
    qtbot: QtBot, window: MainWindow, editor: GrantEditor, demo_ui_db: Database
) -> None:
    page = editor.payments
    page.list.setCurrentRow(1)  # the £14,000.00 expected on 15/01/2026
    type_in(qtbot, page, "Received on", "20/01/2026")
    click(qtbot, page, "Mark received")
    assert payments(demo_ui_db)[1] == (date(2026, 1, 15), D("14000.00"), True, date(2026, 1, 20))
    window.undo_action.trigger()
    assert payments(demo_ui_db)[1] == (date(2026, 1, 15), D("14000.00"), False, None)


def test_add_change_and_remove_a_payment(
    qtbot: QtBot, editor: GrantEditor, demo_ui_db: Database
) -> None:
    page = editor.payments
    type_in(qtbot, page, "Payment date", "01/03/2026")
    type_in(qtbot, page, "Payment amount", "500")
    choose(qtbot, page, "Received or expected", "Expected")
    type_in(qtbot, page, "Received on", "")
    click(qtbot, page, "Add as a new payment")
    assert payments(demo_ui_db)[-1] == (date(2026, 3, 1), D("500.00"), False, None)
    qtbot.waitUntil(lambda: page.list.count() == 3)
    page.list.setCurrentRow(2)
    type_in(qtbot, page, "Payment amount", "750.50")
    click(qtbot, page, "Save payment")
    assert payments(demo_ui_db)[-1] == (date(2026, 3, 1), D("750.50"), False, None)
    qtbot.waitUntil(lambda: page.list.count() == 3)
    page.list.setCurrentRow(2)
    click(qtbot, page, "Remove payment")
    assert len(payments(demo_ui_db)) == 2


@pytest.mark.parametrize(
    ("label", "value", "message"),
    [
        (
            "Payment date",
            "01/04/2026",
            "01/04/2026 is outside the grant (01/04/2025 to 31/03/2026)",
        ),
        ("Payment amount", "100.001", "fractions of a penny"),
        ("Payment amount", "-5", "must be more than £0.00"),
    ],
)
def test_bad_payments_are_refused_beside_the_field_and_nothing_is_written(
    qtbot: QtBot, editor: GrantEditor, demo_ui_db: Database, label: str, value: str, message: str
) -> None:
    page = editor.payments
    before = (payments(demo_ui_db), audit_count(demo_ui_db))
    page.list.setCurrentRow(1)
    type_in(qtbot, page, label, value)
    click(qtbot, page, "Save payment")
    assert message in refusal(page, label)
    click(qtbot, page, "Add as a new payment")
    assert message in refusal(page, label)
    assert (payments(demo_ui_db), audit_count(demo_ui_db)) == before
    if label == "Payment date":
        shot(page.window(), "grant-editor-refused")
