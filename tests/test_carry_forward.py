"""Carrying an open commitment into next year's grant (issue 13, year end): the old year's
returns keep it as committed, as it was at 31 March; next year's grant has it committed from
its first day; the old year can then close, even with its last return already submitted."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from fundtracker.errors import FieldError, ValidationError
from fundtracker.figures import build_report
from fundtracker.models import SpendLine
from fundtracker.operations import run_operation, undo
from fundtracker.operations.commitments import CarryForwardCommitment
from fundtracker.periods import Period
from fundtracker.services.spend import carry_forward_commitment
from fundtracker.storage import Database
from fundtracker.year_end import close_grant
from tests.figure_scenarios import add_line, load_grant_toml, load_plans
from tests.helpers import run_cli
from tests.test_year_end import YEAR_GRANT, _closed_at, _submit_last_period

D = Decimal
Q4 = Period.parse("2025/26-Q4")
NEXT_Q1 = Period.parse("2026/27-Q1")

NEXT_GRANT = (
    YEAR_GRANT.replace('"Y-1"', '"Y-2"')
    .replace("Year grant 2025/26", "Year grant 2026/27")
    .replace("start = 2025-04-01", "start = 2026-04-01")
    .replace("end = 2026-03-31", "end = 2027-03-31")
)
EARLIER_GRANT = (
    YEAR_GRANT.replace('"Y-1"', '"Y-0"')
    .replace("start = 2025-04-01", "start = 2024-04-01")
    .replace("end = 2026-03-31", "end = 2025-03-31")
)
PO_LINE = 3  # the year fixture's third line: the open 700.00 commitment to PO Ltd on A


@pytest.fixture()
def two_years(db: Database) -> Database:
    """Y-1 as tests/test_year_end.py's year (paid lines 1 on A and 2 on B, the open 700.00
    commitment 3 on A), and next year's Y-2 with the same projects."""
    load_plans(db)
    load_grant_toml(db, YEAR_GRANT)
    add_line(db, "Y-1", date(2025, 6, 1), "5000.00", "A", vat="1000.00")
    add_line(db, "Y-1", date(2025, 11, 1), "1500.00", "B", vat="300.00", vat_recoverable=False)
    add_line(db, "Y-1", date(2026, 2, 1), "700.00", "A", status="committed", supplier="PO Ltd")
    load_grant_toml(db, NEXT_GRANT)
    return db


def _committed(db: Database, grant: str, period: Period) -> Decimal:
    return build_report(db, grant, period).summary.committed


def _line(db: Database, line_id: int) -> SpendLine:
    with db.read() as session:
        return session.get_one(SpendLine, line_id)


def test_carried_commitment_counts_in_both_years_returns_and_the_year_closes(
    two_years: Database,
) -> None:
    db = two_years
    assert _committed(db, "Y-1", Q4) == D("700.00")
    _submit_last_period(db)  # Q4 already submitted: a release would need it reopened

    old, carried = carry_forward_commitment(db, PO_LINE, "Y-2")

    # The new line: Y-2's, committed, dated its first day, the same order.
    assert (carried.status, carried.date, carried.net, carried.allocation.code) == (
        "committed",
        date(2026, 4, 1),
        D("700.00"),
        "A",
    )
    assert carried.supplier == "PO Ltd"
    assert carried.notes == "carried forward from grant Y-1 line 3 (raised 01/02/2026)"
    # The old line: released the day after Y-1 ends, so no Y-1 period ends on or after it.
    assert (old.released_on, old.invoiced_by_id) == (date(2026, 4, 1), carried.id)
    assert _committed(db, "Y-1", Q4) == D("700.00")  # the submitted figure still holds
    assert _committed(db, "Y-2", NEXT_Q1) == D("700.00")

    close_grant(db, "Y-1")
    assert _closed_at(db) is not None


def test_close_refusal_offers_carrying_forward(two_years: Database) -> None:
    _submit_last_period(two_years)
    with pytest.raises(ValidationError) as refused:
        close_grant(two_years, "Y-1")
    message = str(refused.value)
    assert "spend carry-forward ID --to NEXT-REF" in message
    assert "a release or an invoice needs it reopened first; carrying forward does not" in message


def _refusal(db: Database, line_id: int, to: str) -> FieldError:
    with pytest.raises(ValidationError) as refused:
        carry_forward_commitment(db, line_id, to)
    [problem] = refused.value.errors
    return problem


def test_refusals_name_the_field_and_change_nothing(two_years: Database) -> None:
    db = two_years
    load_grant_toml(db, EARLIER_GRANT)
    earlier = _refusal(db, PO_LINE, "Y-0")
    assert earlier.field == "to"
    assert "starts on 01/04/2024, before grant Y-1 ends (31/03/2026)" in earlier.message
    paid = _refusal(db, 1, "Y-2")  # line 1 is a paid line, not a commitment
    assert (paid.field, paid.message) == ("line", "spend line 1 is paid, not a commitment")

    # A project next year's grant does not have: refused naming it, nothing written.
    with db.unit_of_work() as session:
        session.get_one(SpendLine, PO_LINE).allocation_id = _line(db, 2).allocation_id  # on B
    with db.unit_of_work() as session:
        from fundtracker.models import Allocation, Grant

        y2 = session.scalars(select(Grant).where(Grant.reference == "Y-2")).one()
        next_b = session.scalars(
            select(Allocation).where(Allocation.grant_id == y2.id, Allocation.code == "B")
        ).one()
        next_b.code = "B2"
    missing = _refusal(db, PO_LINE, "Y-2")
    assert missing.field == "allocation"
    assert "'B' is not a project of grant Y-2" in missing.message
    with db.read() as session:
        assert session.scalars(select(SpendLine.grant_id).distinct()).all() == [1]
    assert _line(db, PO_LINE).released_on is None


def test_carrying_forward_is_one_undoable_step(two_years: Database) -> None:
    db = two_years
    done = run_operation(db, CarryForwardCommitment(PO_LINE, _line(db, PO_LINE).version, "Y-2"))
    carried_id = done.result.id
    assert _committed(db, "Y-2", NEXT_Q1) == D("700.00")

    undone = undo(db, done)
    with db.read() as session:
        assert session.get(SpendLine, carried_id) is None
    assert _line(db, PO_LINE).released_on is None
    assert _committed(db, "Y-2", NEXT_Q1) == D("0.00")

    undo(db, undone)  # redo
    assert _line(db, PO_LINE).released_on == date(2026, 4, 1)
    assert _committed(db, "Y-2", NEXT_Q1) == D("700.00")


def test_cli_carry_forward(two_years: Database, database_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    unknown = run_cli(capsys, database_url, "spend", "carry-forward", "3", "--to", "NOPE")
    assert unknown.code == 1
    assert "NOPE" in unknown.err
    done = run_cli(
        capsys, database_url, "spend", "carry-forward", "3", "--to", "Y-2", "--format", "json"
    )
    assert done.code == 0, done.err
    body = done.json()
    assert body["commitment"]["released_on"] == "2026-04-01"
    assert body["carried"]["date"] == "2026-04-01"
    assert body["carried"]["status"] == "committed"
    assert body["commitment"]["invoiced_by"] == body["carried"]["id"]
