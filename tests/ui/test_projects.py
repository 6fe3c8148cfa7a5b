"""Projects: weights that do not total 100 are refused; fields and weights change through the
grant's setup document and undo back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pytestqt.qtbot import QtBot

from fundtracker.services.grants import load_grant
from fundtracker.storage import Database
from ui.pages.projects import FIELDS

GRANT = "CRG-2025-26"


def _weights(db: Database, code: str) -> dict[str, int]:
    allocation = next(a for a in load_grant(db, GRANT).allocations if a.code == code)
    return {f"{w.priority.plan.key}/{w.priority.code}": w.basis_points for w in allocation.weights}


def test_weights_that_do_not_total_100_are_refused(
    qtbot: QtBot, window: Any, demo_ui_db: Database
) -> None:
    page = window.show_page("projects")
    page.select("A01")
    editor = page.weights
    before = _weights(demo_ui_db, "A01")
    p1 = editor.inputs["kent-pcc-2025"]["P1"]
    p1.clear()
    qtbot.keyClicks(p1, "50")
    assert "90% — must be 100%" in editor.totals["kent-pcc-2025"].text()
    qtbot.mouseClick(editor.save, qtbot_left())
    assert "total 90, must be 100" in editor.error.text()
    assert _weights(demo_ui_db, "A01") == before
    assert window.workspace.undo_stack.count() == 0

    qtbot.keyClicks(editor.inputs["kent-pcc-2025"]["P3"], "10")
    assert editor.totals["kent-pcc-2025"].text() == "100%"
    qtbot.mouseClick(editor.save, qtbot_left())
    after = _weights(demo_ui_db, "A01")
    assert after["kent-pcc-2025/P1"] == 5000 and after["kent-pcc-2025/P3"] == 1000

    window.undo_action.trigger()
    assert _weights(demo_ui_db, "A01") == before


def test_edit_a_budget_in_the_table_and_undo(
    qtbot: QtBot, window: Any, demo_ui_db: Database
) -> None:
    page = window.show_page("projects")
    budget_column = 5
    row = [a.code for a in page.model.allocations].index("A02")
    assert page.model.setData(page.model.index(row, budget_column), "£4,750.00")
    grant = load_grant(demo_ui_db, GRANT)
    assert next(a for a in grant.allocations if a.code == "A02").budget == Decimal("4750.00")
    assert not page.model.setData(page.model.index(row, budget_column), "lots")  # refused
    window.undo_action.trigger()
    grant = load_grant(demo_ui_db, GRANT)
    assert next(a for a in grant.allocations if a.code == "A02").budget == Decimal("4500.00")


def qtbot_left() -> Any:
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_setting_one_quarter_of_an_even_profile_shares_the_rest_over_later_quarters(
    qtbot: QtBot, window: Any, demo_ui_db: Database
) -> None:
    page = window.show_page("projects")
    row = [a.code for a in page.model.allocations].index("A02")
    q2 = 6 + 1  # the fixed columns, then Q1, Q2, ...
    assert page.model.index(row, q2).data() == "even"
    assert page.model.setData(page.model.index(row, q2), "1500")
    # A02's budget is £4,500.00, evenly £1,125.00 a quarter. Q2 set to £1,500.00 leaves
    # 4500 - 1125 - 1500 = £1,875.00 for Q3 and Q4: £937.50 each; the total stays £4,500.00.
    allocation = next(a for a in load_grant(demo_ui_db, GRANT).allocations if a.code == "A02")
    assert [p.amount for p in allocation.profile] == [
        Decimal("1125.00"),
        Decimal("1500.00"),
        Decimal("937.50"),
        Decimal("937.50"),
    ]
    window.undo_action.trigger()
    allocation = next(a for a in load_grant(demo_ui_db, GRANT).allocations if a.code == "A02")
    assert allocation.profile == []


def test_a_budget_edit_keeps_the_profiles_shape_and_reset_to_even_is_one_click(
    qtbot: QtBot, window: Any, demo_ui_db: Database
) -> None:
    page = window.show_page("projects")
    row = [a.code for a in page.model.allocations].index("A03")  # profiled 1500/2000/2000/2000
    budget = [label for label, *_ in FIELDS].index("Budget")
    assert page.model.setData(page.model.index(row, budget), "8000")

    def a03() -> Any:
        return next(a for a in load_grant(demo_ui_db, GRANT).allocations if a.code == "A03")

    # 800000 pence in the shape 1500:2000:2000:2000 is 160000 and 213333.33 three times; the
    # odd penny goes to the first tied quarter.
    assert a03().budget == Decimal("8000.00")
    assert [p.amount for p in a03().profile] == [
        Decimal("1600.00"),
        Decimal("2133.34"),
        Decimal("2133.33"),
        Decimal("2133.33"),
    ]
    qtbot.waitUntil(lambda: not page._stale)  # the table shows the new profile
    page.select("A03")
    page.even_button.click()
    assert a03().profile == []  # even: £2,000.00 a quarter, as the figures spread it
    window.undo_action.trigger()
    assert sum(p.amount for p in a03().profile) == Decimal("8000.00")
