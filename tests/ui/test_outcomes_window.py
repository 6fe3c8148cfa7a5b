"""Outcomes in the window (issue 15): measures and targets on the Projects page, the quarter's
actuals on the Returns page (read-only once submitted), results beside spend on the Dashboard.
Each change is driven through its dialog, asserted on the database and on what the page shows,
then undone from the window.

Project A02 (Shopwatch radios, budget £4,500.00) is used throughout; any measures the demo
gives it are removed first, so the figures below depend only on what each test enters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialogButtonBox, QLineEdit
from pytestqt.qtbot import QtBot

from fundtracker.models import OutcomeMeasure
from fundtracker.operations import run_operation
from fundtracker.operations.outcomes import AddOutcome, RemoveOutcome, SetOutcomeActual
from fundtracker.operations.returns import SubmitReturn
from fundtracker.periods import Period
from fundtracker.services.grants import load_grant
from fundtracker.storage import Database
from ui.outcomes import ActualDialog, OutcomeDialog
from ui.year_dialogs import OperationForm

GRANT = "CRG-2025-26"
PROJECT = "A02"
Q1, Q2 = Period.parse("2025/26-Q1"), Period.parse("2025/26-Q2")


@pytest.fixture
def db(demo_ui_db: Database) -> Database:
    for measure in _measures(demo_ui_db).values():
        run_operation(demo_ui_db, RemoveOutcome(GRANT, PROJECT, measure.code, measure.version))
    return demo_ui_db


def _measures(db: Database) -> dict[str, OutcomeMeasure]:
    project = next(a for a in load_grant(db, GRANT).allocations if a.code == PROJECT)
    return {m.code: m for m in project.outcomes}


def _actual(db: Database, code: str, quarter: Period) -> tuple[int, int | None, str] | None:
    with db.read() as session:
        measure = session.get_one(OutcomeMeasure, _measures(db)[code].id)
        row = next((a for a in measure.actuals if a.quarter == str(quarter)), None)
        return None if row is None else (row.actual, row.out_of, row.note)


def _type(qtbot: QtBot, edit: QLineEdit, text: str) -> None:
    edit.clear()
    qtbot.keyClicks(edit, text)


def _field(form: OperationForm, name: str) -> QLineEdit:
    edit = form.fields[name]
    assert isinstance(edit, QLineEdit)
    return edit


def _ok(qtbot: QtBot, form: OperationForm) -> None:
    ok = form.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)


def _column(model: Any, header: str) -> int:
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    return headers.index(header)


def _shown(model: Any, row: int, header: str) -> str:
    return str(model.index(row, _column(model, header)).data())


def _projects_page(qtbot: QtBot, window: Any) -> Any:
    page = window.show_page("projects")
    page.select(PROJECT)
    page.details.setCurrentWidget(page.measures)
    qtbot.waitUntil(lambda: page.measures.project == PROJECT)
    return page


def test_add_an_outcome_then_give_it_quarterly_targets_undo_and_redo(
    qtbot: QtBot, window: Any, db: Database
) -> None:
    page = _projects_page(qtbot, window)
    panel = page.measures
    assert panel.model.rowCount() == 0 and "no outcome measures yet" in panel.heading.text()
    assert page.details.tabText(1) == "Outcomes (0)"

    dialog = panel.add()
    assert isinstance(dialog, OutcomeDialog) and dialog.isVisible()
    _type(qtbot, _field(dialog, "code"), "REF")
    _type(qtbot, _field(dialog, "title"), "Shops joining the radio scheme")
    priority = dialog.fields["priority"]
    assert isinstance(priority, QComboBox)
    priority.setCurrentIndex(priority.findData("P3"))
    _type(qtbot, _field(dialog, "target"), "10")
    # No quarterly targets typed: each quarter shows the even spread it will get, 10 in whole
    # units over four quarters: 10 // 4 = 2 each, the remainder 10 - 3 × 2 = 4 in the last.
    assert [e.placeholderText() for e in dialog.quarter_edits] == ["2", "2", "2", "4"]
    _ok(qtbot, dialog)
    assert not dialog.isVisible()
    measure = _measures(db)["REF"]
    assert (measure.unit, measure.priority, measure.target, measure.quarter_targets) == (
        "count",
        "P3",
        10,
        "",
    )
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1)
    model = panel.model
    assert [_shown(model, 0, f"Q{n} 25/26") for n in (1, 2, 3, 4)] == ["2", "2", "2", "4"]
    assert _shown(model, 0, "Quarterly targets") == "even spread"
    assert _shown(model, 0, "PCC priority") == "P3 Protecting Property"
    assert page.details.tabText(1) == "Outcomes (1)"

    # Quarterly targets must total the annual target: 1 + 2 + 3 + 5 = 11, not 10. Refused
    # beside the field, the form stays open and nothing changes.
    dialog = panel.edit()
    assert isinstance(dialog, OutcomeDialog)
    assert _field(dialog, "code").text() == "REF" and _field(dialog, "target").text() == "10"
    for edit, text in zip(dialog.quarter_edits, ("1", "2", "3", "5"), strict=True):
        _type(qtbot, edit, text)
    _ok(qtbot, dialog)
    assert dialog.isVisible() and dialog.fields["targets"].property("invalid") is True
    assert "total 11" in dialog.error.text() and "annual target is 10" in dialog.error.text()
    assert _measures(db)["REF"].quarter_targets == ""
    _type(qtbot, dialog.quarter_edits[3], "4")  # 1 + 2 + 3 + 4 = 10
    assert dialog.error.text() == ""
    _ok(qtbot, dialog)
    assert not dialog.isVisible()
    assert _measures(db)["REF"].quarter_targets == "1,2,3,4"
    qtbot.waitUntil(lambda: _shown(model, 0, "Quarterly targets") == "as entered")
    assert [_shown(model, 0, f"Q{n} 25/26") for n in (1, 2, 3, 4)] == ["1", "2", "3", "4"]

    window.undo_action.trigger()  # the targets go back to the even spread
    assert _measures(db)["REF"].quarter_targets == ""
    qtbot.waitUntil(lambda: _shown(model, 0, "Quarterly targets") == "even spread")
    window.undo_action.trigger()  # the measure goes
    assert _measures(db) == {}
    qtbot.waitUntil(lambda: model.rowCount() == 0)
    window.redo_action.trigger()
    window.redo_action.trigger()
    assert _measures(db)["REF"].quarter_targets == "1,2,3,4"


def test_a_percent_outcome_and_a_duplicate_code_refused(
    qtbot: QtBot, window: Any, db: Database
) -> None:
    run_operation(
        db, AddOutcome(GRANT, PROJECT, {"code": "REF", "title": "x", "unit": "count", "target": 4})
    )
    page = _projects_page(qtbot, window)
    qtbot.waitUntil(lambda: page.measures.model.rowCount() == 1)
    dialog = page.measures.add()
    assert isinstance(dialog, OutcomeDialog)
    unit = dialog.fields["unit"]
    assert isinstance(unit, QComboBox)
    unit.setCurrentIndex(unit.findData("percent"))
    _type(qtbot, _field(dialog, "code"), "REF")
    _type(qtbot, _field(dialog, "title"), "Shops feeling safer")
    _type(qtbot, _field(dialog, "target"), "82.5%")
    # A percentage applies to every quarter as it is (stored as tenths: 825).
    assert [e.placeholderText() for e in dialog.quarter_edits] == ["82.5%"] * 4
    _ok(qtbot, dialog)
    assert dialog.fields["code"].property("invalid") is True
    assert "already has an outcome REF" in dialog.error.text()
    _type(qtbot, _field(dialog, "code"), "SAFE")
    _ok(qtbot, dialog)
    assert not dialog.isVisible()
    safe = _measures(db)["SAFE"]
    assert (safe.unit, safe.target, safe.priority) == ("percent", 825, None)
    qtbot.waitUntil(lambda: page.measures.model.rowCount() == 2)
    assert _shown(page.measures.model, 1, "Quarterly targets") == "same each quarter"


def test_remove_an_outcome_with_its_actual_and_undo(
    qtbot: QtBot, window: Any, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui import dialogs

    values = {"code": "REF", "title": "Shops joining", "unit": "count", "target": 40}
    run_operation(db, AddOutcome(GRANT, PROJECT, values))
    run_operation(db, SetOutcomeActual(GRANT, Q1, PROJECT, "REF", 7, note="Town centre"))
    page = _projects_page(qtbot, window)
    qtbot.waitUntil(lambda: page.measures.model.rowCount() == 1)
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "confirm", lambda _p, _t, text, _a="": asked.append(text) or True)
    page.measures.remove()
    assert "with its 1 quarterly actual(s)" in asked[0]
    assert _measures(db) == {}
    qtbot.waitUntil(lambda: page.measures.model.rowCount() == 0)
    window.undo_action.trigger()
    assert _actual(db, "REF", Q1) == (7, None, "Town centre")


def _returns_page(qtbot: QtBot, window: Any, period: Period) -> Any:
    page = window.show_page("returns")
    for row in range(page.periods.count()):
        if page.periods.item(row).data(Qt.ItemDataRole.UserRole) == str(period):
            page.periods.setCurrentRow(row)
    page.tabs.setCurrentWidget(page.actuals)
    qtbot.waitUntil(lambda: page.actuals.period == period)
    return page


def _entry_row(page: Any, code: str) -> int:
    codes = [f"{m.project}/{m.code}" for m, _q in page.actuals.model.rows]
    return codes.index(f"{PROJECT}/{code}")


def test_enter_a_percent_actual_for_the_quarter_on_the_returns_page_and_undo(
    qtbot: QtBot, window: Any, db: Database
) -> None:
    values = {"code": "SAFE", "title": "Shops feeling safer", "unit": "percent", "target": "80%"}
    run_operation(db, AddOutcome(GRANT, PROJECT, values))
    page = _returns_page(qtbot, window, Q2)
    model = page.actuals.model
    row = _entry_row(page, "SAFE")
    assert _shown(model, row, "Quarter") == "Q2" and _shown(model, row, "Target") == "80.0%"
    assert _shown(model, row, "Actual") == "not entered"
    assert "not entered" in page.tabs.tabText(1)
    page.actuals.select(PROJECT, "SAFE")
    dialog = page.actuals.enter()
    assert isinstance(dialog, ActualDialog)
    _type(qtbot, _field(dialog, "actual"), "41")
    _ok(qtbot, dialog)  # a percent measure needs how many it is out of
    assert dialog.isVisible() and dialog.fields["of"].property("invalid") is True
    assert _actual(db, "SAFE", Q2) is None
    _type(qtbot, _field(dialog, "of"), "50")
    _type(qtbot, _field(dialog, "note"), "=survey of 50 shops")  # text, not a formula
    _ok(qtbot, dialog)
    assert not dialog.isVisible()
    assert _actual(db, "SAFE", Q2) == (41, 50, "=survey of 50 shops")
    # 100 × 41 ÷ 50 = 82.0%; nothing entered for Q1, so to date is Q2 alone: 82.0% against the
    # 80.0% target is 82.0 ÷ 80.0 × 100 = 102.5% of target.
    qtbot.waitUntil(lambda: _shown(model, _entry_row(page, "SAFE"), "Actual") != "not entered")
    row = _entry_row(page, "SAFE")
    assert _shown(model, row, "Actual") == "41 of 50 (82.0%)"
    assert _shown(model, row, "Note") == "=survey of 50 shops"
    assert _shown(model, row, "Actual to date") == "82.0%"
    assert _shown(model, row, "% of target to date") == "102.5%"

    window.undo_action.trigger()
    assert _actual(db, "SAFE", Q2) is None
    qtbot.waitUntil(lambda: _shown(model, _entry_row(page, "SAFE"), "Actual") == "not entered")
    window.redo_action.trigger()
    assert _actual(db, "SAFE", Q2) == (41, 50, "=survey of 50 shops")
    qtbot.waitUntil(lambda: _shown(model, _entry_row(page, "SAFE"), "Actual") != "not entered")
    page.actuals.select(PROJECT, "SAFE")
    page.actuals.clear()
    assert _actual(db, "SAFE", Q2) is None


def test_a_submitted_quarter_shows_its_actuals_read_only(
    qtbot: QtBot, window: Any, db: Database, tmp_path: Path
) -> None:
    values = {"code": "REF", "title": "Shops joining", "unit": "count", "target": 40}
    run_operation(db, AddOutcome(GRANT, PROJECT, values))
    run_operation(db, SetOutcomeActual(GRANT, Q1, PROJECT, "REF", 7))
    run_operation(db, SubmitReturn(GRANT, Q1, tmp_path / "q1.xlsx", "Test officer"))
    page = _returns_page(qtbot, window, Q1)
    assert "read-only" in page.actuals.heading.text()
    assert not page.actuals.enter_button.isEnabled() and page.actuals.enter() is None
    assert _shown(page.actuals.model, _entry_row(page, "REF"), "Actual") == "7"
    page = _returns_page(qtbot, window, Q2)  # the next quarter is open
    assert page.actuals.enter_button.isEnabled()
    # While a return stands submitted the targets stand too: a new measure is refused in the
    # form, saying what to do, and nothing is added.
    dialog = _projects_page(qtbot, window).measures.add()
    assert isinstance(dialog, OutcomeDialog)
    _type(qtbot, _field(dialog, "code"), "NEW")
    _type(qtbot, _field(dialog, "title"), "Radios issued")
    _type(qtbot, _field(dialog, "target"), "12")
    _ok(qtbot, dialog)
    assert dialog.isVisible() and "reopen it first" in dialog.error.text()
    assert list(_measures(db)) == ["REF"]


def test_the_dashboard_shows_results_beside_spend(qtbot: QtBot, window: Any, db: Database) -> None:
    values = {"code": "REF", "title": "Shops joining", "unit": "count", "target": 40}
    run_operation(db, AddOutcome(GRANT, PROJECT, values))
    run_operation(db, SetOutcomeActual(GRANT, Q1, PROJECT, "REF", 7))
    page = window.show_page("dashboard")
    page.period_box.setCurrentIndex(page.period_box.findData(str(Q1)))
    model = page.progress.model
    qtbot.waitUntil(lambda: model.rowCount() > 0 and page.period() == Q1)
    rows = {model.rows[r][0].project: r for r in range(model.rowCount())}
    # A02 at the end of Q1: spent £1,894.71 of its £4,500.00 budget = 42.1%; its profile is
    # even, £1,125.00 in Q1, so 1,894.71 ÷ 1,125.00 = 168.4% of its plan to date; target to
    # date 40 spread evenly is 10 in Q1, 7 reached = 70.0%.
    assert _shown(model, rows["A02"], "Spent\nof budget") == "42.1%"
    assert _shown(model, rows["A02"], "Spent of\nplan to date") == "168.4%"
    assert _shown(model, rows["A02"], "Reached of\ntarget to date") == "70.0%"
    without = [p.project for p, _plan in model.rows if p.measures == 0]
    assert without, "the demo has projects without outcome measures"
    # Never 0% for a project that has no measures: it says so.
    assert _shown(model, rows[without[0]], "Reached of\ntarget to date") == "no measures"


def test_the_keyboard_reaches_the_actual_dialog(qtbot: QtBot, window: Any, db: Database) -> None:
    values = {"code": "REF", "title": "Shops joining", "unit": "count", "target": 40}
    run_operation(db, AddOutcome(GRANT, PROJECT, values))
    page = _returns_page(qtbot, window, Q2)
    page.actuals.select(PROJECT, "REF")
    page.actuals.table.setFocus()
    qtbot.keyClick(page.actuals.table, Qt.Key.Key_Return)  # Enter on a row opens its actual
    (dialog,) = [d for d in page.actuals.findChildren(ActualDialog) if d.isVisible()]
    assert "of" not in dialog.fields  # a count has no "of"
    qtbot.keyClicks(_field(dialog, "actual"), "9")
    qtbot.keyClick(_field(dialog, "actual"), Qt.Key.Key_Return)  # Enter is OK
    assert _actual(db, "REF", Q2) == (9, None, "")


def test_a_missing_outcome_finding_opens_the_quarter_to_enter(
    qtbot: QtBot, window: Any, db: Database
) -> None:
    values = {"code": "REF", "title": "Shops joining", "unit": "count", "target": 40}
    run_operation(db, AddOutcome(GRANT, PROJECT, values))
    run_operation(db, SetOutcomeActual(GRANT, Q2, PROJECT, "REF", 9))
    # As at Q2, REF has Q2 entered but not Q1: OUTCOME_MISSING names A02, and opening it shows
    # Q1's return with A02/REF selected on the Outcomes tab.
    dashboard = window.show_page("dashboard")
    dashboard.period_box.setCurrentIndex(dashboard.period_box.findData(str(Q2)))
    qtbot.waitUntil(lambda: dashboard.period() == Q2)
    items = [dashboard.findings_list.item(n) for n in range(dashboard.findings_list.count())]
    (missing,) = [
        item
        for item in items
        if (finding := item.data(Qt.ItemDataRole.UserRole)) is not None
        and getattr(finding, "code", "") == "OUTCOME_MISSING"
        and finding.subject == PROJECT
    ]
    dashboard.open_finding(missing)
    returns = window.pages["returns"]
    assert returns.isVisible() and returns.tabs.currentWidget() is returns.actuals
    assert returns.actuals.period == Q1
    entry = returns.actuals.current()
    assert entry is not None and (entry[0].code, entry[1].quarter) == ("REF", Q1)
    assert entry[1].actual is None
    # On Q2's return, Q1 is named as still to enter.
    returns.show_outcomes(PROJECT, Q2)
    assert f"{PROJECT}/REF {Q1}" in returns.actuals.heading.text()


def test_the_outcome_models_pass_the_model_tester(
    qtbot: QtBot, qtmodeltester: Any, window: Any, db: Database
) -> None:
    values = {"code": "REF", "title": "Shops joining", "unit": "count", "target": 40}
    run_operation(db, AddOutcome(GRANT, PROJECT, values))
    models = [
        _projects_page(qtbot, window).measures.model,
        _returns_page(qtbot, window, Q1).actuals.model,
        window.show_page("dashboard").progress.model,
    ]
    for model in models:
        assert model.rowCount() > 0, model
        qtmodeltester.check(model)
