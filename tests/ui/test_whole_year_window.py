"""Issue 13's done-when in the window: the whole year of tests/test_whole_year.py (the same
grant, the same four ledger exports, the same hand-worked figures, imported from there) run
with the officer's clicks and typing. Each quarter's export through the Imports page, the
PCC's payment and the Safer Streets lines excluded in its check; PO-1 typed on the Spending
page's entry strip as a committed line in Q1; Submit… on the Returns page each quarter; Record
a virement… in Q3, then Record the invoice… matching PO-1 to its imported invoice; Close the
year… and Start next year's grant…, moving the April line.

After each step the Returns page's figures, the Spending page's Counted in and the database
are checked; a refusal anywhere (a message box over the window) fails the test. At the end
every figure equals test_whole_year.py's, read through the CLI's report as a script would.

Set FUNDTRACKER_DIALOG_SCREENSHOTS=DIR to keep a picture of each step (whole-year-*.png).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QPushButton, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from fundtracker.models import Grant, SpendLine
from fundtracker.money import format_money
from fundtracker.services.grants import get_grant
from fundtracker.services.virements import list_virements
from fundtracker.storage import Database
from fundtracker.year_end import STATEMENT_LABELS
from tests import test_whole_year
from tests.test_whole_year import (
    FIGURES,
    GRANT,
    NEXT,
    NEXT_AWARD,
    NEXT_BUDGETS,
    Q1_LINES,
    Q2_LINES,
    Q3_LINES,
    Q4_LINES,
    SUMMARIES,
    SUMMARY_KEYS,
    YEAR_END,
    Year,
    _figures,
    _ledger,
    _summary,
)
from tests.ui.assistant_support import choose, type_in
from tests.ui.conftest import message_boxes
from tests.ui.test_returns import _choose_period
from tests.ui.test_year_window import _choose, _ok, _opened, _type
from ui import dialogs
from ui.main_window import MainWindow
from ui.models.spend_model import COLUMNS as SPEND_COLUMNS
from ui.workspace import Workspace
from ui.year_dialogs import InvoiceDialog, NextYearDialog, VirementDialog

_LEFT = Qt.MouseButton.LeftButton
# Typed in each quarter's check, as the placeholder of the field shows the officer.
EXCLUSIONS = "cost_centre=SS900, account_code=9000"


def _shot(widget: QWidget, name: str) -> None:
    folder = os.environ.get("FUNDTRACKER_DIALOG_SCREENSHOTS")
    if folder:
        widget.grab().save(str(Path(folder) / f"whole-year-{name}.png"))


# The CLI's year as its fixture sets it up: the local plan and the grant file imported.
year = test_whole_year.year
QUESTIONS: list[str] = []  # what the window asked, answered Yes


@pytest.fixture
def officer(
    qtbot: QtBot, db: Database, year: Year, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MainWindow]:
    """The window over the year's database, its questions answered Yes and its save dialogs
    answered with the name it suggests, in the test's folder."""
    QUESTIONS.clear()

    def confirm(_parent: QWidget, _title: str, text: str, *_action: str) -> bool:
        QUESTIONS.append(text)
        return True

    monkeypatch.setattr(dialogs, "confirm", confirm)
    monkeypatch.setattr(
        QFileDialog,
        "getSaveFileName",
        staticmethod(lambda _parent, _title, name, *_a, **_k: (str(tmp_path / name), "")),
    )
    main = MainWindow(Workspace(db))
    main.resize(1400, 900)
    qtbot.addWidget(main)
    main.show()
    qtbot.waitExposed(main)
    yield main


def _money(text: str) -> str:
    """A report's two-decimal string as the window shows it (£1,234.50)."""
    return format_money(Decimal(text))


def _nothing_refused(window: MainWindow) -> None:
    assert [box.text() for box in message_boxes(window)] == []


def _lines(db: Database, grant: str = GRANT) -> dict[str, SpendLine]:
    with db.read() as session:
        grant_id = get_grant(session, grant).id
        found = session.scalars(select(SpendLine).where(SpendLine.grant_id == grant_id))
        return {line.reference: line for line in found}


