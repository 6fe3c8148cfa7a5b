"""Seeded random sequences of what an officer does in the window — switch grant, import a grant
file, import a ledger, add, edit, split, assign and delete lines, edit projects and weights,
undo, redo — over two grants. After every step, every page shows the core's figures for the
selected grant, and the database is exactly what the steps say: a refused step changed nothing,
an undo brings back the data as it was before the step, a redo as it was after.

The seed is fixed so a failure can be replayed; set FUNDTRACKER_SEQUENCE_SEED to explore others
(the failing seed and step are in the assertion message).
"""

from __future__ import annotations

import os
import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from fundtracker.figures import build_report
from fundtracker.models import (
    Allocation,
    Grant,
    ImportBatch,
    Payment,
    ProfileAmount,
    SpendLine,
    Weight,
)
from fundtracker.money import format_money
from fundtracker.periods import Period
from fundtracker.services.grants import grant_spec, load_grant
from fundtracker.services.ledger_view import summarise_lines
from fundtracker.setup_files import grant_to_toml
from fundtracker.storage import Database
from tests.ledger_support import ledger
from tests.ui.conftest import message_boxes
from ui.models.spend_model import COLUMNS as SPEND_COLUMNS

STEPS = int(os.environ.get("FUNDTRACKER_SEQUENCE_STEPS", "300"))
SEED = int(os.environ.get("FUNDTRACKER_SEQUENCE_SEED", "20261201"))
FIRST, SECOND = "CRG-2025-26", "CRG-2026-27"
PAGES = ("dashboard", "grants", "projects", "spending", "returns")
TILES = ("award", "allocated", "spend_to_date", "committed", "forecast_outturn")

Dump = tuple[Any, ...]


def dump(db: Database) -> Dump:
    """What the officer's records hold, by the keys a person knows (codes, not row ids; line
    ids are left out because a redone split gives its parts new ones)."""
    with db.read() as session:
        code = {a.id: (a.grant_id, a.code) for a in session.scalars(select(Allocation))}
        ref = {g.id: g.reference for g in session.scalars(select(Grant))}
        grants = sorted(
            (g.reference, g.name, g.award, g.start_date, g.end_date, g.conditions)
            for g in session.scalars(select(Grant))
        )
        allocations = sorted(
            (ref[a.grant_id], a.code, a.name, a.lead, a.budget, a.cost_centre, a.status)
            for a in session.scalars(select(Allocation))
        )
        weights = sorted(
            (code[w.allocation_id], w.priority_id, w.basis_points)
            for w in session.scalars(select(Weight))
        )
        profile = sorted(
            (code[p.allocation_id], p.quarter_index, p.amount)
            for p in session.scalars(select(ProfileAmount))
        )
        payments = sorted(
            (ref[p.grant_id], p.position, p.date, p.amount, p.received)
            for p in session.scalars(select(Payment))
        )
        lines = sorted(
            (
                ref[s.grant_id],
                code[s.allocation_id][1] if s.allocation_id else "",
                s.date,
                s.supplier,
                s.reference,
                s.net,
                s.vat,
                s.status,
                s.batch_id or 0,
            )
            for s in session.scalars(select(SpendLine))
        )
        batches = sorted((b.id, b.undone_at is None) for b in session.scalars(select(ImportBatch)))
    return (grants, allocations, weights, profile, payments, lines, batches)


def differences(found: Dump, wanted: Dump) -> str:
    """What differs between two dumps, section by section (for a failure message)."""
    names = ("grants", "projects", "weights", "profile", "payments", "lines", "batches")
    out = []
    for name, have, want in zip(names, found, wanted, strict=True):
        extra = sorted(set(have) - set(want), key=repr)
        missing = sorted(set(want) - set(have), key=repr)
        if extra or missing:
            out.append(f"{name}: has {extra[:4]} but should have {missing[:4]}")
    return "; ".join(out)


