"""Issue 13 in the window: an overspend is never hidden (the dashboard tile reads "Projected
overspend" in red, the Returns page shows it, Submit lists warnings as well as errors and asks
once), and the Spending page shows the period a late line is counted in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from fundtracker.figures import build_report
from fundtracker.money import format_money
from fundtracker.periods import Period
from fundtracker.returns.submission import export_return
from fundtracker.services import spend
from fundtracker.storage import Database
from ui.models.spend_model import COLUMNS

GRANT = "CRG-2025-26"
Q1 = Period.parse("2025/26-Q1")


def _overspend(db: Database) -> Any:
    """A £100,000.00 line pushes the grant's forecast well past its award."""
    spend.add_spend(db, GRANT, {"date": "2025-05-01", "net": "100000.00", "allocation": "A01"})
    return build_report(db, GRANT, Q1).summary


def test_dashboard_tile_reads_projected_overspend_in_red(
    qtbot: QtBot, window: Any, demo_ui_db: Database
) -> None:
    summary = _overspend(demo_ui_db)
    assert summary.projected_overspend > 0 and summary.projected_underspend == 0
    page = window.show_page("dashboard")
    page.period_box.setCurrentIndex(page.period_box.findData(str(Q1)))
    page._show_period()
    tile = page.tiles["projected_underspend"]
    assert tile.heading.text() == "Projected overspend"
    assert tile.value.text() == format_money(summary.projected_overspend)
    assert tile.value.property("alert") is True


def test_returns_page_shows_the_overspend_and_submit_asks_once_with_warnings(
    qtbot: QtBot,
    window: Any,
    demo_ui_db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.ui.test_returns import _choose_period
    from ui import dialogs
    from ui.accessibility import signal_colour

    summary = _overspend(demo_ui_db)
    page = window.show_page("returns")
    _choose_period(page, str(Q1))
    shown = page.figure_labels["projected_overspend"]
    assert shown.text() == format_money(summary.projected_overspend)
    assert signal_colour("error") in shown.styleSheet()  # red that reads on the palette
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "confirm", lambda _p, _t, text, _a="": asked.append(text) or False)
    page.submit()
    assert len(asked) == 1  # asked once
    assert "warning(s)" in asked[0] and "ALLOC_OVERSPENT" not in asked[0]
    assert "over its" in asked[0]  # the overspend warning's own message is listed
    if "error(s)" in asked[0]:
        assert asked[0].index("error(s)") < asked[0].index("warning(s)")  # errors first


def test_spending_shows_counted_in_for_a_late_line(
    qtbot: QtBot, window: Any, demo_ui_db: Database, tmp_path: Path
) -> None:
    export_return(demo_ui_db, GRANT, Q1, tmp_path / "q1.xlsx", submit=True)
    late = spend.add_spend(
        demo_ui_db, GRANT, {"date": "2025-06-15", "net": "12.00", "reference": "LATE-UI"}
    )
    page = window.show_page("spending")
    page.reload()
    assert page.select_line(late.id)
    column = [c.header for c in COLUMNS].index("Counted in")
    model = page.model
    row = next(n for n in range(model.rowCount()) if model.line_at(n).id == late.id)
    assert model.data(model.index(row, column)) == "2025/26-Q2"
    date_column = [c.header for c in COLUMNS].index("Date")
    assert model.data(model.index(row, date_column)) == "15/06/2025"
