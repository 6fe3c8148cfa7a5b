"""The OPCC's pages (issue 16): Received returns, Funded partnerships and County, driven as the
officer would over the OPCC's own database (no grant of its own), asserting on the tables,
the database and the Panel's workbook read back.

The partnerships' returns are made once by the real export code (tests/test_opcc_county.py's
grants): CRG-01, CRG-02 (version 1, then 2 after a £250.00 invoice), CRG-12 (aligned to the
older plan) and a copy of CRG-03's with £500.00 of project A's spend hidden by hand.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from fundtracker.models import FundedPartnership, ReceivedReturn
from fundtracker.money import format_money
from fundtracker.opcc.county import county_figures
from fundtracker.opcc.operations import AddFunded
from fundtracker.operations import run_operation
from fundtracker.returns import submission
from fundtracker.storage import Database, open_database
from tests.figure_scenarios import add_line
from tests.test_opcc_county import Q2, alter_projects_spend, build_grants, funded_values


@dataclass(frozen=True)
class Files:
    crg01: Path
    crg02_v1: Path
    crg02_v2: Path
    crg12: Path
    altered: Path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Files]:
    folder = tmp_path_factory.mktemp("partnerships")
    partnership = open_database(str(folder / "partnerships.sqlite3"))
    build_grants(partnership)
    out: dict[str, Path] = {}
    for i in (1, 2, 3, 12):
        out[f"{i}"] = folder / f"CRG-{i:02d} Q2.xlsx"
        submission.export_return(
            partnership, f"CRG-{i:02d}", Q2, out[f"{i}"], prepared_by=f"Officer {i}", submit=True
        )
    submission.reopen_return(partnership, "CRG-02", Q2, "an invoice was missed")
    add_line(partnership, "CRG-02", date(2025, 9, 20), "250.00", "A")
    v2 = folder / "CRG-02 Q2 v2.xlsx"
    submission.export_return(partnership, "CRG-02", Q2, v2, prepared_by="Officer 2", submit=True)
    partnership.dispose()
    altered = folder / "CRG-03 Q2 altered.xlsx"
    shutil.copy(out["3"], altered)
    alter_projects_spend(altered, Decimal("-500.00"))
    yield Files(out["1"], out["2"], v2, out["12"], altered)


@pytest.fixture
def opcc_window(qtbot: QtBot, db: Database) -> Iterator[Any]:
    """The main window over the OPCC's database: no grant, nothing received yet."""
    from ui.main_window import MainWindow
    from ui.workspace import Workspace

    main = MainWindow(Workspace(db))
    qtbot.addWidget(main)
    main.show()
    qtbot.waitExposed(main)
    yield main


def stored(db: Database) -> list[tuple[str, int, str]]:
    with db.read() as session:
        rows = session.scalars(select(ReceivedReturn).order_by(ReceivedReturn.id))
        return [(r.grant_reference, r.version_number, r.status) for r in rows]


def column(model: Any, header: str) -> list[str]:
    number = [c.header for c in model.columns].index(header)
    return [model.columns[number].text(row) for row in model.rows]