class Officer:
    """Does one random thing at a time in the window, and knows what the data must then be."""

    def __init__(self, qtbot: QtBot, window: Any, db: Database, folder: Path, seed: int):
        self.qtbot, self.window, self.db, self.folder = qtbot, window, db, folder
        self.random = random.Random(seed)
        self.ws = window.workspace
        # What each undo step did: (data before it, data after it), and where the stack is.
        self.steps: list[tuple[Dump, Dump]] = []
        self.files = 0

    # --- the steps -----------------------------------------------------------------------

    def act(self) -> str:
        actions = [
            (self.switch_grant, 3),
            (self.import_grant_file, 1),
            (self.import_ledger, 1),
            (self.add_line, 4),
            (self.edit_line, 3),
            (self.split_line, 2),
            (self.assign_lines, 2),
            (self.delete_lines, 2),
            (self.edit_project, 2),
            (self.edit_weights, 1),
            (self.undo, 3),
            (self.redo, 2),
        ]
        action = self.random.choices([a for a, _ in actions], [w for _, w in actions])[0]
        before, index = dump(self.db), self.ws.undo_stack.index()
        name = action()
        self.settle()
        after = dump(self.db)
        if name in ("undo", "redo"):
            return name
        if self.ws.undo_stack.index() == index + 1:  # done: one new step on the stack
            del self.steps[index:]
            self.steps.append((before, after))
        else:
            assert after == before, f"{name} was refused but changed the data"
        assert self.ws.undo_stack.count() == len(self.steps)
        return name

    def undo(self) -> str:
        index, count = self.ws.undo_stack.index(), self.ws.undo_stack.count()
        self.window.undo_action.trigger()
        self.settle()
        if index > 0:
            refusals = [box.text() for box in message_boxes(self.window) if box.isVisible()]
            assert self.ws.undo_stack.count() == count, f"an undo was refused: {refusals}"
            assert self.ws.undo_stack.index() == index - 1, "an undo did not step back"
            now, wanted = dump(self.db), self.steps[index - 1][0]
            assert now == wanted, f"undo did not restore the data: {differences(now, wanted)}"
        return "undo"

    def redo(self) -> str:
        index, count = self.ws.undo_stack.index(), self.ws.undo_stack.count()
        self.window.redo_action.trigger()
        self.settle()
        if index < count:
            refusals = [box.text() for box in message_boxes(self.window) if box.isVisible()]
            assert self.ws.undo_stack.count() == count, f"a redo was refused: {refusals}"
            assert self.ws.undo_stack.index() == index + 1, "a redo did not step forward"
            now, wanted = dump(self.db), self.steps[index][1]
            assert now == wanted, f"redo did not bring the change back: {differences(now, wanted)}"
        return "redo"

    def switch_grant(self) -> str:
        box = self.window.grant_box
        box.setCurrentIndex(self.random.randrange(box.count()))
        return "switch grant"

    def import_grant_file(self) -> str:
        """One of the two grants' files, with a project renamed, as a colleague might send."""
        reference = self.random.choice([FIRST, SECOND])
        if self.window.grant_box.findData(reference) < 0:
            spec = replace(
                grant_spec(load_grant(self.db, FIRST)),
                reference=SECOND,
                name="Crime Reduction Grant 2026/27",
                start=date(2026, 4, 1),
                end=date(2027, 3, 31),
                payments=[],
            )
        else:
            spec = grant_spec(load_grant(self.db, reference))
            if spec.allocations:
                index = self.random.randrange(len(spec.allocations))
                renamed = replace(spec.allocations[index], name=f"Renamed {self.files}")
                spec.allocations[index] = renamed
        self.files += 1
        path = self.folder / f"grant-{self.files}.toml"
        path.write_text(grant_to_toml(spec), encoding="utf-8")
        self.window.show_page("grants").import_path(path)
        return f"import grant file {reference}"

    def import_ledger(self) -> str:
        start = load_grant(self.db, self.ws.grant).start_date
        self.files += 1
        rows = [
            [
                (start + timedelta(days=self.random.randrange(300))).strftime("%d/%m/%Y"),
                self.random.choice(["Print Co", "Hall Hire Ltd", "Youth Trust"]),
                "imported",
                f"L{self.files}-{n}",
                f"{self.random.randrange(1, 90000) / 100:.2f}",
                "0.00",
            ]
            for n in range(self.random.randint(1, 3))
        ]
        path = ledger(self.folder / f"ledger-{self.files}.csv", *rows)
        page = self.window.show_page("imports")
        page.go_to(0)
        page.file_edit.setText(str(path))
        self.qtbot.mouseClick(page.findChild(type(page.import_button), "toMapping"), LEFT)
        self.qtbot.mouseClick(page.findChild(type(page.import_button), "toCheck"), LEFT)
        self.qtbot.waitUntil(lambda: page.steps.currentIndex() == 2, timeout=10_000)
        self.qtbot.mouseClick(page.import_button, LEFT)
        self.qtbot.waitUntil(lambda: page.steps.currentIndex() == 3, timeout=10_000)
        return "import ledger"

    def add_line(self) -> str:
        page = self.spending()
        grant = load_grant(self.db, self.ws.grant)
        day = grant.start_date + timedelta(days=self.random.randrange(360))
        net = self.random.choice(["12.50", "(4.00)", "1,250.00", "0.015", "310"])  # one bad
        values = {"date": f"{day:%d/%m/%Y}", "net": net, "supplier": "Typed Ltd"}
        for field, text in values.items():
            page.entry[field].setText(text)
        project = page.entry["allocation"]
        project.setCurrentIndex(self.random.randrange(project.count()))
        page.add_entry()
        return "add line"

    def edit_line(self) -> str:
        page, rows = self.spending_rows()
        if not rows:
            return "edit line (no lines)"
        row = self.random.randrange(len(rows))
        column, text = self.random.choice(
            [(COLUMN["supplier"], f"Edited {self.random.randrange(99)}"), (COLUMN["net"], "77.70")]
        )
        page.model.setData(page.model.index(row, column), text)
        return "edit line"

    def split_line(self) -> str:
        page, rows = self.spending_rows()
        candidates = [n for n, r in enumerate(rows) if abs(r.net) >= Decimal("1.00")]
        if not candidates:
            return "split line (none)"
        number = self.random.choice(candidates)
        self.select(page, [number])
        page.split_selected()
        (dialog,) = [
            w for w in self.window.findChildren(QDialog) if w.objectName() == "splitDialog"
        ]
        (_c1, first), (combo, second) = dialog.parts
        combo.setCurrentIndex(self.random.randrange(combo.count()))
        net = rows[number].net
        part = (net / 2).quantize(Decimal("0.01"))
        first.setText(str(part))
        second.setText(str(net - part))
        dialog.split()
        dialog.close()
        dialog.deleteLater()
        return "split line"

    def assign_lines(self) -> str:
        page, rows = self.spending_rows()
        if not rows:
            return "assign (no lines)"
        numbers = self.random.sample(range(len(rows)), min(len(rows), self.random.randint(1, 3)))
        self.select(page, numbers)
        choices = ["(unassigned)", *(f"{c} {n}" for c, n in page.projects)]
        self.monkeypatch.setattr(self.dialogs, "ask_choice", lambda *a: self.random.choice(choices))
        page.assign_selected()
        return "assign lines"

    def delete_lines(self) -> str:
        page, rows = self.spending_rows()
        if not rows:
            return "delete (no lines)"
        numbers = self.random.sample(range(len(rows)), min(len(rows), self.random.randint(1, 2)))
        self.select(page, numbers)
        self.monkeypatch.setattr(self.dialogs, "confirm", lambda *a: True)
        page.delete_selected()
        return "delete lines"

    def edit_project(self) -> str:
        page = self.window.show_page("projects")
        self.settle()
        if not page.model.allocations:
            return "edit project (none)"
        row = self.random.randrange(len(page.model.allocations))
        column, text = self.random.choice(
            [(2, f"Lead {self.random.randrange(99)}"), (5, f"{self.random.randrange(1, 9000)}.00")]
        )
        page.model.setData(page.model.index(row, column), text)
        return "edit project"

    def edit_weights(self) -> str:
        page = self.window.show_page("projects")
        self.settle()
        editor = page.weights
        if editor.allocation is None or not editor.inputs:
            return "edit weights (none)"
        plan = self.random.choice(list(editor.inputs))
        boxes = list(editor.inputs[plan].values())
        shares = [0] * len(boxes)
        for _ in range(100):
            shares[self.random.randrange(len(boxes))] += 1
        if self.random.random() < 0.2:
            shares[0] += 1  # 101%: refused beside the field, nothing written
        for box, share in zip(boxes, shares, strict=True):
            box.setText(str(share) if share else "")
        editor.save.click()
        return "edit weights"

    # --- helpers -------------------------------------------------------------------------

    def spending(self) -> Any:
        page = self.window.show_page("spending")
        self.settle()
        return page

    def spending_rows(self) -> tuple[Any, list[Any]]:
        page = self.spending()
        count = min(page.model.rowCount(), 40)
        return page, [page.model.line_at(n) for n in range(count)]

    def select(self, page: Any, numbers: list[int]) -> None:
        selection = page.table.selectionModel()
        selection.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for number in numbers:
            selection.select(page.model.index(number, 0), flags)

    def settle(self) -> None:
        """Let the event loop run until the visible page and its background work are done."""
        page = self.window.pages.get(self.window.current_page())
        self.qtbot.waitUntil(lambda: page is None or not page.busy(), timeout=10_000)

    # --- what every page must show ---------------------------------------------------------

    def check_pages(self, where: str) -> None:
        reference = self.ws.grant
        assert self.window.grant_box.currentData() == reference, where
        for name in PAGES:
            page = self.window.show_page(name)
            self.settle()
            getattr(self, f"check_{name}")(page, reference, where)

    def check_dashboard(self, page: Any, reference: str, where: str) -> None:
        period = Period.parse(page.period_box.currentData())
        summary = build_report(self.db, reference, period).summary
        assert page.report.grant.reference == reference, where
        for key in TILES:
            assert page.tiles[key].value.text() == format_money(getattr(summary, key)), (
                f"{where}: dashboard tile {key}"
            )

    def check_grants(self, page: Any, reference: str, where: str) -> None:
        grant = load_grant(self.db, reference)
        allocated = sum((a.budget for a in grant.allocations), Decimal("0.00"))
        assert page.fields["reference"].text() == reference, where
        assert page.fields["allocated"].text().startswith(format_money(allocated)), where

    def check_projects(self, page: Any, reference: str, where: str) -> None:
        grant = load_grant(self.db, reference)
        shown = [(a.code, a.name, a.lead, a.budget) for a in page.model.allocations]
        assert shown == [(a.code, a.name, a.lead, a.budget) for a in grant.allocations], where

    def check_spending(self, page: Any, reference: str, where: str) -> None:
        assert page.model.grant == reference, where
        expected = summarise_lines(self.db, reference, page.current_filter())
        assert page.model.summary == expected, f"{where}: spending totals"
        assert page.summary.text().startswith(f"{expected.lines:,} line"), where

    def check_returns(self, page: Any, reference: str, where: str) -> None:
        assert page.report is not None and page.report.grant.reference == reference, where
        period = page.report.period
        core = build_report(self.db, reference, period)
        assert page.report.summary == core.summary, f"{where}: returns page figures"


