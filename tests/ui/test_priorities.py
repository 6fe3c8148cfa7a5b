"""Plans and priorities edited in place on the Priorities page, driven as a person would (the
demo: kent-pcc-2025, 01/04/2025 to 31/03/2029, P1-P4, weighed on by the eight projects of
CRG-2025-26; tmbc-csp-2025-26, C1-C4). Each edit is one undo step; each refusal is shown
beside its field and writes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from fundtracker.errors import ValidationError
from fundtracker.models import AuditEvent, Plan
from fundtracker.operations import run_operation
from fundtracker.operations.allocations import SetWeights
from fundtracker.operations.plans import UpdatePlan, current_plan_version
from fundtracker.storage import Database
from tests.ui.assistant_support import choose, click, find, shot, type_in
from ui.fields import Refusal
from ui.main_window import MainWindow
from ui.pages.priorities import PrioritiesPage
from ui.plan_editor import NewPlanDialog, NewVersionDialog
from ui.workspace import Workspace

PCC = "kent-pcc-2025"
D = Decimal


@pytest.fixture
def page(qtbot: QtBot, window: MainWindow) -> PrioritiesPage:
    shown = window.show_page("priorities")
    assert isinstance(shown, PrioritiesPage)
    qtbot.waitUntil(lambda: not shown.busy())
    return shown


def settle(qtbot: QtBot, page: PrioritiesPage) -> None:
    """Let the page reload from what an edit (or its undo) changed."""
    qtbot.wait(1)
    qtbot.waitUntil(lambda: not page.busy())


def refusal(root: QWidget, label: str) -> str:
    widget = find(root, f"{label} problem", QLabel)
    assert isinstance(widget, Refusal)
    return widget.message() if widget.isVisibleTo(root) else ""


def plans(db: Database) -> dict[str, list[tuple[str, str, str | None, bool]]]:
    with db.read() as session:
        return {
            plan.key: [(p.code, p.title, p.parent_code, p.retired) for p in plan.priorities]
            for plan in session.scalars(select(Plan))
        }


def plan(db: Database, key: str) -> Plan:
    with db.read() as session:
        found = session.scalar(select(Plan).where(Plan.key == key))
        assert found is not None
        return found


def audit_count(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def open_new_plan(qtbot: QtBot, page: PrioritiesPage) -> NewPlanDialog:
    click(qtbot, page, "New plan")
    dialog = page.dialogs[0]
    assert dialog.isVisible()
    return dialog


def pick_priority(qtbot: QtBot, page: PrioritiesPage, code: str) -> None:
    """Click the priority's row in the table, as the officer does."""
    codes = [row.code for row in page.priorities.rows]
    table = page.priority_table
    rect = table.visualRect(page.priorities.index(codes.index(code), 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert page.editor.priority is not None and page.editor.priority.code == code


def pick_plan(qtbot: QtBot, page: PrioritiesPage, key: str) -> None:
    keys = [row.key for row in page.plans.rows]
    rect = page.plan_table.visualRect(page.plans.index(keys.index(key), 0))
    qtbot.mouseClick(page.plan_table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert page.editor.plan is not None and page.editor.plan.key == key


NEW_PLAN = {
    "Plan name": "Safer Tonbridge 2026",
    "Owner": "TMBC CSP",
    "In effect from": "01/04/2026",
    "In effect to": "31-Mar-27",
}
# Indented, dashed and CODE.SUB sub-priorities, codes given or made (C1, C2…).
NEW_PRIORITIES = "Violence\n  Night-time economy\nC2 Shop theft\nC2.5 Town centre\n- Markets"


def fill_new_plan(qtbot: QtBot, dialog: NewPlanDialog, **changes: str) -> None:
    for label, value in {**NEW_PLAN, **changes}.items():
        if label != "Priorities":
            type_in(qtbot, dialog, label, value)
    type_in(qtbot, dialog, "Priorities", changes.get("Priorities", NEW_PRIORITIES))


def test_a_new_plan_typed_is_one_step_undone_and_redone(
    qtbot: QtBot, window: MainWindow, page: PrioritiesPage, demo_ui_db: Database
) -> None:
    dialog = open_new_plan(qtbot, page)
    fill_new_plan(qtbot, dialog)
    choose(qtbot, dialog, "Kind", "CSP")
    shot(dialog, "priorities-new-plan")
    click(qtbot, dialog, "Create plan")
    assert not dialog.isVisible()
    made = plans(demo_ui_db)["safer-tonbridge-2026-2026"]
    assert made == [
        ("C1", "Violence", None, False),
        ("C1.1", "Night-time economy", "C1", False),
        ("C2", "Shop theft", None, False),
        ("C2.5", "Town centre", "C2", False),
        ("C2.1", "Markets", "C2", False),
    ]
    new = plan(demo_ui_db, "safer-tonbridge-2026-2026")
    assert (new.name, new.owner, new.kind, new.effective_from, new.effective_to) == (
        "Safer Tonbridge 2026",
        "TMBC CSP",
        "csp",
        date(2026, 4, 1),
        date(2027, 3, 31),
    )
    settle(qtbot, page)
    assert page.chosen_plan == "safer-tonbridge-2026-2026"  # the new plan is shown
    assert [row.shown_title for row in page.priorities.rows][:2] == [
        "Violence",
        "    Night-time economy",
    ]
    assert window.undo_action.text() == "&Undo New plan Safer Tonbridge 2026"
    window.undo_action.trigger()
    assert "safer-tonbridge-2026-2026" not in plans(demo_ui_db)
    window.redo_action.trigger()
    assert plans(demo_ui_db)["safer-tonbridge-2026-2026"] == made
    with demo_ui_db.read() as session:
        reasons = {e.reason for e in session.scalars(select(AuditEvent))}
    assert {"New plan Safer Tonbridge 2026", "undo: New plan Safer Tonbridge 2026"} <= reasons


@pytest.mark.qt_log_ignore("This plugin does not support")  # offscreen popups
def test_a_new_plan_from_a_template_with_a_date_picked(
    qtbot: QtBot, window: MainWindow, page: PrioritiesPage, demo_ui_db: Database
) -> None:
    dialog = open_new_plan(qtbot, page)
    choose(qtbot, dialog, "Start from", "Template: Cut Crime")
    assert dialog.priorities.toPlainText().splitlines()[0] == "P1 Protecting People"
    type_in(qtbot, dialog, "Plan name", "Cut Crime 2027")
    click(qtbot, dialog, "Pick in effect from")
    calendar = dialog.starts.calendar
    assert calendar is not None and calendar.accessibleName() == "In effect from calendar"
    calendar.clicked.emit(QDate(2027, 4, 1))  # the day the officer clicks
    assert dialog.starts.text() == "01/04/2027"
    click(qtbot, dialog, "Create plan")
    made = plan(demo_ui_db, "cut-crime-2027-2027")
    assert (made.owner, made.kind, made.effective_from, made.effective_to) == (
        "Kent PCC",
        "pcc",
        date(2027, 4, 1),
        date(2029, 3, 31),
    )
    assert [c for c, *_ in plans(demo_ui_db)["cut-crime-2027-2027"]] == ["P1", "P2", "P3", "P4"]
    window.undo_action.trigger()
    assert "cut-crime-2027-2027" not in plans(demo_ui_db)


@pytest.mark.parametrize(
    ("changes", "label", "message"),
    [
        ({"Plan name": ""}, "Plan name", "is required"),
        ({"In effect from": "30/02/2026"}, "In effect from", "is not a date"),
        ({"In effect to": "01/01/2026"}, "In effect to", "is before the start"),
        ({"Priorities": "   "}, "Priorities", "type at least one priority"),
        ({"Priorities": "P1 People\nP1 Places"}, "Priorities", "P1 is on two lines"),
        ({"Priorities": "P1 People\nP9.1 Roads"}, "Priorities", "P9.1: no priority P9 above"),
        ({"Priorities": "P1 " + "x" * 301}, "Priorities", "P1: the title is 301 characters"),
    ],
)
def test_a_new_plan_refused_beside_its_field_writes_nothing(
    qtbot: QtBot,
    window: MainWindow,
    page: PrioritiesPage,
    demo_ui_db: Database,
    changes: dict[str, str],
    label: str,
    message: str,
) -> None:
    before, audited = plans(demo_ui_db), audit_count(demo_ui_db)
    dialog = open_new_plan(qtbot, page)
    fill_new_plan(qtbot, dialog, **changes)
    click(qtbot, dialog, "Create plan")
    assert message in refusal(dialog, label)
    assert dialog.isVisible()  # still open, to put it right
    assert (plans(demo_ui_db), audit_count(demo_ui_db)) == (before, audited)
    assert window.workspace.undo_stack.count() == 0
    if "P9" in message:
        shot(dialog, "priorities-new-plan-refused")


def test_rename_a_plan_then_undo(
    qtbot: QtBot, window: MainWindow, page: PrioritiesPage, demo_ui_db: Database
) -> None:
    editor = page.editor
    type_in(qtbot, editor, "Plan name", "Safer Kent")
    type_in(qtbot, editor, "Owner", "Kent OPCC")
    click(qtbot, editor, "Save plan")
    renamed = plan(demo_ui_db, PCC)
    assert (renamed.name, renamed.owner) == ("Safer Kent", "Kent OPCC")
    settle(qtbot, page)
    assert page.plans.rows[0].name == "Safer Kent"
    window.undo_action.trigger()
    back = plan(demo_ui_db, PCC)
    assert (back.name, back.owner) == ("Cut Crime, Support Victims, Build Trust", "Kent PCC")


def test_a_rename_refused_beside_its_field(
    qtbot: QtBot, window: MainWindow, page: PrioritiesPage, demo_ui_db: Database
) -> None:
    audited = audit_count(demo_ui_db)
    type_in(qtbot, page.editor, "Plan name", "   ")
    click(qtbot, page.editor, "Save plan")
    assert refusal(page.editor, "Plan name") == "is required"
    assert plan(demo_ui_db, PCC).name == "Cut Crime, Support Victims, Build Trust"
    assert audit_count(demo_ui_db) == audited
    shot(window, "priorities-refused")


def test_a_rename_over_someone_elses_change_is_refused(
    qtbot: QtBot, window: MainWindow, page: PrioritiesPage, demo_ui_db: Database
) -> None:
    # A colleague renames the plan after this window showed it.
    version = current_plan_version(demo_ui_db, PCC)
    run_operation(demo_ui_db, UpdatePlan(PCC, {"name": "Their name"}, version))
    type_in(qtbot, page.editor, "Plan name", "My name")
    click(qtbot, page.editor, "Save plan")
    settle(qtbot, page)
    assert "changed by someone else" in refusal(page.editor, "Save plan")
    assert plan(demo_ui_db, PCC).name == "Their name"
    assert page.editor.plan_name.text() == "Their name"  # the current values, shown again
    assert window.workspace.undo_stack.count() == 0


def test_add_retitle_and_retire_priorities_each_one_step(
    qtbot: QtBot, window: MainWindow, page: PrioritiesPage, demo_ui_db: Database
) -> None:
    editor = page.editor
    original = plans(demo_ui_db)[PCC]
    # A sub-priority typed as CODE.SUB goes under its parent, before P2.
    type_in(qtbot, editor, "New code", "P1.1")
    type_in(qtbot, editor, "New priority title", "Violence against women and girls")
    click(qtbot, editor, "Add priority")
    # A sub-priority of P2 picked from Under.
    type_in(qtbot, editor, "New code", "P2.1")
    type_in(qtbot, editor, "New priority title", "Town centres")
    settle(qtbot, page)
    choose(qtbot, editor, "Under", "P2")
    click(qtbot, editor, "Add priority")
    type_in(qtbot, editor, "New code", "P5")
    type_in(qtbot, editor, "New priority title", "Roads")
    click(qtbot, editor, "Add priority")
    settle(qtbot, page)
    assert [(c, parent) for c, _t, parent, _r in plans(demo_ui_db)[PCC]] == [
        ("P1", None),
        ("P1.1", "P1"),
        ("P2", None),
        ("P2.1", "P2"),
        ("P3", None),
        ("P4", None),
        ("P5", None),
    ]
    pick_priority(qtbot, page, "P4")
    type_in(qtbot, editor, "Priority title", "Partnerships that deliver")
    click(qtbot, editor, "Save title")
    settle(qtbot, page)
    pick_priority(qtbot, page, "P2")
    click(qtbot, editor, "Retire priority")  # P2 and its sub-priority P2.1
    settle(qtbot, page)
    now = {c: (t, r) for c, t, _p, r in plans(demo_ui_db)[PCC]}
    assert now["P4"] == ("Partnerships that deliver", False)
    assert (now["P2"][1], now["P2.1"][1], now["P1"][1]) == (True, True, False)
    # Shown as retired, still with its weights: A01 40% = £3,200.00, A04 70% = £4,200.00,
    # A07 100% = £6,000.00; £13,400.00 in all.
    p2 = next(row for row in page.priorities.rows if row.code == "P2")
    assert (p2.status, p2.projects_text, p2.budget_text) == (
        "retired",
        "A01 40%, A04 70%, A07 100%",
        "£13,400.00",
    )
    assert not editor.retire_button.isEnabled()
    assert "retired" in editor.selected_label.text()
    shot(window, "priorities-editor")
    # ... and it takes no new weights.
    with pytest.raises(ValidationError, match="retired"):
        run_operation(demo_ui_db, SetWeights("CRG-2025-26", "A02", PCC, {"P2": 100}))
    # Five steps, undone one at a time, newest first.
    assert window.workspace.undo_stack.count() == 5
    window.undo_action.trigger()
    assert {c: r for c, _t, _p, r in plans(demo_ui_db)[PCC]}["P2"] is False
    window.undo_action.trigger()
    assert plans(demo_ui_db)[PCC][-2][1] == "Productive Partnerships"
    for _ in range(3):
        window.undo_action.trigger()
    assert plans(demo_ui_db)[PCC] == original
    window.redo_action.trigger()
    assert [c for c, *_ in plans(demo_ui_db)[PCC]] == ["P1", "P1.1", "P2", "P3", "P4"]


@pytest.mark.parametrize(
    ("code", "title", "label", "message"),
    [
        ("P1", "Again", "New code", "already has a priority P1"),
        ("P6", "", "New priority title", "is required"),
        ("", "No code", "New code", "is required"),
        ("P9.1", "Under nothing", "Under", "has no priority P9"),
    ],
)
def test_adding_a_priority_refused_beside_its_field(
    qtbot: QtBot,
    window: MainWindow,
    page: PrioritiesPage,
    demo_ui_db: Database,
    code: str,
    title: str,
    label: str,
    message: str,
) -> None:
    before, audited = plans(demo_ui_db), audit_count(demo_ui_db)
    type_in(qtbot, page.editor, "New code", code)
    type_in(qtbot, page.editor, "New priority title", title)
    click(qtbot, page.editor, "Add priority")
    assert message in refusal(page.editor, label)
    assert (plans(demo_ui_db), audit_count(demo_ui_db)) == (before, audited)
    assert window.workspace.undo_stack.count() == 0


def test_a_blank_title_is_refused_and_a_sub_priority_cannot_go_under_a_retired_one(
    qtbot: QtBot, window: MainWindow, page: PrioritiesPage, demo_ui_db: Database
) -> None:
    pick_priority(qtbot, page, "P3")
    type_in(qtbot, page.editor, "Priority title", "")
    click(qtbot, page.editor, "Save title")
    assert refusal(page.editor, "Priority title") == "is required"
    assert plans(demo_ui_db)[PCC][2][1] == "Protecting Property"
    click(qtbot, page.editor, "Retire priority")
    settle(qtbot, page)
    # A retired priority is no longer offered under Under; typed as P3.1 it is refused.
    under = page.editor.under
    assert "P3" not in [under.itemText(i) for i in range(under.count())]
    type_in(qtbot, page.editor, "New code", "P3.1")
    type_in(qtbot, page.editor, "New priority title", "Shops")
    click(qtbot, page.editor, "Add priority")
    assert "is retired" in refusal(page.editor, "Under")
    assert [c for c, *_ in plans(demo_ui_db)[PCC]] == ["P1", "P2", "P3", "P4"]


def test_a_new_version_from_a_date_keeps_weights_on_the_old_one(
    qtbot: QtBot, window: MainWindow, page: PrioritiesPage, demo_ui_db: Database
) -> None:
    click(qtbot, page.editor, "Start a new version")
    dialog = page.editor.versions[0]
    assert isinstance(dialog, NewVersionDialog) and dialog.isVisible()
    type_in(qtbot, dialog, "New version from", "1/4/2027")
    shot(dialog, "priorities-new-version")
    click(qtbot, dialog, "Start new version")
    assert not dialog.isVisible()
    old, new = plan(demo_ui_db, PCC), plan(demo_ui_db, "kent-pcc-2025-2027-04-01")
    assert (old.effective_to, new.effective_from, new.effective_to) == (
        date(2027, 3, 31),
        date(2027, 4, 1),
        date(2029, 3, 31),
    )
    assert new.previous_id == old.id
    assert [c for c, *_ in plans(demo_ui_db)[new.key]] == ["P1", "P2", "P3", "P4"]
    settle(qtbot, page)
    rows = {row.key: row for row in page.plans.rows}
    assert rows[PCC].version_text == "1 (replaced)"
    assert (rows[PCC].weighted_projects, rows[new.key].weighted_projects) == (8, 0)
    assert "the weights set on this version stay with it" in page.note.text()
    pick_plan(qtbot, page, new.key)
    assert "No project weighs on this version yet" in page.note.text()
    assert page.priorities.rows[0].projects_text == ""
    shot(window, "priorities-new-version-shown")
    window.undo_action.trigger()
    assert "kent-pcc-2025-2027-04-01" not in plans(demo_ui_db)
    assert plan(demo_ui_db, PCC).effective_to == date(2029, 3, 31)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("01/01/2025", "must be after 01/04/2025"),
        ("01/04/2030", "must be on or before 31/03/2029"),
        ("31/02/2027", "is not a date"),
        ("", "is required"),
    ],
)
def test_a_new_version_refused_beside_its_date(
    qtbot: QtBot,
    window: MainWindow,
    page: PrioritiesPage,
    demo_ui_db: Database,
    typed: str,
    message: str,
) -> None:
    before, audited = plans(demo_ui_db), audit_count(demo_ui_db)
    click(qtbot, page.editor, "Start a new version")
    dialog = page.editor.versions[0]
    type_in(qtbot, dialog, "New version from", typed)
    click(qtbot, dialog, "Start new version")
    assert message in refusal(dialog, "New version from")
    assert dialog.isVisible()
    assert (plans(demo_ui_db), audit_count(demo_ui_db)) == (before, audited)


def test_every_field_is_named_by_its_visible_label(qtbot: QtBot, page: PrioritiesPage) -> None:
    dialog = open_new_plan(qtbot, page)
    click(qtbot, page.editor, "Start a new version")
    version = page.editor.versions[0]
    seen = []
    for root in (page.editor, dialog, version):
        for form in root.findChildren(QFormLayout):
            for label, field in _form_rows(form):
                assert field.accessibleName() == label.text()
                seen.append(label.text())
    assert {"Plan name", "Owner", "Priority title", "New code", "Under", "Kind"} <= set(seen)
    assert {"Start from", "In effect from", "Priorities", "New version from"} <= set(seen)


def _form_rows(form: QFormLayout) -> list[tuple[QLabel, QWidget]]:
    """Each row's visible label and its field (the first widget in the row's cell, above the
    refusal shown beside it)."""
    rows = []
    for row in range(form.rowCount()):
        label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        cell = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        text = label.widget() if label else None
        holder = cell.widget() if cell else None
        layout = holder.layout() if holder else None
        first = layout.itemAt(0) if layout else None
        field = first.widget() if first else None
        if isinstance(text, QLabel) and field is not None:
            rows.append((text, field))
    return rows


def test_a_read_only_window_offers_no_edits(qtbot: QtBot, demo_ui_db: Database) -> None:
    read_only = PrioritiesPage(Workspace(demo_ui_db, read_only=True))
    qtbot.addWidget(read_only)
    read_only.show()
    qtbot.waitUntil(lambda: not read_only.busy())
    assert [row.key for row in read_only.plans.rows] == [PCC, "tmbc-csp-2025-26"]
    assert not find(read_only, "New plan").isEnabled()
    boxes = read_only.editor.findChildren(QGroupBox)
    assert len(boxes) == 3 and not any(box.isEnabled() for box in boxes)
