"""Spend operations: one unit of work each, an inverse built in the core, undo that refuses to
overwrite a newer change, and every step audited."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundtracker.errors import ConflictError, LockedError
from fundtracker.models import AuditEvent, SpendLine
from fundtracker.operations import Kind, run_operation, undo
from fundtracker.operations.spend import (
    AddLine,
    AssignLines,
    DeleteLines,
    EditLine,
    SplitLine,
)
from fundtracker.services.spend import get_spend, update_spend
from fundtracker.storage import Database
from tests.test_spend_split import GRANT, _lock_q1

LINE = {"date": "2025-05-10", "net": "100.00", "vat": "20.00", "supplier": "Acme"}


def _count(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(SpendLine)) or 0


def _exists(db: Database, line_id: int) -> bool:
    with db.read() as session:
        return session.get(SpendLine, line_id) is not None


def test_add_then_undo_then_redo(demo_db: Database) -> None:
    before = _count(demo_db)
    added = run_operation(demo_db, AddLine(GRANT, {**LINE, "allocation": "A01"}))
    assert added.grant == GRANT and added.kinds == {Kind.SPEND}
    line_id = added.result.id
    assert _count(demo_db) == before + 1

    undone = undo(demo_db, added)
    assert _count(demo_db) == before and not _exists(demo_db, line_id)
    assert undone.description == "Add spend line"

    redone = undo(demo_db, undone, "redo")
    assert _count(demo_db) == before + 1
    # Redo restores the very line (same id), so messages citing "line N" stay true.
    assert get_spend(demo_db, line_id).allocation is not None
    assert redone.inverse is not None
    with demo_db.read() as session:
        reasons = set(
            session.scalars(select(AuditEvent.reason).where(AuditEvent.entity_id == line_id))
        )
    assert {"Add spend line", "undo: Add spend line", "redo: Add spend line"} <= reasons


def test_undo_of_an_edit_refuses_to_overwrite_a_newer_change(demo_db: Database) -> None:
    line = run_operation(demo_db, AddLine(GRANT, LINE)).result
    edited = run_operation(demo_db, EditLine(line.id, {"supplier": "Mine"}, line.version))
    # Someone else, elsewhere, changes the line after our edit.
    update_spend(demo_db, line.id, {"supplier": "Theirs"})

    with pytest.raises(ConflictError, match="changed by someone else"):
        undo(demo_db, edited)
    assert get_spend(demo_db, line.id).supplier == "Theirs"


def test_deleting_two_lines_is_all_or_nothing(demo_db: Database) -> None:
    """The second line was changed elsewhere: neither is deleted, and nothing is lost."""
    first = run_operation(demo_db, AddLine(GRANT, LINE)).result
    second = run_operation(demo_db, AddLine(GRANT, {**LINE, "supplier": "Other"})).result
    update_spend(demo_db, second.id, {"notes": "changed elsewhere"})

    delete = DeleteLines(((first.id, first.version), (second.id, second.version)))
    with pytest.raises(ConflictError):
        run_operation(demo_db, delete)
    assert _exists(demo_db, first.id) and _exists(demo_db, second.id)


def test_delete_undo_brings_back_the_same_lines(demo_db: Database) -> None:
    first = run_operation(demo_db, AddLine(GRANT, LINE)).result
    second = run_operation(demo_db, AddLine(GRANT, {**LINE, "net": "-12.00", "vat": "0"})).result
    deleted = run_operation(
        demo_db, DeleteLines(((first.id, first.version), (second.id, second.version)))
    )
    assert deleted.description == "Delete 2 spend lines"
    assert not _exists(demo_db, first.id) and not _exists(demo_db, second.id)
    undo(demo_db, deleted)
    assert get_spend(demo_db, second.id).net == Decimal("-12.00")
    assert get_spend(demo_db, first.id).supplier == "Acme"


def test_assign_undo_puts_each_line_back_on_its_own_project(demo_db: Database) -> None:
    a = run_operation(demo_db, AddLine(GRANT, {**LINE, "allocation": "A01"})).result
    b = run_operation(demo_db, AddLine(GRANT, {**LINE, "allocation": "A02"})).result
    c = run_operation(demo_db, AddLine(GRANT, LINE)).result
    assigned = run_operation(
        demo_db, AssignLines(tuple((x.id, x.version, "A03") for x in (a, b, c)))
    )
    assert assigned.description == "Assign 3 lines to A03"
    assert {get_spend(demo_db, x.id).allocation.code for x in (a, b, c)} == {"A03"}  # type: ignore[union-attr]
    undo(demo_db, assigned)
    codes = [get_spend(demo_db, x.id).allocation for x in (a, b, c)]
    assert [c.code if c else None for c in codes] == ["A01", "A02", None]


def test_split_undo_and_redo_keep_the_whole(demo_db: Database) -> None:
    # £100.00 net, £20.01 VAT split 60/40: VAT 12.006 → 12.01 and 8.004 → 8.00 (largest
    # remainder gives the odd penny to the larger remainder, 0.006 over 0.004).
    line = run_operation(demo_db, AddLine(GRANT, {**LINE, "vat": "20.01"})).result
    split = run_operation(
        demo_db,
        SplitLine(line.id, line.version, (("A01", Decimal("60.00")), ("A02", Decimal("40.00")))),
    )
    parts = split.result
    assert [(p.net, p.vat) for p in parts] == [
        (Decimal("60.00"), Decimal("12.01")),
        (Decimal("40.00"), Decimal("8.00")),
    ]
    rejoined = undo(demo_db, split)
    whole = get_spend(demo_db, line.id)
    assert (whole.net, whole.vat, whole.allocation) == (Decimal("100.00"), Decimal("20.01"), None)
    assert not _exists(demo_db, parts[1].id)
    redone = undo(demo_db, rejoined, "redo")
    assert sum(p.net for p in redone.result) == Decimal("100.00")


def test_undo_obeys_the_submission_lock(demo_db: Database) -> None:
    added = run_operation(demo_db, AddLine(GRANT, LINE))
    _lock_q1(demo_db)
    with pytest.raises(LockedError):
        undo(demo_db, added)
    assert _exists(demo_db, added.result.id)


def test_two_edits_of_one_line_undo_one_after_the_other(demo_db: Database) -> None:
    """Found by the window's random sequences: undoing the second edit gives the line a new
    version, and the undo of the first edit must still go ahead (nothing it would overwrite
    changed). An inverse expects the row's values, not its version."""
    line = run_operation(demo_db, AddLine(GRANT, LINE)).result
    first = run_operation(demo_db, EditLine(line.id, {"supplier": "First"}, line.version))
    second = run_operation(
        demo_db, EditLine(line.id, {"net": "77.70"}, get_spend(demo_db, line.id).version)
    )
    undo(demo_db, second)
    undo(demo_db, first)
    restored = get_spend(demo_db, line.id)
    assert (restored.supplier, restored.net) == ("Acme", Decimal("100.00"))


def test_an_edit_undone_and_redone_then_undone_again(demo_db: Database) -> None:
    line = run_operation(demo_db, AddLine(GRANT, LINE)).result
    edited = run_operation(demo_db, EditLine(line.id, {"supplier": "Mine"}, line.version))
    redone = undo(demo_db, undo(demo_db, edited), "redo")
    undo(demo_db, redone)
    assert get_spend(demo_db, line.id).supplier == "Acme"