def test_receiving_through_the_page_adds_supersedes_refuses_and_undoes_as_one_step(
    qtbot: QtBot, opcc_window: Any, db: Database, files: Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = opcc_window
    # A database with no grant and nothing received opens on the welcome page; the OPCC's
    # pages are hidden until asked for.
    assert window.body.currentWidget() is window.welcome
    received_row = [n for n, _t in window_pages()].index("received")
    assert window.sidebar.item(received_row).isHidden()

    # File > Receive returns…: two returns and the altered one, chosen together.
    chosen = [str(files.crg01), str(files.crg02_v1), str(files.altered)]
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", staticmethod(lambda *_a, **_k: (chosen, ""))
    )
    window.receive_action.trigger()
    page = window.page("received")
    qtbot.waitUntil(lambda: not page.receiving and len(page.outcomes.rows) == 3, timeout=20_000)
    assert window.body.currentWidget() is window.splitter
    assert not window.sidebar.item(received_row).isHidden()
    dashboard_row = [n for n, _t in window_pages()].index("dashboard")
    assert window.sidebar.item(dashboard_row).isHidden()  # the OPCC has no grant of its own
    assert not window.import_action.isEnabled()  # no grant of its own to import into
    # The refused file first: it is what the officer must act on.
    assert column(page.outcomes, "Outcome") == ["Refused", "Added", "Added"]
    assert column(page.outcomes, "Return") == [
        "",
        "CSP 01 CRG-01 2025/26-Q2 v1",
        "CSP 02 CRG-02 2025/26-Q2 v1",
    ]
    # CRG-03 spent £3,000.00 on A; the copy was made to say £2,500.00.
    assert column(page.outcomes, "Why")[0] == (
        "CRG-03 Q2 altered.xlsx was altered after export: Projects A Spend to date reads "
        "£2,500.00 but the return as exported says £3,000.00"
    )
    assert page.summary.text() == "3 files: 2 added, 1 refused"
    assert stored(db) == [("CRG-01", 1, "current"), ("CRG-02", 1, "current")]

    # Version 2 dropped on the page supersedes version 1; both are listed.
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(files.crg02_v2))])
    drop = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    page.dropEvent(drop)
    qtbot.waitUntil(lambda: len(page.received.rows) == 3, timeout=20_000)
    assert column(page.outcomes, "Outcome") == ["Added: supersedes"]
    assert column(page.outcomes, "Why") == ["supersedes version 1"]
    assert stored(db) == [
        ("CRG-01", 1, "current"),
        ("CRG-02", 1, "superseded"),
        ("CRG-02", 2, "current"),
    ]
    # The list: newest version first within each return, with who prepared it and the file's
    # SHA-256 in short (whole in the tooltip).
    assert [
        (r.grant_reference, r.version, r.status, r.prepared_by) for r in page.received.rows
    ] == [
        ("CRG-01", 1, "Current", "Officer 1"),
        ("CRG-02", 2, "Current", "Officer 2"),
        ("CRG-02", 1, "Superseded", "Officer 2"),
    ]
    sha = hashlib.sha256(files.crg01.read_bytes()).hexdigest()
    assert column(page.received, "File SHA-256")[0] == sha[:12] + "…"

    # The same file again adds nothing.
    page.receive([files.crg01])
    qtbot.waitUntil(lambda: column(page.outcomes, "Outcome") == ["Already received"])
    assert len(stored(db)) == 3

    # Undo takes back a whole batch: a batch that added nothing is no step, so the first
    # undo removes version 2 and makes version 1 current again.
    window.workspace.undo_stack.undo()
    assert stored(db) == [("CRG-01", 1, "current"), ("CRG-02", 1, "current")]
    qtbot.waitUntil(lambda: len(page.received.rows) == 2)
    assert page.outcome_table.isHidden() and page.summary.text() == ""  # no stale "added"


def window_pages() -> tuple[tuple[str, str], ...]:
    from ui.main_window import ALL_PAGES

    return ALL_PAGES