def import_quarter(
    qtbot: QtBot, window: MainWindow, path: Path, lines: int, to_import: int
) -> None:
    """The Imports page: the file, its columns as read, the check with the other funds' lines
    excluded (the two of them: the PCC's income and Safer Streets), then Import."""
    page: Any = window.show_page("imports")
    check_file(qtbot, page, path, lines)
    type_in(qtbot, page, "Lines to exclude as not this grant", EXCLUSIONS)
    qtbot.keyClick(page.exclude_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.plan is not None and page.plan.excluded == 2, timeout=10_000)
    plan = page.plan
    assert (plan.importable, plan.unassigned, plan.bad_rows) == (to_import, 0, 0)
    # The file's own totals row ties to its rows (worked in test_whole_year's _ledger).
    assert plan.totals_row is not None and plan.totals_row.agrees
    assert page.import_button.text() == f"Import {to_import} lines"
    shown = page.plan_label.text()
    assert "2 lines excluded as not this grant" in shown and "1 row skipped" in shown
    _shot(window, f"{path.stem}-check")
    qtbot.mouseClick(page.import_button, _LEFT)
    qtbot.waitUntil(lambda: page.steps.currentIndex() == 3, timeout=10_000)
    _nothing_refused(window)


def check_file(qtbot: QtBot, page: Any, path: Path, lines: int) -> None:
    """The file named, its columns and preview, then the check (the Imports page's steps)."""
    if page.steps.currentIndex() == 3:  # the last file's import done
        _press(qtbot, page, "Import another file")
    type_in(qtbot, page, "Ledger file", str(path))
    qtbot.mouseClick(page.findChild(type(page.import_button), "toMapping"), _LEFT)
    qtbot.waitUntil(lambda: len([r for r in page.preview.rows if r.kind == "line"]) == lines + 2)
    qtbot.mouseClick(page.findChild(type(page.import_button), "toCheck"), _LEFT)
    qtbot.waitUntil(lambda: page.steps.currentIndex() == 2, timeout=10_000)


def _press(qtbot: QtBot, page: QWidget, text: str) -> None:
    (button,) = [b for b in page.findChildren(QPushButton) if b.text() == text and b.isVisible()]
    qtbot.mouseClick(button, _LEFT)


def the_same_file_again(qtbot: QtBot, window: MainWindow, path: Path) -> None:
    """Q1's export checked again by mistake: its three lines are duplicates and the other
    funds' two lines excluded as remembered, with nothing typed; nothing to import."""
    page: Any = window.show_page("imports")
    check_file(qtbot, page, path, 3)
    plan = page.plan
    assert (plan.importable, plan.duplicates, plan.excluded) == (0, 3, 2)
    assert not page.import_button.isEnabled()
    _press(qtbot, page, "‹ Back")
    _press(qtbot, page, "‹ Back")
    assert page.steps.currentIndex() == 0


def returns_page_shows(qtbot: QtBot, window: MainWindow, period: str) -> Any:
    """The Returns page on ``period``: its figures are the hand-worked ones."""
    page: Any = window.show_page("returns")
    qtbot.waitUntil(lambda: not page.busy())
    _choose_period(page, period)
    shown = tuple(page.figure_labels[key].text() for key in SUMMARY_KEYS)
    assert shown == tuple(_money(value) for value in SUMMARIES[period])
    assert page.figure_labels["projected_overspend"].text() == "£0.00"
    return page


def submit(qtbot: QtBot, window: MainWindow, period: str, folder: Path) -> None:
    page = returns_page_shows(qtbot, window, period)
    _shot(window, f"returns-{period[-2:]}")
    asked = len(QUESTIONS)
    qtbot.mouseClick(page.submit_button, _LEFT)
    saved = folder / f"{GRANT}-{period.replace('/', '-')}.xlsx"
    qtbot.waitUntil(saved.exists, timeout=15_000)
    qtbot.waitUntil(lambda: "Submitted" in page.status.text(), timeout=15_000)
    # Asked once, errors and warnings together.
    assert [q.split("\n")[0] for q in QUESTIONS[asked:]] == [f"Submit the return for {period}?"]
    assert window.statusBar().currentMessage() == f"Return submitted and written to {saved}"
    assert not page.submit_button.isEnabled()
    _nothing_refused(window)


