"""Funded partnerships and the returns the OPCC expects of them (issue 16): funded add/list,
RETURN_MISSING and RETURN_LATE from the due date (period end + opcc.return_due_days)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from fundtracker.errors import ConflictError
from fundtracker.models import FundedPartnership, ReceivedReturn
from fundtracker.opcc.funded import return_findings
from fundtracker.opcc.operations import AddFunded
from fundtracker.operations import run_operation, undo
from fundtracker.settings import RETURN_DUE_DAYS, set_setting
from fundtracker.storage import Database
from tests.helpers import run_cli

FUNDED = (
    "funded",
    "add",
    "--recipient",
    "Tonbridge and Malling CSP",
    "--grant-reference",
    "CRG-TM-2025",
    "--award",
    "£12,500.50",
    "--start",
    "01/04/2025",
    "--end",
    "2026-03-31",
    "--returns",
    "quarterly",
)


def test_funded_add_records_the_partnership_and_lists_it(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    added = run_cli(capsys, str(db.url), *FUNDED, "--format", "json")
    assert added.code == 0
    expected = {
        "recipient": "Tonbridge and Malling CSP",
        "grant_reference": "CRG-TM-2025",
        "award": "12500.50",
        "start": "2025-04-01",
        "end": "2026-03-31",
        "returns": "quarterly",
    }
    assert added.json() == expected
    listed = run_cli(capsys, str(db.url), "funded", "list", "--format", "json")
    assert listed.json() == [expected]
    table = run_cli(capsys, str(db.url), "funded", "list")
    assert "£12,500.50" in table.out


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--award", "12.345", "--award: "),
        ("--award", "-5.00", "--award: -5.00 is negative"),
        ("--start", "31/02/2025", "--start: "),
        ("--end", "2025-03-31", "--end: the grant must end after it starts"),
        ("--returns", "monthly", "--returns: 'monthly' is not one of quarterly"),
        ("--recipient", " ", "--recipient: the partnership's name is required"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    db: Database, capsys: pytest.CaptureFixture[str], flag: str, value: str, message: str
) -> None:
    args = list(FUNDED)
    args[args.index(flag) + 1] = value
    result = run_cli(capsys, str(db.url), *args)
    assert result.code == 1
    assert message in result.err
    with db.read() as session:
        assert session.scalars(select(FundedPartnership)).all() == []


def test_a_grant_reference_is_recorded_once(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    run_cli(capsys, str(db.url), *FUNDED)
    again = run_cli(capsys, str(db.url), *FUNDED)
    assert again.code == 1
    assert "--grant-reference: CRG-TM-2025 is already recorded as funding" in again.err


FUNDED_VALUES = (
    ("recipient", "Dartford CSP"),
    ("grant_reference", "CRG-DA"),
    ("award", Decimal("9000.00")),
    ("start_date", date(2025, 4, 1)),
    ("end_date", date(2026, 3, 31)),
    ("return_frequency", "half-yearly"),
)


def test_funded_add_is_an_operation_with_an_undo(db: Database) -> None:
    done = run_operation(db, AddFunded(FUNDED_VALUES))
    undone = undo(db, done)
    with db.read() as session:
        assert session.scalars(select(FundedPartnership)).all() == []
    undo(db, undone, "redo")
    with db.read() as session:
        [row] = session.scalars(select(FundedPartnership)).all()
    assert (row.grant_reference, row.return_frequency) == ("CRG-DA", "half-yearly")


def test_funded_update_changes_only_the_flags_given_and_undoes_as_one_step(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    run_cli(capsys, str(db.url), *FUNDED)
    done = run_cli(
        capsys,
        str(db.url),
        "funded",
        "update",
        "CRG-TM-2025",
        "--award",
        "13,000",
        "--returns",
        "half-yearly",
        "--format",
        "json",
    )
    assert done.code == 0, done.err
    assert done.json() == {
        "recipient": "Tonbridge and Malling CSP",
        "grant_reference": "CRG-TM-2025",
        "award": "13000.00",
        "start": "2025-04-01",
        "end": "2026-03-31",
        "returns": "half-yearly",
    }
    # A bad value is refused naming the flag, and nothing changes.
    bad = run_cli(capsys, str(db.url), "funded", "update", "CRG-TM-2025", "--end", "2025-01-01")
    assert (bad.code, "--end: the grant must end after it starts" in bad.err) == (1, True)
    unknown = run_cli(capsys, str(db.url), "funded", "update", "CRG-NONE", "--award", "1")
    assert unknown.code == 1
    assert "no funded partnership has the grant reference CRG-NONE" in unknown.err
    with db.read() as session:
        [row] = session.scalars(select(FundedPartnership)).all()
    assert (row.award, row.end_date, row.return_frequency) == (
        Decimal("13000.00"),
        date(2026, 3, 31),
        "half-yearly",
    )


def test_a_funded_edit_is_undone_to_the_values_before(db: Database) -> None:
    from fundtracker.opcc.operations import UpdateFunded

    added = run_operation(db, AddFunded(FUNDED_VALUES)).result
    changed = dict(FUNDED_VALUES) | {"award": Decimal("9500.00"), "recipient": "Dartford"}
    done = run_operation(db, UpdateFunded(added.id, added.version, tuple(changed.items())))
    undo(db, done)
    with db.read() as session:
        [row] = session.scalars(select(FundedPartnership)).all()
    assert (row.recipient, row.award) == ("Dartford CSP", Decimal("9000.00"))
    # An edit from a stale screen (the version seen before the undo) is refused.
    with pytest.raises(ConflictError, match="changed by someone else"):
        run_operation(db, UpdateFunded(added.id, added.version, tuple(changed.items())))


def receive_record(db: Database, reference: str, period: str, on: datetime) -> None:
    """A received return written straight to the database (its content does not matter here)."""
    with db.unit_of_work() as session:
        session.add(
            ReceivedReturn(
                recipient="x",
                grant_reference=reference,
                period=period,
                version_number=1,
                received_at=on,
                file_name=f"{reference}-{period}.xlsx",
                file_sha256=f"{reference}{period}".ljust(64, "0")[:64],
                checksum="0" * 64,
                snapshot="{}",
            )
        )


def test_missing_and_late_returns_by_their_due_dates(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    run_cli(capsys, str(db.url), *FUNDED)  # quarterly
    half = list(FUNDED)
    half[half.index("--grant-reference") + 1] = "CRG-DA"
    half[half.index("--recipient") + 1] = "Dartford CSP"
    half[half.index("--returns") + 1] = "half-yearly"
    run_cli(capsys, str(db.url), *half)
    # Q1 ends 30/06/2025, due 30 days later: 30/07/2025. It arrived on 04/08/2025: 5 days late.
    receive_record(db, "CRG-TM-2025", "2025/26-Q1", datetime(2025, 8, 4, 9, tzinfo=UTC))
    # As at 15/11/2025: Q2 (due 30/10/2025) is missing; Q3 has not ended. Dartford's H1 ends
    # 30/09/2025, due 30/10/2025: missing too.
    findings = return_findings(db, date(2025, 11, 15))
    assert [(f.code, f.severity, f.subject) for f in findings] == [
        ("RETURN_MISSING", "error", "CRG-DA"),
        ("RETURN_LATE", "warning", "CRG-TM-2025"),
        ("RETURN_MISSING", "error", "CRG-TM-2025"),
    ]
    assert findings[1].message == (
        "Tonbridge and Malling CSP's 2025/26-Q1 return (CRG-TM-2025) arrived on 04/08/2025, "
        "5 days after it was due on 30/07/2025"
    )
    assert findings[2].message == (
        "Tonbridge and Malling CSP's 2025/26-Q2 return (CRG-TM-2025) was due on 30/10/2025 "
        "and has not been received"
    )
    # Allowing 45 days: Q1 was due 14/08/2025 (on time) and Q2 on 14/11/2025 (still missing
    # on the 15th); H1 likewise.
    set_setting(db, RETURN_DUE_DAYS, "45")
    later = return_findings(db, date(2025, 11, 15))
    assert [(f.code, f.subject) for f in later] == [
        ("RETURN_MISSING", "CRG-DA"),
        ("RETURN_MISSING", "CRG-TM-2025"),
    ]
    # On the due date itself a return is not yet missing.
    assert return_findings(db, date(2025, 11, 14)) == []


def test_funded_check_lists_who_owes_what_and_exits_1_on_a_missing_return(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    run_cli(capsys, str(db.url), *FUNDED)
    # As at 30/07/2025, Q1's due date: nothing is missing yet.
    quiet = run_cli(capsys, str(db.url), "funded", "check", "--on", "30/07/2025")
    assert (quiet.code, quiet.out.strip()) == (0, "No problems found.")
    # A day later, Q1 (30/06/2025 + 30 days) is missing.
    result = run_cli(
        capsys, str(db.url), "funded", "check", "--on", "2025-07-31", "--format", "json"
    )
    assert result.code == 1
    assert [(f["code"], f["severity"], f["subject"]) for f in result.json()] == [
        ("RETURN_MISSING", "error", "CRG-TM-2025")
    ]
