"""The Rules panel and every field of a spend line on the Spending page, driven by clicks and
typing, checked against the database (the demo year CRG-2025-26, whose ledger has one
unassigned line)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QMenu, QTableView, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from fundtracker.ledger import rules
from fundtracker.models import SpendLine
from fundtracker.presenters.rules import rule_rows
from fundtracker.services.ledger_view import LedgerRow
from fundtracker.storage import Database
from tests.ui.assistant_support import choose, click, find, shot, type_in
from ui import dialogs
from ui.models.spend_model import COLUMNS
from ui.rules import RuleEditor, RulesDialog

GRANT = "CRG-2025-26"
COLUMN = {c.header: n for n, c in enumerate(COLUMNS)}


def _line(db: Database, line_id: int) -> SpendLine:
    with db.read() as session:
        line = session.get_one(SpendLine, line_id)
        _ = line.allocation
        return line


def _code(db: Database, line_id: int) -> str | None:
    line = _line(db, line_id)
    return line.allocation.code if line.allocation else None


def _unassigned_row(qtbot: QtBot, page: Any) -> LedgerRow:
    page.unassigned_only.setChecked(True)
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    row: LedgerRow = page.model.line_at(0)
    page.table.selectRow(0)
    return row


def _refusal(root: QWidget, label: str) -> str:
    widget = find(root, f"{label} problem", QLabel)
    assert isinstance(widget, QLabel)
    return widget.text()


@pytest.fixture
def no_rules(demo_ui_db: Database) -> None:
    for rule in rules.list_rules(demo_ui_db, GRANT):
        rules.delete_rule(demo_ui_db, rule.id)


def test_the_line_number_leads_and_every_field_is_shown_and_edited(
    qtbot: QtBot, window: Any, demo_ui_db: Database
) -> None:
    page = window.show_page("spending")
    model = page.model
    row = model.line_at(0)
    assert COLUMNS[0].header == "Line" and model.index(0, 0).data() == str(row.id)
    assert {"Account code", "VAT irrecoverable", "Notes"} <= set(COLUMN)

    # Tick VAT irrecoverable, as a click on the tick box does.
    tick = model.index(0, COLUMN["VAT irrecoverable"])
    assert tick.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert model.flags(tick) & Qt.ItemFlag.ItemIsUserCheckable
    assert model.setData(tick, Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert _line(demo_ui_db, row.id).vat_recoverable is False
    qtbot.waitUntil(lambda: model.index(0, COLUMN["VAT irrecoverable"]).data(
        Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked)  # fmt: skip

    # Account code and notes typed in place.
    for header, text in (("Account code", "4410"), ("Notes", "Invoice queried 3 June")):
        index = model.index(0, COLUMN[header])
        page.table.setCurrentIndex(index)
        page.table.edit(index)
        (editor,) = [e for e in page.table.viewport().findChildren(QLineEdit) if e.isVisible()]
        editor.selectAll()
        qtbot.keyClicks(editor, text)
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        field = COLUMNS[COLUMN[header]].field
        qtbot.waitUntil(lambda f=field, t=text: getattr(_line(demo_ui_db, row.id), f) == t)  # type: ignore[misc]
        qtbot.waitUntil(lambda: not page.busy())
    # Three steps, undone one by one: the notes, the account code, the tick.
    for _step in range(3):
        window.undo_action.trigger()
    line = _line(demo_ui_db, row.id)
    assert (line.vat_recoverable, line.account_code, line.notes) == (
        row.vat_recoverable,
        row.account_code,
        row.notes,
    )


def test_make_a_rule_from_a_line_preview_save_and_apply(
    qtbot: QtBot, window: Any, demo_ui_db: Database, no_rules: None
) -> None:
    page = window.show_page("spending")
    row = _unassigned_row(qtbot, page)
    editor = page.make_rule_from_line()
    assert isinstance(editor, RuleEditor)
    qtbot.waitExposed(editor)
    # Prefilled from the line: supplier equals its supplier; the preview finds the line.
    assert editor.typed()["field"] == "supplier" and editor.typed()["op"] == "equals"
    assert editor.typed()["value"] == row.supplier.strip()
    assert editor.preview_model.rows[0].id == row.id
    assert editor.preview_text.text().startswith("Would assign 1 unassigned line, net ")
    choose(qtbot, editor, "Project", "A02")
    shot(editor, "rule-editor")
    editor.save()
    assert [(r.field, r.value, r.allocation) for r in rule_rows(demo_ui_db, GRANT)] == [
        ("supplier", row.supplier.strip(), "A02")
    ]
    assert _code(demo_ui_db, row.id) is None  # saving a rule assigns nothing by itself

    panel = page.open_rules()
    assert isinstance(panel, RulesDialog)
    qtbot.waitExposed(panel)
    assert panel.model.rowCount() == 1
    click(qtbot, panel, "Apply rules to unassigned lines")
    assert _code(demo_ui_db, row.id) == "A02"
    assert panel.result_label.text() == "Applied the rules: assigned 1 line. Ctrl+Z undoes it."
    qtbot.waitUntil(lambda: page.model.rowCount() == 0)  # no unassigned line is left
    window.undo_action.trigger()  # one step puts the line back
    assert _code(demo_ui_db, row.id) is None
    panel.close()


def test_rules_panel_add_refuse_move_delete_and_undo(
    qtbot: QtBot,
    window: Any,
    demo_ui_db: Database,
    no_rules: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = window.show_page("spending")
    panel = page.open_rules()
    qtbot.waitExposed(panel)

    def add(value: str, project: str, op: str = "contains") -> RuleEditor:
        click(qtbot, panel, "Add rule…")
        (editor,) = [w for w in panel.findChildren(RuleEditor) if w.isVisible()]
        choose(qtbot, editor, "Test", op)
        type_in(qtbot, editor, "Value", value)
        choose(qtbot, editor, "Project", project)
        editor.save()
        assert isinstance(editor, RuleEditor)
        return editor

    refused = add("(unclosed", "A01", op="matches")  # not a regular expression
    assert "is not a regular expression" in _refusal(refused, "Value")
    assert refused.isVisible() and rule_rows(demo_ui_db, GRANT) == []
    refused.reject()
    add("Kent Fire", "A01")
    add("Age UK", "A02")
    add("Youth", "A03")
    assert [r.value for r in rule_rows(demo_ui_db, GRANT)] == ["Kent Fire", "Age UK", "Youth"]
    qtbot.waitUntil(lambda: panel.model.rowCount() == 3)
    shot(panel, "rules")

    panel.table.selectRow(2)
    click(qtbot, panel, "Move up")
    assert [r.value for r in rule_rows(demo_ui_db, GRANT)] == ["Kent Fire", "Youth", "Age UK"]
    assert panel.selected() is not None and panel.selected().value == "Youth"
    click(qtbot, panel, "Move up")
    assert [r.value for r in rule_rows(demo_ui_db, GRANT)] == ["Youth", "Kent Fire", "Age UK"]

    # Edit the selected rule: a new value, the same place.
    editor = panel.edit_selected()
    assert editor is not None
    type_in(qtbot, editor, "Value", "Youth club")
    editor.save()
    assert [r.value for r in rule_rows(demo_ui_db, GRANT)] == ["Youth club", "Kent Fire", "Age UK"]

    monkeypatch.setattr(dialogs, "confirm", lambda *_a: True)
    panel.table.selectRow(1)
    click(qtbot, panel, "Delete…")
    assert [r.value for r in rule_rows(demo_ui_db, GRANT)] == ["Youth club", "Age UK"]
    window.undo_action.trigger()  # the rule comes back in its place
    assert [r.value for r in rule_rows(demo_ui_db, GRANT)] == ["Youth club", "Kent Fire", "Age UK"]
    window.undo_action.trigger()  # the edit
    window.undo_action.trigger()  # the second move
    assert [r.value for r in rule_rows(demo_ui_db, GRANT)] == ["Kent Fire", "Youth", "Age UK"]
    qtbot.waitUntil(lambda: [r.value for r in panel.model.rows] == ["Kent Fire", "Youth", "Age UK"])
    table = find(panel, "Assignment rules", QTableView)
    assert isinstance(table, QTableView) and table.model() is panel.model
    with demo_ui_db.read() as session:
        assert session.scalars(select(SpendLine.id)).first() is not None
    panel.close()


def test_the_context_menu_makes_a_rule_and_the_imports_page_opens_the_rules(
    qtbot: QtBot, window: Any, demo_ui_db: Database, no_rules: None
) -> None:
    page = window.show_page("spending")
    row = _unassigned_row(qtbot, page)
    menu = page.context_menu()  # what a right-click pops up
    assert isinstance(menu, QMenu)
    texts = [a.text() for a in menu.actions() if a.text()]
    assert "Make a rule from this line…" in texts and "Split…" in texts
    next(a for a in menu.actions() if a.text() == "Make a rule from this line…").trigger()
    menu.deleteLater()
    (editor,) = [w for w in page.findChildren(RuleEditor) if w.isVisible()]
    assert editor.typed()["value"] == row.supplier.strip()
    editor.reject()
    assert rule_rows(demo_ui_db, GRANT) == []  # Cancel writes nothing

    rules.add_rule(demo_ui_db, GRANT, "supplier", "contains", "Age UK", "A02")
    imports = window.show_page("imports")
    click(qtbot, imports, "Rules…")
    (panel,) = [w for w in imports.findChildren(RulesDialog) if w.isVisible()]
    assert [r.text for r in panel.model.rows] == ["Supplier contains 'Age UK' → A02"]
    panel.close()


def test_a_rule_added_from_the_imports_check_step_is_checked_again(
    qtbot: QtBot, window: Any, demo_ui_db: Database, no_rules: None, tmp_path: Path
) -> None:
    path = tmp_path / "ledger.csv"
    path.write_text(
        "Date,Supplier,Description,Reference,Cost centre,Net\n"
        "03/01/2026,Kent Youth Trust,Youth session,W-1,CS101,145.00\n"
        "06/01/2026,Riverside Cafe,Refreshments,W-3,CS999,45.00\n",
        encoding="utf-8",
    )
    page = window.show_page("imports")
    page.start(path)
    page.to_check()
    qtbot.waitUntil(lambda: page.steps.currentIndex() == 2, timeout=10_000)
    assert page.plan is not None and page.plan.unassigned == 1  # the cafe: CS999 is no project's
    click(qtbot, page, "Rules…")
    (panel,) = [w for w in page.findChildren(RulesDialog) if w.isVisible()]
    click(qtbot, panel, "Add rule…")
    (editor,) = [w for w in panel.findChildren(RuleEditor) if w.isVisible()]
    type_in(qtbot, editor, "Value", "Riverside Cafe")
    choose(qtbot, editor, "Project", "A06")
    editor.save()
    panel.close()  # the check runs again with the new rule: nothing is left unassigned
    qtbot.waitUntil(lambda: page.plan is not None and page.plan.unassigned == 0, timeout=10_000)
    with demo_ui_db.read() as session:  # still only a check: nothing imported
        assert session.scalar(select(SpendLine.id).where(SpendLine.reference == "W-3")) is None
