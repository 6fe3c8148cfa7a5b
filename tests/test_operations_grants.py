"""Grant operations: a new grant, its details, its payments, and their undo. The demo grant
CRG-2025-26 runs 1 April 2025 to 31 March 2026 with payments of £28,000.00 on 15/05/2025
(received) and £14,000.00 on 15/01/2026 (expected)."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from fundtracker.errors import ConflictError, LockedError, NotFoundError, ValidationError
from fundtracker.models import AuditEvent, Grant, Payment
from fundtracker.operations import run_operation, undo
from fundtracker.operations.allocations import AddProject
from fundtracker.operations.grants import (
    AddPayment,
    EditPayment,
    NewGrant,
    RemovePayment,
    UpdateGrant,
    current_grant_version,
    find_payment,
    receive_payment,
)
from fundtracker.periods import Period
from fundtracker.returns.submission import export_return
from fundtracker.services.grants import grant_spec, import_grant, load_grant
from fundtracker.setup_files import grant_to_toml, read_grant
from fundtracker.storage import Database

GRANT = "CRG-2025-26"
NEW = {
    "reference": "CRG-2026-27",
    "name": "Crime Reduction Grant 2026/27",
    "funder": "Kent PCC",
    "recipient": "Tonbridge and Malling CSP",
    "award": "£40,000.00",
    "start": "01/04/2026",
    "end": "31/03/2027",
    "return_frequency": "half-yearly",
    "aligned_plan": "kent-pcc-2025",
}


def _grant(db: Database, reference: str) -> Grant | None:
    with db.read() as session:
        return session.scalar(select(Grant).where(Grant.reference == reference))


def _payments(
    db: Database, reference: str = GRANT
) -> list[tuple[date, Decimal, bool, date | None]]:
    grant = load_grant(db, reference)
    return [(p.date, p.amount, p.received, p.received_on) for p in grant.payments]


def test_new_grant_from_uk_dates_and_undo_removes_it(demo_db: Database) -> None:
    done = run_operation(demo_db, NewGrant(NEW))
    grant = _grant(demo_db, "CRG-2026-27")
    assert grant is not None
    assert (grant.award, grant.start_date, grant.end_date, grant.return_frequency) == (
        Decimal("40000.00"),
        date(2026, 4, 1),
        date(2027, 3, 31),
        "half-yearly",
    )
    assert done.grant == "CRG-2026-27"
    undo(demo_db, done)
    assert _grant(demo_db, "CRG-2026-27") is None


def test_the_undo_of_a_new_grant_is_refused_once_a_project_was_added(demo_db: Database) -> None:
    done = run_operation(demo_db, NewGrant(NEW))
    run_operation(demo_db, AddProject("CRG-2026-27", {"code": "B01", "name": "Patrols"}))
    with pytest.raises(ConflictError, match="cannot be removed"):
        undo(demo_db, done)
    assert _grant(demo_db, "CRG-2026-27") is not None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reference": "CRG-2025-26"}, "reference: a grant with reference CRG-2025-26 already"),
        ({"award": "0"}, "award: must be more than £0.00"),
        ({"award": "40000.001"}, "award: '40000.001' has fractions of a penny"),
        ({"start": "31/02/2026"}, "start: '31/02/2026' is not a date"),
        ({"end": "31/03/2026"}, r"end: 31/03/2026 is before the start"),
        ({"return_frequency": "monthly"}, "return frequency: must be one of"),
        ({"aligned_plan": "no-such-plan"}, "aligned plan: unknown plan 'no-such-plan'"),
        ({"local_plan": "nope"}, "local plan: unknown plan 'nope'"),
    ],
)
def test_new_grant_refuses_bad_input_and_writes_nothing(
    demo_db: Database, change: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        run_operation(demo_db, NewGrant({**NEW, **change}))
    assert _grant(demo_db, "CRG-2026-27") is None


def test_new_grant_names_every_missing_field(demo_db: Database) -> None:
    with pytest.raises(ValidationError) as refused:
        run_operation(demo_db, NewGrant({"reference": "X"}))
    assert [e.field for e in refused.value.errors] == [
        "name",
        "award",
        "start",
        "end",
        "aligned_plan",
    ]


def test_update_grant_details_and_undo(demo_db: Database) -> None:
    version = current_grant_version(demo_db, GRANT)
    done = run_operation(
        demo_db,
        UpdateGrant(
            GRANT,
            {"award": "45000", "conditions": "Spend by March", "local_plan": "", "name": "CRG"},
            version,
        ),
    )
    grant = load_grant(demo_db, GRANT)
    assert (grant.award, grant.conditions, grant.local_plan, grant.name) == (
        Decimal("45000.00"),
        "Spend by March",
        None,
        "CRG",
    )
    undo(demo_db, done)
    grant = load_grant(demo_db, GRANT)
    assert grant.award == Decimal("42000.00") and grant.name == "Crime Reduction Grant 2025/26"
    assert grant.local_plan is not None and grant.local_plan.key == "tmbc-csp-2025-26"


def test_update_grant_refuses_a_stale_version_and_bad_dates(demo_db: Database) -> None:
    version = current_grant_version(demo_db, GRANT)
    with pytest.raises(ConflictError, match="changed by someone else"):
        run_operation(demo_db, UpdateGrant(GRANT, {"name": "X"}, version + 1))
    with pytest.raises(ValidationError, match="end: 01/01/2025 is before the start"):
        run_operation(demo_db, UpdateGrant(GRANT, {"end": "01/01/2025"}, version))
    # A01 has a profile of 4 quarters; to 30 June 2026 the grant would have 5.
    with pytest.raises(ValidationError, match=r"5 quarters.*A01 \(4\)"):
        run_operation(demo_db, UpdateGrant(GRANT, {"end": "30/06/2026"}, version))
    with pytest.raises(NotFoundError):
        run_operation(demo_db, UpdateGrant("NOPE", {"name": "X"}, 1))
    assert load_grant(demo_db, GRANT).end_date == date(2026, 3, 31)


def test_grant_dates_are_locked_while_a_return_is_submitted(
    demo_db: Database, tmp_path: Path
) -> None:
    export_return(demo_db, GRANT, Period.parse("2025/26-Q1"), tmp_path / "q1.xlsx", submit=True)
    version = current_grant_version(demo_db, GRANT)
    with pytest.raises(LockedError, match="cannot change its start"):
        run_operation(demo_db, UpdateGrant(GRANT, {"start": "02/04/2025"}, version))
    run_operation(demo_db, UpdateGrant(GRANT, {"funder": "OPCC Kent"}, version))
    grant = load_grant(demo_db, GRANT)
    assert (grant.start_date, grant.funder) == (date(2025, 4, 1), "OPCC Kent")


def test_add_payment_and_undo(demo_db: Database) -> None:
    done = run_operation(demo_db, AddPayment(GRANT, "01/11/2025", "£500.00"))
    assert _payments(demo_db)[-1] == (date(2025, 11, 1), Decimal("500.00"), False, None)
    assert done.result["amount"] == "500.00"
    undo(demo_db, done)
    assert len(_payments(demo_db)) == 2


@pytest.mark.parametrize(
    ("when", "amount", "message"),
    [
        ("01/11/2026", "500", "date: 01/11/2026 is outside the grant"),
        ("31/11/2025", "500", "date: '31/11/2025' is not a date"),
        ("01/11/2025", "5.001", "amount: '5.001' has fractions of a penny"),
        ("01/11/2025", "-5", "amount: must be more than £0.00"),
    ],
)
def test_add_payment_refuses_bad_input(
    demo_db: Database, when: str, amount: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        run_operation(demo_db, AddPayment(GRANT, when, amount))
    assert len(_payments(demo_db)) == 2


def test_mark_a_payment_received_with_its_day_and_undo(demo_db: Database) -> None:
    payment_id, seen = find_payment(demo_db, GRANT, date(2026, 1, 15))
    done = run_operation(demo_db, receive_payment(GRANT, payment_id, seen, "20/01/2026"))
    assert _payments(demo_db)[1] == (
        date(2026, 1, 15),
        Decimal("14000.00"),
        True,
        date(2026, 1, 20),
    )
    with demo_db.read() as session:
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.entity == "payment", AuditEvent.action == "update")
        )
    assert event is not None and '"received_on": [null, "2026-01-20"]' in event.changes
    undo(demo_db, done)
    assert _payments(demo_db)[1] == (date(2026, 1, 15), Decimal("14000.00"), False, None)


def test_payment_edits_refuse_when_the_payment_changed_since_it_was_seen(
    demo_db: Database,
) -> None:
    payment_id, seen = find_payment(demo_db, GRANT, date(2026, 1, 15))
    run_operation(demo_db, EditPayment(GRANT, payment_id, seen, seen.date, "15000", seen.received))
    with pytest.raises(ConflictError, match="payment of 15/01/2026 was changed"):
        run_operation(demo_db, RemovePayment(GRANT, payment_id, seen))
    assert _payments(demo_db)[1][1] == Decimal("15000.00")


def test_remove_payment_and_undo_puts_it_back_in_its_place(demo_db: Database) -> None:
    payment_id, seen = find_payment(demo_db, GRANT, date(2025, 5, 15))
    done = run_operation(demo_db, RemovePayment(GRANT, payment_id, seen))
    assert _payments(demo_db) == [(date(2026, 1, 15), Decimal("14000.00"), False, None)]
    undo(demo_db, done)
    assert [p[0] for p in _payments(demo_db)] == [date(2025, 5, 15), date(2026, 1, 15)]


def test_find_payment_names_the_payments_there_are(demo_db: Database) -> None:
    with pytest.raises(ValidationError, match=r"no payment on 16/05/2025 .*15/05/2025, 15/01/2026"):
        find_payment(demo_db, GRANT, date(2025, 5, 16))


def test_received_on_round_trips_through_the_grant_file(demo_db: Database) -> None:
    payment_id, seen = find_payment(demo_db, GRANT, date(2026, 1, 15))
    run_operation(demo_db, receive_payment(GRANT, payment_id, seen, "2026-01-20"))
    text = grant_to_toml(grant_spec(load_grant(demo_db, GRANT)))
    assert "received_on = 2026-01-20" in text
    spec = read_grant(tomllib.loads(text))
    assert spec.payments[1].received_on == date(2026, 1, 20)
    # Importing the exported file changes nothing: the same payments come back.
    import_grant(demo_db, spec)
    assert _payments(demo_db)[1] == (
        date(2026, 1, 15),
        Decimal("14000.00"),
        True,
        date(2026, 1, 20),
    )
    with demo_db.read() as session:
        assert len(session.scalars(select(Payment)).all()) == 2


def test_a_closed_grants_details_and_payments_cannot_change(demo_db: Database) -> None:
    with demo_db.unit_of_work("closed for the test") as session:
        grant = session.scalar(select(Grant).where(Grant.reference == GRANT))
        assert grant is not None
        grant.closed_at = datetime(2026, 5, 1, tzinfo=UTC)
    payment_id, seen = find_payment(demo_db, GRANT, date(2026, 1, 15))
    version = current_grant_version(demo_db, GRANT)
    for operation in (
        UpdateGrant(GRANT, {"conditions": "late"}, version),
        AddPayment(GRANT, "01/11/2025", "5"),
        receive_payment(GRANT, payment_id, seen, "20/01/2026"),
        RemovePayment(GRANT, payment_id, seen),
    ):
        with pytest.raises(LockedError, match="was closed for the year"):
            run_operation(demo_db, operation)
    assert _payments(demo_db)[1] == (date(2026, 1, 15), Decimal("14000.00"), False, None)
    assert load_grant(demo_db, GRANT).conditions.startswith("ILLUSTRATIVE")
