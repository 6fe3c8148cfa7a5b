"""Year end: the statement worked out by hand (each amount positive and zero), closing only
when the last return is submitted and no commitment is open, read-only until reopened with a
reason (audited), and the same figures in the report JSON."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fundtracker.errors import LockedError, ValidationError
from fundtracker.models import AuditEvent, Grant, SpendLine, Submission
from fundtracker.operations import run_operation, undo
from fundtracker.operations.year import CloseGrant
from fundtracker.services.grants import get_grant
from fundtracker.services.spend import (
    add_spend,
    delete_spend,
    release_commitment,
    update_spend,
)
from fundtracker.storage import Database, utcnow
from fundtracker.year_end import close_grant, reopen_grant, statement_from, year_end_statement
from tests.figure_scenarios import add_line, load_grant_toml, load_plans
from tests.helpers import run_cli

D = Decimal

YEAR_GRANT = """
[grant]
reference = "Y-1"
name = "Year grant 2025/26"
funder = "PCC"
recipient = "CSP"
award = "10000.00"
start = 2025-04-01
end = 2026-03-31
aligned_plan = "pcc"

[[grant.payments]]
date = 2025-05-01
amount = "6000.00"
received = true

[[grant.payments]]
date = 2025-10-01
amount = "3000.00"
received = true

[[grant.payments]]
date = 2026-03-15
amount = "1000.00"
received = false

[[allocations]]
code = "A"
name = "Youth work"
budget = "7000.00"