def test_funded_partnerships_are_added_and_edited_with_refusals_beside_the_field(
    qtbot: QtBot, opcc_window: Any, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = opcc_window
    window.opcc_action.trigger()  # View > The OPCC's pages
    page = window.show_page("funded")
    monkeypatch.setattr("ui.pages.funded.local_date", lambda: date(2025, 11, 15))
    dialog = page.open_dialog(None)
    values = {
        "Partnership": "Ashford CSP",
        "Grant reference": "CRG-01",
        "Award": "11,000.00",
        "Start": "01/04/2025",
        "End": "31/03/2025",
    }
    for label, text in values.items():
        dialog.form.fields[label].setText(text)
    dialog.save()
    assert dialog.form.refusals["End"].text().endswith("End: the grant must end after it starts")
    assert dialog.isVisible()
    dialog.form.fields["End"].setText("31/03/2026")
    dialog.save()
    assert not dialog.isVisible()
    with db.read() as session:
        [row] = session.scalars(select(FundedPartnership)).all()
        assert (row.recipient, row.award, row.end_date) == (
            "Ashford CSP",
            Decimal("11000.00"),
            date(2026, 3, 31),
        )
    qtbot.waitUntil(lambda: len(page.funded.rows) == 1)
    # As at 15/11/2025: Q1 (due 30/07/2025) and Q2 (due 30/10/2025) are missing; Q3 and Q4
    # are not yet due.
    findings = [page.findings.item(n).text() for n in range(page.findings.count())]
    assert [f.split(":")[0] for f in findings] == ["RETURN_MISSING", "RETURN_MISSING"]
    assert column(page.expected, "State") == ["Not yet due", "Not yet due", "Missing", "Missing"]
    assert column(page.expected, "Due")[-1] == "30/07/2025"

    page.funded_table.selectRow(0)
    edit = page.open_dialog(page.funded.row(page.funded.index(0, 0)))
    edit.form.fields["Award"].setText("12,500.50")
    edit.save()
    assert not edit.isVisible()
    qtbot.waitUntil(lambda: column(page.funded, "Award") == ["£12,500.50"])
    assert column(page.funded, "End") == ["31/03/2026"]
    window.workspace.undo_stack.undo()  # the edit, one step
    qtbot.waitUntil(lambda: column(page.funded, "Award") == ["£11,000.00"])


def test_the_county_page_shows_county_figures_and_writes_the_panel_workbook(
    qtbot: QtBot,
    opcc_window: Any,
    db: Database,
    files: Files,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for i in (1, 2, 12, 13):
        run_operation(db, AddFunded(funded_values(i)))
    window = opcc_window
    window.fill_grants()  # funded partnerships: the OPCC's pages now show by themselves
    received = window.show_page("received")
    received.receive([files.crg01, files.crg02_v1, files.crg12])
    qtbot.waitUntil(lambda: len(received.received.rows) == 3, timeout=20_000)
    page = window.show_page("county")
    qtbot.waitUntil(lambda: len(page.partnerships.rows) == 4)
    assert page.period_box.currentText() == "2025/26-Q2"
    figures = county_figures(db, Q2)
    assert page.plan_box.currentData() == figures["plan"]["key"] == "pcc-2025"

    def money(text: str) -> str:
        return format_money(Decimal(text))

    # Partnerships: one row each, then the totals, as county_figures has them.
    rows = page.partnerships.rows
    assert [r[1] for r in rows] == ["CRG-01", "CRG-02", "CRG-12", "3 returns"]
    total = figures["totals"]
    assert rows[-1][3:11] == tuple(
        money(total[k])
        for k in (
            "award",
            "received",
            "spend_to_date",
            "committed",
            "forecast_outturn",
            "projected_underspend",
            "projected_overspend",
            "unassigned",
        )
    )
    # Spend to date £1,000 + £2,000 + £12,000 = £15,000.00.
    assert rows[-1][5] == "£15,000.00"
    # Priorities: the plan's, then Unaligned (CRG-12 follows the older plan: all its
    # £12,000.00 is there), then the Total, equal to the partnerships' spend.
    priorities = page.priorities.rows
    assert [(r[0], r[1], r[3]) for r in priorities[:-1]] == [
        (p["code"] or "", p["title"], money(p["spend_to_date"])) for p in figures["priorities"]
    ]
    assert priorities[-2][1:4:2] == ("Unaligned", "£12,000.00")
    assert priorities[-1][3] == "£15,000.00"
    # CRG-13 sent nothing: missing; the others arrive today, after their due date: late.
    assert [(r[0].split(" ")[0], r[2]) for r in page.missing.rows] == [
        ("Missing", "CRG-13"),
        *(("Late", item["grant_reference"]) for item in figures["late"]),
    ]
    assert len(figures["late"]) == 3
    first = figures["attention"][0]  # the attention list is the page's first thing
    assert page.attention.item(0).text() == (
        f"{first['recipient']} ({first['grant_reference']}) projects an {first['kind']} of "
        f"{money(first['amount'])} ({first['percent_of_award']}% of the award)"
    )

    # The older plan chosen: its priorities, from CRG-12 alone; the others are Unaligned.
    page.plan_box.setCurrentIndex(page.plan_box.findData("pcc-2024"))
    older = county_figures(db, Q2, "pcc-2024")
    assert [(r[0], r[3]) for r in page.priorities.rows[:-1]] == [
        (p["code"] or "", money(p["spend_to_date"])) for p in older["priorities"]
    ]
    assert page.plan_box.currentData() == "pcc-2024"
    plans = [page.plan_box.itemData(n) for n in range(page.plan_box.count())]
    assert plans == ["pcc-2024", "pcc-2025"]  # in one order, whichever is chosen
    page.plan_box.setCurrentIndex(page.plan_box.findData("pcc-2025"))

    # Panel workbook…: written and read back, every figure with the file it came from.
    out = tmp_path / "panel.xlsx"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *_a, **_k: (str(out), ""))
    )
    qtbot.mouseClick(page.panel_button, Qt.MouseButton.LeftButton)
    assert out.exists()
    book = load_workbook(out)
    assert book.sheetnames[:2] == ["Summary", "Partnerships"]
    sheet = book["Partnerships"]
    headers = [c.value for c in sheet[3]]
    listed = [
        (r[headers.index("Grant reference")], r[headers.index("File SHA-256")])
        for r in sheet.iter_rows(min_row=4, values_only=True)
        if r[headers.index("Grant reference")]
    ]
    assert listed == [(p["grant_reference"], p["file_sha256"]) for p in figures["partnerships"]]