def add_the_purchase_order(qtbot: QtBot, window: MainWindow) -> None:
    """PO-1 typed on the entry strip, status committed, Add line."""
    page: Any = window.show_page("spending")
    qtbot.waitUntil(lambda: not page.busy())
    type_in(qtbot, page, "New line Date", "15/05/2025")
    choose(qtbot, page, "New line Project", "A02")
    type_in(qtbot, page, "New line Supplier", "SecureView Ltd")
    type_in(qtbot, page, "New line Description", "Cameras")
    type_in(qtbot, page, "New line Reference", "PO-1")
    type_in(qtbot, page, "New line Net", "1250.00")
    choose(qtbot, page, "New line Status", "committed")
    qtbot.mouseClick(page.add_button, _LEFT)
    assert page.entry_error.text() == ""
    _nothing_refused(window)


def counted_in(qtbot: QtBot, window: MainWindow, line_id: int) -> str:
    """The Spending page's Counted in for one line."""
    page: Any = window.show_page("spending")
    qtbot.waitUntil(lambda: not page.busy())
    assert page.select_line(line_id)
    row = next(n for n, r in enumerate(page.model.rows) if r.id == line_id)
    column = [c.header for c in SPEND_COLUMNS].index("Counted in")
    return str(page.model.index(row, column).data())


def record_the_virement(qtbot: QtBot, window: MainWindow) -> None:
    page: Any = window.show_page("projects")
    qtbot.mouseClick(page.virement_button, _LEFT)
    form = _opened(page, VirementDialog)
    _choose(form, "from", "A03")
    _choose(form, "to", "A01")
    _type(qtbot, form, amount="£600.00", approval="OPCC/VIR/2025/07", approved_on="26/09/2025")
    _type(qtbot, form, effective="01/10/2025", note="Workshops under-subscribed")
    _shot(form, "virement")
    _ok(qtbot, form)
    assert not form.isVisible(), form.error.text()
    _nothing_refused(window)
    # The table, once refreshed: A01 8,000 + 600 = 8,600.00, A03 4,000 − 600 = 3,400.00, A02
    # untouched. (Its quarters stay the profile as typed; the figures spread the virement.)
    model = page.model
    qtbot.waitUntil(lambda: "Budget after virements" in _headers(model))
    assert _cells(model, "A01") == ["£8,000.00", "£600.00", "£8,600.00"]
    assert _cells(model, "A02") == ["£6,000.00", "£0.00", "£6,000.00"]
    assert _cells(model, "A03") == ["£4,000.00", "-£600.00", "£3,400.00"]
    _shot(window, "projects-after-virement")


def _headers(model: Any) -> list[str]:
    return [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]


def _cells(model: Any, code: str) -> list[str]:
    """A project's Original budget, Virements and Budget after virements."""
    row = [a.code for a in model.allocations].index(code)
    first = _headers(model).index("Original budget")
    return [str(model.index(row, c).data()) for c in range(first, first + 3)]


def match_the_invoice(qtbot: QtBot, window: MainWindow, po: int, invoice: int) -> None:
    page: Any = window.show_page("spending")
    qtbot.waitUntil(lambda: not page.busy())
    assert page.select_line(po)
    qtbot.mouseClick(page.invoice_button, _LEFT)
    dialog = _opened(page, InvoiceDialog)
    qtbot.mouseClick(dialog.match, _LEFT)
    _choose(dialog, "actual", invoice)
    _shot(dialog, "invoice-matched")
    _ok(qtbot, dialog)
    assert not dialog.isVisible(), dialog.error.text()
    _nothing_refused(window)


def close_and_start_next_year(qtbot: QtBot, window: MainWindow) -> None:
    page: Any = returns_page_shows(qtbot, window, "2025/26-Q4")
    assert page.year_button.text() == "Close the year…" and page.year_button.isEnabled()
    qtbot.mouseClick(page.year_button, _LEFT)
    qtbot.waitUntil(lambda: page.year_button.text() == "Reopen the year…")
    # The statement shown before closing: test_whole_year's year-end figures.
    statement = "\n".join(f"{label}: {_money(YEAR_END[key])}" for key, label in STATEMENT_LABELS)
    assert QUESTIONS[-1].endswith("\n\n" + statement)
    assert window.statusBar().currentMessage() == (
        f"Year closed: to return to the funder {_money(YEAR_END['to_return'])}, "
        f"still due from the funder {_money(YEAR_END['due_from_funder'])}"
    )
    _nothing_refused(window)
    _shot(window, "year-closed")
    qtbot.mouseClick(page.next_year_button, _LEFT)
    dialog = _opened(page, NextYearDialog)
    # The April line that came in March's export is offered, ticked, to move with it.
    assert dialog.move_lines.isChecked() and "1 line(s)" in dialog.move_lines.text()
    _type(qtbot, dialog, reference=NEXT, award=NEXT_AWARD)
    _shot(dialog, "next-year")
    _ok(qtbot, dialog)
    assert not dialog.isVisible(), dialog.error.text()
    _nothing_refused(window)


