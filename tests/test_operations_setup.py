"""SetUpGrant: the assistant's one-step setup of plans and a grant, and its careful undo."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fundtracker.errors import ConflictError, ValidationError
from fundtracker.models import AuditEvent, Grant, Payment, Plan, Priority, Weight
from fundtracker.operations import Kind, run_operation, undo
from fundtracker.operations.setup import RemoveSetUpGrant, SetUpGrant, preview_findings
from fundtracker.operations.spend import AddLine
from fundtracker.services.grants import load_grant
from fundtracker.setup_files import AllocationSpec, GrantSpec, PaymentSpec, PlanSpec, PrioritySpec
from fundtracker.storage import Database

D = Decimal


def pcc_plan() -> PlanSpec:
    return PlanSpec(
        "kent-pcc-2025",
        "Cut Crime, Support Victims, Build Trust",
        "Kent PCC",
        "pcc",
        date(2025, 4, 1),
        date(2029, 3, 31),
        [PrioritySpec(f"P{n}", title) for n, title in enumerate(["People", "Places"], 1)],
    )


def local_plan() -> PlanSpec:
    titles = ["Violence", "Shops", "Youth", "Abuse"]
    return PlanSpec(
        "csp-2026",
        "CSP plan 2026",
        "Our CSP",
        "csp",
        date(2026, 4, 1),
        None,
        [PrioritySpec(f"C{n}", title) for n, title in enumerate(titles, 1)],
    )


def grant(**changes: object) -> GrantSpec:
    spec = GrantSpec(
        reference="G-2026",
        name="Grant 2026/27",
        funder="Kent PCC",
        recipient="Our CSP",
        award=D("40000.00"),
        start=date(2026, 4, 1),
        end=date(2027, 3, 31),
        return_frequency="quarterly",
        aligned_plan="kent-pcc-2025",
        local_plan="csp-2026",
        conditions="Spend in year",
        # 25,000.00 + 15,000.00 = 40,000.00, the whole award
        payments=[
            PaymentSpec(date(2026, 5, 1), D("25000.00"), True),
            PaymentSpec(date(2026, 11, 1), D("15000.00"), False),
        ],
        allocations=[
            AllocationSpec(
                "A01",
                "Youth club",
                budget=D("10000.00"),
                # 2,500.00 × 4 = 10,000.00, the budget
                profile=[D("2500.00")] * 4,
                weights={"kent-pcc-2025": {"P1": 6000, "P2": 4000}, "csp-2026": {"C3": 10000}},
            ),
            AllocationSpec(
                "A02",
                "Shop radios",
                budget=D("5000.00"),
                weights={"kent-pcc-2025": {"P2": 10000}, "csp-2026": {"C2": 10000}},
            ),
        ],
    )
    for name, value in changes.items():
        setattr(spec, name, value)
    return spec


def count(db: Database, model: type) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_set_up_writes_plans_and_grant_in_one_audited_step(db: Database) -> None:
    operation = SetUpGrant((pcc_plan(), local_plan()), grant())
    done = run_operation(db, operation)
    assert done.grant == "G-2026"
    assert {Kind.GRANTS, Kind.PLANS, Kind.ALLOCATIONS} <= done.kinds
    stored = load_grant(db, "G-2026")
    assert stored.award == D("40000.00")
    assert [(p.date, p.amount, p.received) for p in stored.payments] == [
        (date(2026, 5, 1), D("25000.00"), True),
        (date(2026, 11, 1), D("15000.00"), False),
    ]
    assert [a.code for a in stored.allocations] == ["A01", "A02"]
    assert [p.amount for p in stored.allocations[0].profile] == [D("2500.00")] * 4
    assert stored.allocations[1].profile == []  # even: no quarters stored
    assert stored.local_plan is not None and stored.local_plan.key == "csp-2026"
    assert [p.code for p in stored.local_plan.priorities] == ["C1", "C2", "C3", "C4"]
    # 2 weights for A01 in the PCC plan + 1 local, 1 + 1 for A02 = 5
    assert count(db, Weight) == 5
    with db.read() as session:
        reasons = set(session.scalars(select(AuditEvent.reason)))
    assert reasons == {"Set up grant G-2026"}


def test_undo_removes_everything_it_made_and_redo_makes_it_again(db: Database) -> None:
    done = run_operation(db, SetUpGrant((pcc_plan(), local_plan()), grant()))
    undone = undo(db, done)
    assert (count(db, Grant), count(db, Plan), count(db, Priority), count(db, Payment)) == (
        0,
        0,
        0,
        0,
    )
    with db.read() as session:
        deletes = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "delete")
        )
    assert deletes and deletes > 0  # the removal is audited row by row
    undo(db, undone, "redo")
    assert load_grant(db, "G-2026").allocations[0].code == "A01"
    assert count(db, Plan) == 2


def test_undo_keeps_plans_that_existed_before(db: Database) -> None:
    run_operation(db, SetUpGrant((pcc_plan(),), grant(local_plan=None, allocations=[])))
    second = grant(reference="G-2027", local_plan=None, allocations=[])
    done = run_operation(db, SetUpGrant((), second))
    undo(db, done)
    assert count(db, Grant) == 1 and count(db, Plan) == 1


def test_undo_is_refused_once_spend_was_added(db: Database) -> None:
    done = run_operation(db, SetUpGrant((pcc_plan(), local_plan()), grant()))
    run_operation(db, AddLine("G-2026", {"date": "2026-05-02", "net": "10.00"}))
    with pytest.raises(ConflictError, match="spend lines were added"):
        undo(db, done)
    assert count(db, Grant) == 1 and count(db, Plan) == 2


def test_undo_is_refused_when_another_grant_uses_a_plan_it_made(db: Database) -> None:
    done = run_operation(db, SetUpGrant((pcc_plan(), local_plan()), grant()))
    run_operation(db, SetUpGrant((), grant(reference="G-2", allocations=[])))
    assert isinstance(done.inverse, RemoveSetUpGrant)
    with pytest.raises(ConflictError, match="another grant now uses plan"):
        undo(db, done)
    assert count(db, Grant) == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"payments": [PaymentSpec(date(2027, 4, 1), D("1.00"), False)]},
            "payment 1: date 01/04/2027 is outside the grant",
        ),
        (
            {
                "allocations": [
                    AllocationSpec(
                        "A01",
                        "x",
                        budget=D("100.00"),
                        # 30 + 30 + 30 + 30 = 120.00, not the 100.00 budget
                        profile=[D("30.00")] * 4,
                        weights={"kent-pcc-2025": {"P1": 10000}},
                    )
                ]
            },
            "project A01: profile totals £120.00; the budget is £100.00",
        ),
        (
            {"allocations": [AllocationSpec("A01", "x", weights={"kent-pcc-2025": {"P1": 9000}})]},
            "weights for kent-pcc-2025 total 90, must be 100",
        ),
        (
            {"allocations": [AllocationSpec("A01", "x"), AllocationSpec("A01", "y")]},
            "allocation A01: code appears more than once",
        ),
    ],
)
def test_bad_setups_are_refused_writing_nothing(
    db: Database, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        run_operation(db, SetUpGrant((pcc_plan(), local_plan()), grant(**changes)))
    assert (count(db, Grant), count(db, Plan), count(db, AuditEvent)) == (0, 0, 0)


def test_an_existing_reference_or_plan_key_is_refused(db: Database) -> None:
    run_operation(db, SetUpGrant((pcc_plan(), local_plan()), grant()))
    with pytest.raises(ValidationError, match="reference G-2026 already exists"):
        run_operation(db, SetUpGrant((), grant()))
    with pytest.raises(ValidationError, match="a plan keyed kent-pcc-2025 exists"):
        run_operation(db, SetUpGrant((pcc_plan(),), grant(reference="G-9")))
    assert count(db, Grant) == 1


def test_preview_lists_findings_and_writes_nothing(db: Database) -> None:
    # Allocated 10,000 + 5,000 = 15,000 of a 40,000 award: 25,000 unallocated.
    findings = preview_findings(
        db, SetUpGrant((pcc_plan(), local_plan()), grant()), today=date(2026, 5, 1)
    )
    unallocated = [f for f in findings if f.code == "GRANT_UNALLOCATED"]
    assert [f.message.split(" is ")[0] for f in unallocated] == [
        "£25,000.00 of the £40,000.00 award"
    ]
    assert (count(db, Grant), count(db, Plan), count(db, AuditEvent)) == (0, 0, 0)


def test_undo_goes_ahead_after_a_change_made_and_undone_but_not_after_one_kept(
    db: Database,
) -> None:
    from fundtracker.operations.grants import UpdateGrant

    done = run_operation(db, SetUpGrant((pcc_plan(), local_plan()), grant()))
    version = load_grant(db, "G-2026").version
    renamed = run_operation(db, UpdateGrant("G-2026", {"name": "Renamed"}, version))
    with pytest.raises(ConflictError, match="details, payments or projects were changed"):
        undo(db, done)
    undo(db, renamed)  # the name is back: the grant is as it was set up (a newer version)
    undo(db, done)
    assert (count(db, Grant), count(db, Plan)) == (0, 0)
