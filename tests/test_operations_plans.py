"""Plan operations: new plan, rename, priorities (add, retitle, retire, sub-priorities) and a
new version of a plan, with their undo. The demo's kent-pcc-2025 runs 1 April 2025 to
31 March 2029 with P1-P4; project A01 weighs it P1 60, P2 40."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from fundtracker.errors import ConflictError, NotFoundError, ValidationError
from fundtracker.models import AuditEvent, Plan
from fundtracker.operations import run_operation, undo
from fundtracker.operations.allocations import SetWeights
from fundtracker.operations.plans import (
    AddPriority,
    NewPlan,
    NewPlanVersion,
    RetirePriority,
    RetitlePriority,
    UpdatePlan,
    current_plan_version,
)
from fundtracker.services.grants import load_grant
from fundtracker.setup_drafts import plan_templates
from fundtracker.storage import Database

GRANT = "CRG-2025-26"
PCC = "kent-pcc-2025"
LOCAL = {
    "key": "tmbc-2026",
    "name": "Safer Tonbridge and Malling 2026",
    "owner": "TMBC CSP",
    "kind": "csp",
    "effective_from": "01/04/2026",
    "effective_to": "2027-03-31",
}


def _plan(db: Database, key: str) -> Plan | None:
    with db.read() as session:
        plan = session.scalar(select(Plan).where(Plan.key == key))
        if plan is not None:
            _ = plan.priorities
        return plan


def _priorities(db: Database, key: str) -> list[tuple[str, str, str | None, bool]]:
    plan = _plan(db, key)
    assert plan is not None
    return [(p.code, p.title, p.parent_code, p.retired) for p in plan.priorities]


def test_new_plan_with_uk_dates_and_undo(db: Database) -> None:
    done = run_operation(db, NewPlan(LOCAL))
    plan = _plan(db, "tmbc-2026")
    assert plan is not None
    assert (plan.kind, plan.effective_from, plan.effective_to) == (
        "csp",
        date(2026, 4, 1),
        date(2027, 3, 31),
    )
    undo(db, done)
    assert _plan(db, "tmbc-2026") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"key": ""}, "key: is required"),
        ({"kind": "county"}, "kind: must be one of pcc, csp, statutory, other"),
        ({"effective_from": "32/01/2026"}, "from: '32/01/2026' is not a date"),
        ({"effective_from": None}, "from: is required"),
        ({"effective_to": "01/01/2026"}, "to: 01/01/2026 is before the start"),
    ],
)
def test_new_plan_refuses_bad_input(db: Database, change: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        run_operation(db, NewPlan({**LOCAL, **change}))
    with db.read() as session:
        assert session.scalars(select(Plan)).all() == []


def test_new_plan_refuses_a_key_in_use(demo_db: Database) -> None:
    with pytest.raises(ValidationError, match="key: a plan with key kent-pcc-2025 already exists"):
        run_operation(demo_db, NewPlan({**LOCAL, "key": PCC}))


def test_rename_a_plan_and_undo(demo_db: Database) -> None:
    version = current_plan_version(demo_db, PCC)
    done = run_operation(demo_db, UpdatePlan(PCC, {"name": "Safer Kent"}, version))
    plan = _plan(demo_db, PCC)
    assert plan is not None and plan.name == "Safer Kent"
    with pytest.raises(ConflictError):
        run_operation(demo_db, UpdatePlan(PCC, {"name": "Stale"}, version))
    undo(demo_db, done)
    plan = _plan(demo_db, PCC)
    assert plan is not None and plan.name == "Cut Crime, Support Victims, Build Trust"


def test_add_priorities_and_sub_priorities_in_place_and_undo(demo_db: Database) -> None:
    sub = run_operation(demo_db, AddPriority(PCC, "P1.1", "Violence against women", "P1"))
    run_operation(demo_db, AddPriority(PCC, "P1.2", "Young people", "P1"))
    run_operation(demo_db, AddPriority(PCC, "P5", "Roads"))
    assert [c for c, *_ in _priorities(demo_db, PCC)] == [
        "P1",
        "P1.1",
        "P1.2",
        "P2",
        "P3",
        "P4",
        "P5",
    ]
    plan = _plan(demo_db, PCC)
    assert plan is not None
    assert [p.position for p in plan.priorities] == list(range(7))
    # A sub-priority of P1.1 goes after it, before P1.2; undoing P1.1 is then refused.
    run_operation(demo_db, AddPriority(PCC, "P1.1.1", "Schools", "P1.1"))
    assert [c for c, *_ in _priorities(demo_db, PCC)][1:4] == ["P1.1", "P1.1.1", "P1.2"]
    with pytest.raises(ConflictError, match="now has weights or sub-priorities"):
        undo(demo_db, sub)
    assert "P1.1" in [c for c, *_ in _priorities(demo_db, PCC)]


def test_the_undo_of_adding_a_priority_removes_it_and_closes_the_gap(demo_db: Database) -> None:
    done = run_operation(demo_db, AddPriority(PCC, "P1.1", "Violence against women", "P1"))
    undo(demo_db, done)
    plan = _plan(demo_db, PCC)
    assert plan is not None
    assert [(p.code, p.position) for p in plan.priorities] == [
        ("P1", 0),
        ("P2", 1),
        ("P3", 2),
        ("P4", 3),
    ]
    with demo_db.read() as session:
        labels = session.scalars(
            select(AuditEvent.label).where(
                AuditEvent.entity == "priority", AuditEvent.action == "delete"
            )
        ).all()
    assert labels == ["kent-pcc-2025/P1.1"]


@pytest.mark.parametrize(
    ("code", "title", "under", "message"),
    [
        (
            "P1",
            "Again",
            None,
            "code: Cut Crime, Support Victims, Build Trust already has a priority P1",
        ),
        ("", "Empty", None, "code: is required"),
        ("P9", "", None, "title: is required"),
        ("P9", "Orphan", "P7", "under: .* has no priority P7"),
    ],
)
def test_add_priority_refuses_bad_input(
    demo_db: Database, code: str, title: str, under: str | None, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        run_operation(demo_db, AddPriority(PCC, code, title, under))
    assert len(_priorities(demo_db, PCC)) == 4


def test_retitle_a_priority_refuses_a_stale_title_and_undoes(demo_db: Database) -> None:
    done = run_operation(demo_db, RetitlePriority(PCC, "P2", "Safer places", "Protecting Places"))
    assert _priorities(demo_db, PCC)[1][1] == "Safer places"
    with pytest.raises(ConflictError, match="retitled by someone else"):
        run_operation(demo_db, RetitlePriority(PCC, "P2", "X", "Protecting Places"))
    undo(demo_db, done)
    assert _priorities(demo_db, PCC)[1][1] == "Protecting Places"


def test_retire_a_priority_with_its_sub_priorities_keeps_weights_and_refuses_new_ones(
    demo_db: Database,
) -> None:
    run_operation(demo_db, AddPriority(PCC, "P1.1", "Violence against women", "P1"))
    done = run_operation(demo_db, RetirePriority(PCC, "P1"))
    assert [(c, r) for c, _, _, r in _priorities(demo_db, PCC)][:2] == [
        ("P1", True),
        ("P1.1", True),
    ]
    # A01 keeps P1 60, P2 40; a new weight on P1 (here for A02) is refused.
    weights = {
        w.priority.code: w.basis_points for w in load_grant(demo_db, GRANT).allocations[0].weights
    }
    assert weights["P1"] == 6000
    with pytest.raises(ValidationError, match=r"priority P1 of .* is retired"):
        run_operation(demo_db, SetWeights(GRANT, "A02", PCC, {"P1": 100}))
    with pytest.raises(ValidationError, match=r"under: priority P1 .* is retired"):
        run_operation(demo_db, AddPriority(PCC, "P1.2", "Young people", "P1"))
    with pytest.raises(ValidationError, match="already retired"):
        run_operation(demo_db, RetirePriority(PCC, "P1.1"))
    undo(demo_db, done)
    assert [r for *_, r in _priorities(demo_db, PCC)] == [False] * 5


def test_retire_an_unknown_priority_names_the_plans_codes(demo_db: Database) -> None:
    with pytest.raises(
        NotFoundError, match=r"has no priority P9 \(its priorities: P1, P2, P3, P4\)"
    ):
        run_operation(demo_db, RetirePriority(PCC, "P9"))


def test_a_new_version_of_a_plan_leaves_weights_on_the_old_one(demo_db: Database) -> None:
    run_operation(demo_db, RetirePriority(PCC, "P4"))
    version = current_plan_version(demo_db, PCC)
    done = run_operation(demo_db, NewPlanVersion(PCC, "01/04/2027", version, "kent-pcc-2027"))
    old, new = _plan(demo_db, PCC), _plan(demo_db, "kent-pcc-2027")
    assert old is not None and new is not None
    assert (old.effective_from, old.effective_to) == (date(2025, 4, 1), date(2027, 3, 31))
    assert (new.effective_from, new.effective_to, new.previous_id) == (
        date(2027, 4, 1),
        date(2029, 3, 31),
        old.id,
    )
    # The retired P4 does not carry into the new version.
    assert [c for c, *_ in _priorities(demo_db, "kent-pcc-2027")] == ["P1", "P2", "P3"]
    grant = load_grant(demo_db, GRANT)
    assert grant.aligned_plan.key == PCC
    assert {w.priority.plan.key for a in grant.allocations for w in a.weights} == {
        PCC,
        "tmbc-csp-2025-26",
    }
    # Weights can be set against the new version too.
    run_operation(demo_db, SetWeights(GRANT, "A02", "kent-pcc-2027", {"P3": 100}))
    with pytest.raises(ConflictError, match="used by a grant or a project's weights"):
        undo(demo_db, done)
    run_operation(demo_db, SetWeights(GRANT, "A02", "kent-pcc-2027", {}))
    undo(demo_db, done)
    assert _plan(demo_db, "kent-pcc-2027") is None
    old = _plan(demo_db, PCC)
    assert old is not None and old.effective_to == date(2029, 3, 31)


@pytest.mark.parametrize(
    ("starts", "message"),
    [
        ("01/04/2025", "from: must be after 01/04/2025"),
        ("01/04/2029", "from: must be on or before 31/03/2029"),
        ("not a date", "from: 'not a date' is not a date"),
    ],
)
def test_a_new_version_must_start_inside_the_plan(
    demo_db: Database, starts: str, message: str
) -> None:
    version = current_plan_version(demo_db, PCC)
    with pytest.raises(ValidationError, match=message):
        run_operation(demo_db, NewPlanVersion(PCC, starts, version))
    plan = _plan(demo_db, PCC)
    assert plan is not None and plan.effective_to == date(2029, 3, 31)


def test_the_kent_template_ships_as_a_data_file() -> None:
    templates = {spec.key: spec for spec in plan_templates()}
    kent = templates["kent-pcc-2025"]
    assert kent.name == "Cut Crime, Support Victims, Build Trust"
    assert (kent.effective_from, kent.effective_to) == (date(2025, 4, 1), date(2029, 3, 31))
    assert [p.title for p in kent.priorities] == [
        "Protecting People",
        "Protecting Places",
        "Protecting Property",
        "Productive Partnerships",
    ]
