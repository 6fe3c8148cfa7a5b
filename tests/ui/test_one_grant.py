"""One truth in the window (issue 11's *Why*): the selector, every page and every edit follow
the workspace's one current grant, and undo never overwrites someone else's change or does
half an action. Each test here failed on the code before core operations."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from fundtracker.models import AuditEvent, Grant, SpendLine
from fundtracker.services.grants import grant_spec, load_grant
from fundtracker.services.spend import update_spend
from fundtracker.setup_files import grant_to_toml
from fundtracker.storage import Database
from tests.ui.conftest import message_boxes

GRANT = "CRG-2025-26"
NEXT = "CRG-2026-27"
COLUMN = {"lead": 2, "budget": 5}  # of the Projects table


def _type_in_cell(page: Any, code: str, field: str, text: str) -> bool:
    """Edit a cell of the Projects table as the table's editor does."""
    page.reload()
    row = [a.code for a in page.model.allocations].index(code)
    return bool(page.model.setData(page.model.index(row, COLUMN[field]), text))


def _next_year_file(db: Database, folder: Path) -> Path:
    """The demo grant's file, as next year's grant (its own reference and dates)."""
    spec = grant_spec(load_grant(db, GRANT))
    payments = [replace(p, date=p.date.replace(year=p.date.year + 1)) for p in spec.payments]
    spec = replace(
        spec,
        reference=NEXT,
        name="Crime Reduction Grant 2026/27",
        start=date(2026, 4, 1),
        end=date(2027, 3, 31),
        payments=payments,
    )
    path = folder / f"{NEXT}.toml"
    path.write_text(grant_to_toml(spec), encoding="utf-8")
    return path


def _lines_of(db: Database, reference: str) -> int:
    with db.read() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(SpendLine)
                .join(Grant)
                .where(Grant.reference == reference)
            )
            or 0
        )


def test_importing_a_grant_file_makes_that_grant_current_everywhere(
    qtbot: QtBot, window: Any, demo_ui_db: Database, tmp_path: Path
) -> None:
    grants = window.show_page("grants")
    assert grants.import_path(_next_year_file(demo_ui_db, tmp_path))
    # The selector, the workspace and the pages agree on the imported grant ...
    assert window.grant_box.currentData() == NEXT
    assert window.workspace.grant == NEXT
    spending = window.show_page("spending")
    qtbot.waitUntil(lambda: not spending._stale)
    assert spending.model.grant == NEXT and spending.model.rowCount() == 0
    # ... and choosing the first grant again really goes back to it.
    window.grant_box.setCurrentIndex(window.grant_box.findData(GRANT))
    assert window.workspace.grant == GRANT
    qtbot.waitUntil(lambda: spending.model.rowCount() > 0)
    assert spending.model.grant == GRANT
    # Undo of the import removes the grant it created; the selector follows.
    window.undo_action.trigger()
    assert window.grant_box.findData(NEXT) == -1
    assert window.workspace.grant == GRANT


def test_switching_grant_on_the_spending_page_shows_and_adds_to_that_grant(
    qtbot: QtBot, window: Any, demo_ui_db: Database, tmp_path: Path
) -> None:
    window.show_page("grants").import_path(_next_year_file(demo_ui_db, tmp_path))
    window.grant_box.setCurrentIndex(window.grant_box.findData(GRANT))
    page = window.show_page("spending")
    qtbot.waitUntil(lambda: page.model.rowCount() > 0)
    page.entry["supplier"].setText("Half typed for the old grant")

    window.grant_box.setCurrentIndex(window.grant_box.findData(NEXT))
    qtbot.waitUntil(lambda: page.model.grant == NEXT)
    assert page.model.rowCount() == 0  # none of the old grant's lines are shown
    assert page.entry["supplier"].text() == ""  # nor its half-typed line

    for field, text in (("date", "05/05/2026"), ("net", "12.50"), ("supplier", "New Year Ltd")):
        page.entry[field].setText(text)
    page.add_entry()
    assert _lines_of(demo_ui_db, NEXT) == 1
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    assert page.model.line_at(0).supplier == "New Year Ltd"


def test_undo_in_one_window_never_overwrites_a_change_made_in_another(
    qtbot: QtBot, window: Any, demo_ui_db: Database
) -> None:
    from ui.main_window import MainWindow
    from ui.workspace import Workspace

    other = MainWindow(Workspace(demo_ui_db))
    qtbot.addWidget(other)
    mine, theirs = window.show_page("projects"), other.show_page("projects")
    lead = {a.code: a.lead for a in load_grant(demo_ui_db, GRANT).allocations}["A01"]
    assert _type_in_cell(mine, "A01", "lead", "Mine Partnership")
    assert _type_in_cell(theirs, "A02", "budget", "4750.00")

    # My undo changes back only what I changed: their budget stands.
    window.undo_action.trigger()
    projects = {a.code: a for a in load_grant(demo_ui_db, GRANT).allocations}
    assert projects["A01"].lead == lead
    assert projects["A02"].budget == Decimal("4750.00")

    # When they change the very project I changed, my undo is refused, saying so.
    window.redo_action.trigger()
    assert _type_in_cell(theirs, "A01", "lead", "Their Partnership")
    window.undo_action.trigger()
    projects = {a.code: a for a in load_grant(demo_ui_db, GRANT).allocations}
    assert projects["A01"].lead == "Their Partnership"
    assert any("someone else" in box.text() for box in message_boxes(window))


def test_deleting_lines_one_of_which_changed_elsewhere_deletes_none(
    qtbot: QtBot, window: Any, demo_ui_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui import dialogs

    page = window.show_page("spending")
    qtbot.waitUntil(lambda: page.model.rowCount() > 2)
    first, second = page.model.line_at(0), page.model.line_at(1)
    update_spend(demo_ui_db, second.id, {"notes": "changed by a colleague"})
    page.table.selectRow(0)
    page.table.selectionModel().select(
        page.model.index(1, 0),
        page.table.selectionModel().SelectionFlag.Select
        | page.table.selectionModel().SelectionFlag.Rows,
    )
    assert [r.id for r in page.selected_rows()] == [first.id, second.id]
    monkeypatch.setattr(dialogs, "confirm", lambda *a: True)
    steps = window.workspace.undo_stack.count()
    page.delete_selected()

    with demo_ui_db.read() as session:
        assert session.get(SpendLine, first.id) is not None  # not half deleted
        assert session.get(SpendLine, second.id) is not None
    assert window.workspace.undo_stack.count() == steps  # no step promised that can't be kept
    assert any("someone else" in box.text() for box in message_boxes(window))


def test_every_undo_is_in_the_audit_log(qtbot: QtBot, window: Any, demo_ui_db: Database) -> None:
    page = window.show_page("projects")
    assert _type_in_cell(page, "A01", "lead", "Audited Partnership")
    window.undo_action.trigger()
    window.redo_action.trigger()
    with demo_ui_db.read() as session:
        reasons = list(session.scalars(select(AuditEvent.reason)))
    assert any(r.startswith("undo: ") and "A01" in r for r in reasons)
    assert any(r.startswith("redo: ") and "A01" in r for r in reasons)
