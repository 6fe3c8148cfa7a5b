"""Undoing a commitment's release or invoice after a later step changed the line and was itself
undone. The later undo gives the line a new version with the same values, so the earlier undo
must still go ahead: inverses expect the row's values, never its version (issue 11's rule).
Before the fix these were refused as "changed by someone else"."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from fundtracker.errors import ConflictError
from fundtracker.operations import run_operation, undo
from fundtracker.operations.commitments import InvoiceCommitment, ReleaseCommitment
from fundtracker.operations.spend import EditLine
from fundtracker.services import spend
from fundtracker.storage import Database
from tests.figure_scenarios import add_line, load_grant_toml, load_plans

GRANT = """
[grant]
reference = "U-1"
name = "Undo grant"
award = "1000.00"
start = 2025-04-01
end = 2026-03-31
aligned_plan = "pcc"

[[allocations]]
code = "A"
name = "A"
budget = "1000.00"
[allocations.priorities]
pcc = { P1 = 100 }
"""


@pytest.fixture
def po(db: Database) -> int:
    """A purchase order of £400.00 on 01/05/2025."""
    load_plans(db)
    load_grant_toml(db, GRANT)
    return add_line(db, "U-1", date(2025, 5, 1), "400.00", "A", status="committed")


def _edit_and_undo(db: Database, line_id: int) -> None:
    """A later step on the line (its notes), undone: same values, a new version."""
    line = spend.get_spend(db, line_id)
    edited = run_operation(db, EditLine(line_id, {"notes": "chased"}, line.version))
    undo(db, edited)


def test_a_release_undone_after_a_later_edit_was_undone(db: Database, po: int) -> None:
    line = spend.get_spend(db, po)
    released = run_operation(db, ReleaseCommitment(po, line.version, date(2025, 6, 1)))
    _edit_and_undo(db, po)
    redo = undo(db, released)
    assert spend.get_spend(db, po).released_on is None
    # and the redo still goes ahead after the same dance
    _edit_and_undo(db, po)
    undo(db, redo, "redo")
    assert spend.get_spend(db, po).released_on == date(2025, 6, 1)


def test_an_invoice_undone_after_its_line_was_edited_and_undone(db: Database, po: int) -> None:
    line = spend.get_spend(db, po)
    values = {"date": "2025-06-10", "net": "380.00"}
    invoiced = run_operation(db, InvoiceCommitment(po, line.version, values))
    actual = invoiced.result.id
    _edit_and_undo(db, actual)
    undo(db, invoiced)
    assert spend.get_spend(db, po).released_on is None
    assert [(x.id, x.net) for x in spend.list_spend(db, "U-1")] == [(po, Decimal("400.00"))]


def test_an_undo_still_refuses_a_line_really_changed_since(db: Database, po: int) -> None:
    line = spend.get_spend(db, po)
    released = run_operation(db, ReleaseCommitment(po, line.version, date(2025, 6, 1)))
    run_operation(db, EditLine(po, {"notes": "kept"}, spend.get_spend(db, po).version))
    with pytest.raises(ConflictError):
        undo(db, released)
    assert spend.get_spend(db, po).released_on == date(2025, 6, 1)


def test_moving_lines_undone_after_a_later_edit_was_undone(db: Database, po: int) -> None:
    from fundtracker.operations.year import MoveLinesToGrant, StartNextYear

    april = add_line(db, "U-1", date(2026, 4, 10), "50.00", "A")
    run_operation(db, StartNextYear("U-1", "U-2"))
    line = spend.get_spend(db, april)
    moved = run_operation(db, MoveLinesToGrant(((april, line.version),), "U-1", "U-2"))
    _edit_and_undo(db, april)
    back = undo(db, moved)
    assert [x.id for x in spend.list_spend(db, "U-1")] == [po, april]
    _edit_and_undo(db, april)
    undo(db, back, "redo")
    assert [x.id for x in spend.list_spend(db, "U-2")] == [april]
