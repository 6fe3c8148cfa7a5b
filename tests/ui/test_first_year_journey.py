"""Issue 12's Done-when: a finance officer's first quarter, from an EMPTY database, with clicks
and typing only. The one file written by the test is the ledger export the council's finance
system would produce; nothing goes through the command line.

Set up the grant (two instalments, a new local plan of four priorities, the Kent PCC template,
six projects with weights) → import the ledger in the Imports wizard → mark the November
instalment received in the grant editor → change a project's lead on the Projects page → make
a rule from a line on the Spending page and apply it → export the Q1 return from the Returns
page → read the workbook back: its figures equal the core's report, and the database holds
what was done.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from fundtracker.figures import build_report
from fundtracker.models import SpendLine
from fundtracker.periods import Period
from fundtracker.presenters.rules import rule_rows
from fundtracker.returns.reader import read_return
from fundtracker.services.grants import load_grant
from fundtracker.storage import Database
from tests.test_returns_reader import contract
from tests.ui.assistant_support import PROJECTS, choose, click, shot, type_in
from tests.ui.test_assistant import fill_offer, fill_payments, fill_plans, fill_projects
from tests.ui.test_returns import _choose_period
from ui.assistant import NewGrantAssistant
from ui.main_window import MainWindow
from ui.rules import RuleEditor, RulesDialog
from ui.workspace import Workspace

GRANT = "CSF-2026-27"
Q1 = Period.parse("2026/27-Q1")
D = Decimal
# The council ledger export as it comes: a title row, UK dates, £ and commas, a totals row.
# Cost centres CS101–CS106 are the six projects' (the assistant's PROJECTS); the two Print
# Shop lines have none, so they arrive unassigned, and CS999 is no project's.
LEDGER = """Tonbridge and Malling BC - cost centre transactions
Date,Supplier,Description,Reference,Cost centre,Net,VAT
10/04/2026,Kent Youth Trust,Youth sessions April,INV-101,CS101,"£1,200.00",0.00
22/04/2026,RadioLink Security Ltd,Radio airtime,INV-102,CS102,850.50,170.10
05/05/2026,Tonbridge Print Shop,Posters for the town centre,INV-103,,86.40,17.28
19/05/2026,Tonbridge Print Shop,Leaflets,INV-104,,120.00,24.00
02/06/2026,Kent Police,Patrol overtime,INV-105,CS104,"2,400.00",0.00
20/06/2026,Riverside Cafe,Partnership meeting refreshments,INV-106,CS999,45.00,9.00
15/07/2026,DA Forum,One-stop shop July,INV-107,CS103,500.00,0.00
,,Total,,,"5,201.90",220.38
"""


@pytest.fixture
def empty_window(qtbot: QtBot, db: Database) -> Iterator[MainWindow]:
    main = MainWindow(Workspace(db))
    qtbot.addWidget(main)
    main.show()
    qtbot.waitExposed(main)
    yield main


def _lines(db: Database) -> dict[str, tuple[str | None, Decimal]]:
    """reference → (project code, net) of every line in the database."""
    with db.read() as session:
        found = session.scalars(select(SpendLine).order_by(SpendLine.id)).all()
        return {
            line.reference: (line.allocation.code if line.allocation else None, line.net)
            for line in found
        }


def set_up_the_grant(qtbot: QtBot, window: MainWindow) -> None:
    click(qtbot, window.welcome, "Set up a grant")
    wizard = window.assistant
    assert isinstance(wizard, NewGrantAssistant) and wizard.isVisible()
    fill_offer(qtbot, wizard)
    for fill in (fill_payments, fill_plans, fill_projects):
        wizard.next()
        fill(qtbot, wizard)
    wizard.next()
    assert wizard.currentPage() is wizard.review_page
    wizard.accept()
    qtbot.waitUntil(lambda: window.body.currentWidget() is window.splitter)
    assert window.workspace.grant == GRANT


def import_the_ledger(qtbot: QtBot, window: MainWindow, path: Path) -> None:
    page = window.show_page("imports")
    qtbot.keyClicks(page.file_edit, str(path))
    qtbot.mouseClick(page.findChild(type(page.import_button), "toMapping"), _LEFT)
    assert page.steps.currentIndex() == 1
    # Every column has a name the importer knows: nothing to map by hand.
    qtbot.waitUntil(lambda: len([r for r in page.preview.rows if r.kind == "line"]) == 7)
    qtbot.mouseClick(page.findChild(type(page.import_button), "toCheck"), _LEFT)
    qtbot.waitUntil(lambda: page.steps.currentIndex() == 2, timeout=10_000)
    # 7 lines; the two Print Shop lines (no cost centre) and CS999's are unassigned.
    assert page.plan is not None and (page.plan.importable, page.plan.unassigned) == (7, 3)
    qtbot.mouseClick(page.import_button, _LEFT)
    qtbot.waitUntil(lambda: page.steps.currentIndex() == 3, timeout=10_000)


def mark_november_received(qtbot: QtBot, window: MainWindow) -> None:
    page = window.show_page("grants")
    qtbot.waitUntil(lambda: not page.busy())
    click(qtbot, page, "Edit grant")
    payments = page.editor.payments  # type: ignore[attr-defined]
    payments.list.setCurrentRow(1)  # the £30,000.00 expected on 16/11/2026
    type_in(qtbot, payments, "Received on", "18/11/2026")
    click(qtbot, payments, "Mark received")


def change_a_lead(qtbot: QtBot, window: MainWindow, code: str, lead: str) -> None:
    page = window.show_page("projects")
    row = [a.code for a in page.model.allocations].index(code)  # type: ignore[attr-defined]
    index = page.model.index(row, 2)  # type: ignore[attr-defined]  # Code, Project, Lead partner
    page.table.setCurrentIndex(index)  # type: ignore[attr-defined]
    page.table.edit(index)  # type: ignore[attr-defined]
    viewport = page.table.viewport()  # type: ignore[attr-defined]
    (editor,) = [e for e in viewport.findChildren(QLineEdit) if e.isVisible()]
    editor.selectAll()
    qtbot.keyClicks(editor, lead)
    qtbot.keyClick(editor, Qt.Key.Key_Return)


def rule_from_the_print_shop_line(qtbot: QtBot, window: MainWindow, line_id: int) -> None:
    page = window.show_page("spending")
    qtbot.waitUntil(lambda: not page.busy())
    assert page.select_line(line_id)  # type: ignore[attr-defined]
    click(qtbot, page, "Make a rule…")
    (editor,) = [w for w in page.findChildren(RuleEditor) if w.isVisible()]
    # Prefilled from the line: Supplier equals Tonbridge Print Shop; both its lines previewed.
    assert editor.typed() | {"allocation": ""} == {
        "field": "supplier",
        "op": "equals",
        "value": "Tonbridge Print Shop",
        "allocation": "",
    }
    # 86.40 + 120.00 = 206.40
    assert editor.preview_text.text() == "Would assign 2 unassigned lines, net £206.40."
    choose(qtbot, editor, "Project", "A05")
    buttons = editor.findChild(QDialogButtonBox)
    assert buttons is not None
    qtbot.mouseClick(buttons.button(QDialogButtonBox.StandardButton.Save), _LEFT)
    assert not editor.isVisible()
    click(qtbot, page, "Rules…")
    (panel,) = [w for w in page.findChildren(RulesDialog) if w.isVisible()]
    click(qtbot, panel, "Apply rules to unassigned lines")
    assert panel.result_label.text() == "Applied the rules: assigned 2 lines. Ctrl+Z undoes it."
    shot(panel, "rules-applied")
    panel.close()
    qtbot.waitUntil(lambda: not page.busy())
    shot(window, "spending-every-field")  # Line first; account code, VAT irrecoverable, notes


def export_q1(qtbot: QtBot, window: MainWindow, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = window.show_page("returns")
    qtbot.waitUntil(lambda: not page.busy())
    _choose_period(page, str(Q1))
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *_a, **_k: (str(out), ""))
    )
    qtbot.mouseClick(page.export_button, _LEFT)  # type: ignore[attr-defined]
    qtbot.waitUntil(out.exists, timeout=15_000)
    qtbot.waitUntil(lambda: not page.busy(), timeout=15_000)


_LEFT = Qt.MouseButton.LeftButton


def test_first_quarter_from_an_empty_database_with_clicks_and_typing_only(
    qtbot: QtBot,
    empty_window: MainWindow,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = empty_window
    set_up_the_grant(qtbot, window)
    grant = load_grant(db, GRANT)
    assert [a.code for a in grant.allocations] == [p[0] for p in PROJECTS]
    assert grant.local_plan is not None and grant.aligned_plan.key == "kent-pcc-2025"
    assert len([p for p in grant.local_plan.priorities if p.parent_code is None]) == 4

    ledger = tmp_path / "tmbc-ledger-q1.csv"
    ledger.write_text(LEDGER, encoding="cp1252")
    import_the_ledger(qtbot, window, ledger)
    assert _lines(db) == {
        "INV-101": ("A01", D("1200.00")),
        "INV-102": ("A02", D("850.50")),
        "INV-103": (None, D("86.40")),
        "INV-104": (None, D("120.00")),
        "INV-105": ("A04", D("2400.00")),
        "INV-106": (None, D("45.00")),
        "INV-107": ("A03", D("500.00")),
    }

    mark_november_received(qtbot, window)
    change_a_lead(qtbot, window, "A06", "Kent Police analyst")
    with db.read() as session:
        line_id = session.scalar(select(SpendLine.id).where(SpendLine.reference == "INV-103"))
    assert line_id is not None
    rule_from_the_print_shop_line(qtbot, window, line_id)

    out = tmp_path / "CSF-2026-27 Q1 return.xlsx"
    export_q1(qtbot, window, out, monkeypatch)

    # The workbook read back says exactly what the core's report says.
    expected = contract(build_report(db, GRANT, Q1).to_json())
    assert contract(read_return(out)) == expected
    # And the figures, by hand. Q1 spend (April–June; INV-107 is July's):
    # 1,200.00 + 850.50 + 86.40 + 120.00 + 2,400.00 + 45.00 = 4,701.90.
    assert expected["summary"]["spend_to_date"] == "4701.90"
    spend = {a["code"]: a["spend_to_date"] for a in expected["allocations"]}
    # A05 holds the two Print Shop lines the rule assigned: 86.40 + 120.00 = 206.40.
    assert spend == {
        "A01": "1200.00",
        "A02": "850.50",
        "A03": "0.00",
        "A04": "2400.00",
        "A05": "206.40",
        "A06": "0.00",
    }
    # CS999's refreshments are the only spend left unassigned.
    assert expected["unassigned"]["spend_to_date"] == "45.00"

    # The database holds what was done.
    grant = load_grant(db, GRANT)
    assert [(p.date, p.received, p.received_on) for p in grant.payments] == [
        (date(2026, 5, 15), True, None),
        (date(2026, 11, 16), True, date(2026, 11, 18)),
    ]
    assert next(a for a in grant.allocations if a.code == "A06").lead == "Kent Police analyst"
    assert [(r.field, r.op, r.value, r.allocation) for r in rule_rows(db, GRANT)] == [
        ("supplier", "equals", "Tonbridge Print Shop", "A05")
    ]
    assert _lines(db)["INV-103"] == ("A05", D("86.40"))
    assert _lines(db)["INV-104"] == ("A05", D("120.00"))
    # Every step is one undo step: setup, import, received, lead, rule, apply.
    assert window.workspace.undo_stack.count() == 6