[[allocations]]
code = "B"
name = "Scams workshops"
budget = "3000.00"
"""


# --- The three amounts, by hand --------------------------------------------------------------


@pytest.mark.parametrize(
    ("award", "received", "spend", "underspend", "to_return", "due"),
    [
        # Spent 7,000 of 10,000 with 9,000 paid over: underspend 10,000 − 7,000 = 3,000;
        # to return 9,000 − 7,000 = 2,000; due min(10,000, 7,000) − 9,000 = −2,000 → 0.
        ("10000.00", "9000.00", "7000.00", "3000.00", "2000.00", "0.00"),
        # Spent 8,000 with 6,000 paid: underspend 2,000; to return 6,000 − 8,000 < 0 → 0;
        # due min(10,000, 8,000) − 6,000 = 2,000.
        ("10000.00", "6000.00", "8000.00", "2000.00", "0.00", "2000.00"),
        # Spent the award exactly and was paid it all: every amount 0.
        ("10000.00", "10000.00", "10000.00", "0.00", "0.00", "0.00"),
        # Overspent (12,000) with 6,000 paid: underspend 10,000 − 12,000 < 0 → 0; to return 0;
        # due min(10,000, 12,000) − 6,000 = 4,000 (never more than the award).
        ("10000.00", "6000.00", "12000.00", "0.00", "0.00", "4000.00"),
        # Pennies: 10,000.00 − 9,999.99 = 0.01 underspend; received 10,000.00 − 9,999.99 = 0.01.
        ("10000.00", "10000.00", "9999.99", "0.01", "0.01", "0.00"),
    ],
)
def test_year_end_amounts_by_hand(
    award: str, received: str, spend: str, underspend: str, to_return: str, due: str
) -> None:
    statement = statement_from(D(award), D(received), D(spend))
    assert statement.underspend == D(underspend)
    assert statement.to_return == D(to_return)
    assert statement.due_from_funder == D(due)
    assert statement.to_json()["due_from_funder"] == due


# --- The grant's own year ----------------------------------------------------------------------


@pytest.fixture()
def year(db: Database) -> Database:
    """Y-1 with actual spend 6,800.00 claimable and one open commitment of 700.00."""
    load_plans(db)
    load_grant_toml(db, YEAR_GRANT)
    add_line(db, "Y-1", date(2025, 6, 1), "5000.00", "A", vat="1000.00")  # VAT recoverable: 5,000
    add_line(db, "Y-1", date(2025, 11, 1), "1500.00", "B", vat="300.00", vat_recoverable=False)
    add_line(db, "Y-1", date(2026, 2, 1), "700.00", "A", status="committed", supplier="PO Ltd")
    return db


def _submit_last_period(db: Database) -> None:
    """Record Q4 as submitted (the lock and the closing rule read only the row)."""
    with db.unit_of_work() as session:
        grant = get_grant(session, "Y-1")
        session.add(
            Submission(
                grant_id=grant.id,
                period="2025/26-Q4",
                period_end=date(2026, 3, 31),
                version_number=1,
                submitted_at=utcnow(),
                submitted_by="officer",
                snapshot="{}",
                checksum="0" * 64,
            )
        )


def _release_commitments(db: Database) -> None:
    """Release every open commitment in March, before the last return is submitted (a
    submitted last return leaves no open period to release it in)."""
    with db.read() as session:
        ids = session.scalars(select(SpendLine.id).where(SpendLine.status == "committed")).all()
    for line_id in ids:
        release_commitment(db, line_id, on=date(2026, 3, 20))


def _closed_at(db: Database) -> object:
    with db.read() as session:
        return session.scalar(select(Grant.closed_at).where(Grant.reference == "Y-1"))


def test_the_statement_of_the_grant(year: Database) -> None:
    # Claimable spend: 5,000.00 (VAT recoverable, net only) + 1,500.00 + 300.00 (VAT not
    # recoverable) = 6,800.00; the 700.00 commitment is not spend. Received 6,000 + 3,000 =
    # 9,000 (the 1,000 expected in March is not received).
    # Underspend 10,000 − 6,800 = 3,200; to return 9,000 − 6,800 = 2,200; due 6,800 − 9,000 → 0.
    statement = year_end_statement(year, "Y-1")
    assert (statement.award, statement.received, statement.spend) == (
        D("10000.00"),
        D("9000.00"),
        D("6800.00"),
    )
    assert (statement.underspend, statement.to_return, statement.due_from_funder) == (
        D("3200.00"),
        D("2200.00"),
        D("0.00"),
    )


def test_close_is_refused_naming_the_unsubmitted_return_and_open_commitments(
    year: Database,
) -> None:
    with pytest.raises(ValidationError) as refused:
        close_grant(year, "Y-1")
    message = str(refused.value)
    assert "2025/26-Q4, has not been submitted" in message
    assert "1 commitment(s) are still open: line 3 (01/02/2026 PO Ltd £700.00)" in message
    assert _closed_at(year) is None

    _submit_last_period(year)
    with pytest.raises(ValidationError, match="line 3") as still:
        close_grant(year, "Y-1")
    assert "has not been submitted" not in str(still.value)
    assert "a release or an invoice needs it reopened first" in str(still.value)
    assert _closed_at(year) is None


def test_closed_grant_is_read_only_until_reopened_with_a_reason(year: Database) -> None:
    _release_commitments(year)
    _submit_last_period(year)
    statement = close_grant(year, "Y-1", "year end agreed with the OPCC")
    assert statement.to_return == D("2200.00")
    assert _closed_at(year) is not None

    with pytest.raises(LockedError, match="closed for the year"):
        add_spend(year, "Y-1", {"date": "2026-03-30", "net": "10.00"})
    with pytest.raises(LockedError, match="grant reopen Y-1"):
        update_spend(year, 1, {"supplier": "Changed"})
    with pytest.raises(LockedError):
        delete_spend(year, 2)
    with year.read() as session:
        assert session.scalar(select(func.count()).select_from(SpendLine)) == 3
        assert session.get_one(SpendLine, 1).supplier == "Supplier Ltd"
    with pytest.raises(ValidationError, match="already closed"):
        close_grant(year, "Y-1")

    with pytest.raises(ValidationError, match="reason"):
        reopen_grant(year, "Y-1", "  ")
    assert _closed_at(year) is not None
    reopen_grant(year, "Y-1", "late invoice found")
    assert _closed_at(year) is None
    # Writable again (dated after Q4, which its submitted return still locks).
    add_spend(year, "Y-1", {"date": "2026-04-05", "net": "10.00"})

    with year.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "grant").order_by(AuditEvent.id)
        ).all()
        reasons = [e.reason for e in events if e.action == "update" and "closed_at" in e.changes]
    assert reasons == ["year end agreed with the OPCC", "late invoice found"]


def test_close_operation_undo_reopens(year: Database) -> None:
    _release_commitments(year)
    _submit_last_period(year)
    closed = run_operation(year, CloseGrant("Y-1", "year end"))
    assert closed.result.underspend == D("3200.00")
    assert _closed_at(year) is not None
    reopened = undo(year, closed)
    assert _closed_at(year) is None
    undo(year, reopened, "redo")
    assert _closed_at(year) is not None


def test_cli_close_reopen_and_the_year_end_block(
    year: Database, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = run_cli(capsys, database_url, "grant", "close", "Y-1")
    assert refused.code == 1 and "has not been submitted" in refused.err

    _release_commitments(year)
    _submit_last_period(year)
    closed = run_cli(capsys, database_url, "grant", "close", "Y-1", "--reason", "year end")
    assert closed.code == 0, closed.err
    assert re.search(r"To return to the funder +£2,200\.00\n", closed.out)
    assert re.search(r"Still due from the funder +£0\.00\n", closed.out)

    report = run_cli(
        capsys, database_url, "report", "--grant", "Y-1", "--period", "2025/26-Q4",
        "--format", "json",
    )  # fmt: skip
    assert report.json()["year_end"] == {
        "award": "10000.00",
        "received": "9000.00",
        "spend": "6800.00",
        "underspend": "3200.00",
        "to_return": "2200.00",
        "due_from_funder": "0.00",
    }
    earlier = run_cli(
        capsys, database_url, "report", "--grant", "Y-1", "--period", "2025/26-Q3",
        "--format", "json",
    )  # fmt: skip
    assert "year_end" not in earlier.json()

    no_reason = run_cli(capsys, database_url, "grant", "reopen", "Y-1")
    assert no_reason.code == 2
    reopened = run_cli(capsys, database_url, "grant", "reopen", "Y-1", "--reason", "late invoice")
    assert reopened.code == 0, reopened.err
    assert _closed_at(year) is None


def _summary_rows(path: Path) -> list[tuple[object, ...]]:
    """The Summary sheet's rows; the read-only workbook is closed, or its file handle would
    be found unclosed by a later test's garbage collection (a ResourceWarning, an error)."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(book["Summary"].iter_rows(values_only=True))
    finally:
        book.close()


def test_final_return_summary_has_the_year_end_section(year: Database, tmp_path: Path) -> None:
    from fundtracker.periods import Period
    from fundtracker.returns.submission import export_return

    out = tmp_path / "q4.xlsx"
    _release_commitments(year)
    export_return(year, "Y-1", Period.parse("2025/26-Q4"), out, submit=True)
    close_grant(year, "Y-1")  # the real submission satisfies the closing rule
    rows = {row[0]: (*row, None)[1] for row in _summary_rows(out) if row}
    assert "Year end" in rows
    # As worked out above: 10,000; 9,000; 6,800; 3,200; 2,200; 0.
    assert rows["Year end: award"] == 10000
    assert rows["Year end: received"] == 9000
    assert rows["Year end: claimable spend"] == 6800
    assert rows["Year end: underspend"] == 3200
    assert rows["Year end: to return to the funder"] == 2200
    assert rows["Year end: still due from the funder"] == 0

    q3 = tmp_path / "q3.xlsx"
    export_return(year, "Y-1", Period.parse("2025/26-Q3"), q3)
    q3_rows = [r[0] for r in _summary_rows(q3) if r]
    assert "Year end" not in q3_rows