LEFT = Qt.MouseButton.LeftButton
COLUMN = {name: n for n, name in enumerate(c.field for c in SPEND_COLUMNS)}


@pytest.mark.slow
def test_random_sequences_keep_every_page_and_the_database_true(
    qtbot: QtBot, window: Any, demo_ui_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui import dialogs

    officer = Officer(qtbot, window, demo_ui_db, tmp_path, SEED)
    officer.monkeypatch, officer.dialogs = monkeypatch, dialogs  # type: ignore[attr-defined]
    done = []
    for step in range(STEPS):
        try:
            name = officer.act()
        except AssertionError as error:
            stack = officer.ws.undo_stack
            steps = [stack.text(n) for n in range(stack.count())]
            raise AssertionError(
                f"seed {SEED}, step {step}, after {done[-8:]}: {error}\n"
                f"undo stack at {stack.index()}: {steps[-10:]}"
            ) from None
        done.append(name)
        for box in message_boxes(window):  # a refusal's message: read, and closed
            box.close()
        officer.check_pages(f"seed {SEED}, step {step} ({name}); steps so far: {done[-8:]}")
    kinds = {name.split(" (")[0] for name in done}
    assert {"undo", "redo", "split line", "import ledger", "import grant file"} <= {
        k if not k.startswith("import grant file") else "import grant file" for k in kinds
    }