def test_the_whole_year_in_the_window(
    qtbot: QtBot, officer: MainWindow, year: Year, db: Database, tmp_path: Path
) -> None:
    window = officer
    assert window.workspace.grant == GRANT
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()

    # --- Q1 ---------------------------------------------------------------------------------
    q1 = _ledger(ledgers, "Q1", Q1_LINES, "30/06/2025")
    import_quarter(qtbot, window, q1, lines=3, to_import=3)
    add_the_purchase_order(qtbot, window)
    lines = _lines(db)
    assert (lines["PO-1"].status, lines["PO-1"].net) == ("committed", Decimal("1250.00"))
    # 3 imported + PO-1; neither the PCC's payment nor Safer Streets came in.
    assert sorted(lines) == ["AUK-301", "PO-1", "SV-201", "YZ-101"]
    submit(qtbot, window, "2025/26-Q1", tmp_path)

    # --- Q2: the June invoice posted in August, counted in Q2 --------------------------------
    q2 = _ledger(ledgers, "Q2", Q2_LINES, "30/09/2025")
    import_quarter(qtbot, window, q2, lines=4, to_import=4)
    late = _lines(db)["YZ-102"]
    assert late.date.isoformat() == "2025-06-25"
    assert counted_in(qtbot, window, late.id) == "2025/26-Q2"
    _shot(window, "spending-late-line")
    the_same_file_again(qtbot, window, q1)
    submit(qtbot, window, "2025/26-Q2", tmp_path)
    # Q1 as submitted: the late line is not in it.
    returns_page_shows(qtbot, window, "2025/26-Q1")

    # --- Q3: the virement, then the invoice for PO-1 matched ---------------------------------
    record_the_virement(qtbot, window)
    assert [(v["from"], v["to"], v["amount"]) for v in list_virements(db, GRANT)] == [
        ("A03", "A01", "600.00")
    ]
    q3 = _ledger(ledgers, "Q3", Q3_LINES, "31/12/2025")
    import_quarter(qtbot, window, q3, lines=3, to_import=3)
    lines = _lines(db)
    match_the_invoice(qtbot, window, lines["PO-1"].id, lines["SV-203"].id)
    # PO-1 released on the invoice's day, 14/11/2025: the 1,250.00 counts once, as spend.
    assert _lines(db)["PO-1"].released_on.isoformat() == "2025-11-14"  # type: ignore[union-attr]
    assert counted_in(qtbot, window, lines["SV-203"].id) == "2025/26-Q3"
    submit(qtbot, window, "2025/26-Q3", tmp_path)

    # --- Q4, the year closed, next year started ----------------------------------------------
    q4 = _ledger(ledgers, "Q4", Q4_LINES, "31/03/2026")
    import_quarter(qtbot, window, q4, lines=4, to_import=4)
    submit(qtbot, window, "2025/26-Q4", tmp_path)
    close_and_start_next_year(qtbot, window)
    assert window.workspace.grant == NEXT
    with db.read() as session:
        assert get_grant(session, GRANT).closed_at is not None
        new = get_grant(session, NEXT)
        assert new.award == Decimal(NEXT_AWARD)
        assert {a.code: str(a.budget) for a in new.allocations} == NEXT_BUDGETS
        assert len(session.scalars(select(Grant.id)).all()) == 2
    assert list(_lines(db, NEXT)) == ["YZ-106"]
    # Left in the old grant: 3 + PO-1 + 4 + 3 + 3 = 14 lines, each once.
    assert len(_lines(db)) == 14

    # --- Every figure as test_whole_year.py worked it out, read as a script reads it ---------
    for period, figures in FIGURES.items():
        report = year.report(period)
        assert _figures(report) == figures, period
        assert _summary(report, *SUMMARY_KEYS) == SUMMARIES[period], period
    assert year.report("2025/26-Q4")["year_end"] == YEAR_END
