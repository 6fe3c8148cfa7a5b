"""Project operations: add, update, weights, profile, remove and their undo, on the demo year
(grant CRG-2025-26, 1 April 2025 to 31 March 2026: four quarters; plans kent-pcc-2025 with
P1-P4 and tmbc-csp-2025-26)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from fundtracker.errors import ConflictError, LockedError, NotFoundError, ValidationError
from fundtracker.ledger.rules import add_rule
from fundtracker.models import (
    Allocation,
    AssignmentRule,
    AuditEvent,
    Grant,
    Narrative,
    ProfileAmount,
    Weight,
)
from fundtracker.operations import run_operation, undo
from fundtracker.operations.allocations import (
    AddProject,
    RemoveProject,
    SetProfile,
    SetWeights,
    UpdateProject,
    current_version,
)
from fundtracker.periods import Period
from fundtracker.returns.narratives import set_narrative
from fundtracker.returns.submission import export_return
from fundtracker.services.spend import add_spend
from fundtracker.storage import Database

GRANT = "CRG-2025-26"
PCC = "kent-pcc-2025"


def _project(db: Database, code: str) -> Allocation | None:
    with db.read() as session:
        project = session.scalar(select(Allocation).where(Allocation.code == code))
        if project is not None:
            _ = project.profile, [w.priority.plan.key for w in project.weights]
        return project


def _weights(db: Database, code: str) -> dict[str, int]:
    project = _project(db, code)
    assert project is not None
    return {w.priority.code: w.basis_points for w in project.weights if w.priority.plan.key == PCC}


def _add_a09(db: Database) -> Allocation:
    values = {"code": "A09", "name": "Street pastors", "budget": "1,200.00", "lead": "Churches"}
    return run_operation(db, AddProject(GRANT, values)).result  # type: ignore[no-any-return]


def test_add_project_creates_it_and_undo_removes_it(demo_db: Database) -> None:
    added = run_operation(
        demo_db,
        AddProject(
            GRANT,
            {"code": "A09", "name": "Street pastors", "budget": "£1,200.50", "cost_centre": ""},
        ),
    )
    project = _project(demo_db, "A09")
    assert project is not None
    assert (project.name, project.budget, project.cost_centre) == (
        "Street pastors",
        Decimal("1200.50"),
        None,
    )
    assert project.status == "active"
    undo(demo_db, added)
    assert _project(demo_db, "A09") is None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"code": "A01", "name": "Again"}, "code: grant CRG-2025-26 already has a project A01"),
        ({"code": "A09", "name": "X", "budget": "12.345"}, "budget: '12.345' has fractions"),
        ({"code": "A09", "name": "X", "budget": "-5"}, "budget: must be at least £0.00"),
        ({"code": "A09", "name": ""}, "name: is required"),
        ({"code": "A09"}, "name: is required"),
        ({"code": "A09", "name": "X", "status": "open"}, "status: must be one of"),
        ({"code": "A" * 41, "name": "X"}, "code: is 41 characters long; at most 40"),
    ],
)
def test_add_project_refuses_bad_input_and_changes_nothing(
    demo_db: Database, values: dict[str, object], field: str
) -> None:
    with demo_db.read() as session:
        before = len(session.scalars(select(Allocation)).all())
    with pytest.raises(ValidationError, match=field.replace("(", r"\(").replace("£", "£")):
        run_operation(demo_db, AddProject(GRANT, values))
    with demo_db.read() as session:
        assert len(session.scalars(select(Allocation)).all()) == before


def test_update_project_changes_fields_and_undo_puts_them_back(demo_db: Database) -> None:
    version = current_version(demo_db, GRANT, "A02")
    done = run_operation(
        demo_db,
        UpdateProject(
            GRANT,
            "A02",
            {"code": "SW1", "lead": "Town Team", "budget": "4750", "status": "closed"},
            version,
        ),
    )
    project = _project(demo_db, "SW1")
    assert project is not None and _project(demo_db, "A02") is None
    assert (project.lead, project.budget, project.status) == (
        "Town Team",
        Decimal("4750.00"),
        "closed",
    )
    undo(demo_db, done)
    back = _project(demo_db, "A02")
    assert back is not None
    assert (back.lead, back.budget, back.status) == (
        "Tonbridge Town Team",
        Decimal("4500.00"),
        "active",
    )
    with demo_db.read() as session:
        reasons = session.scalars(
            select(AuditEvent.reason).where(AuditEvent.entity == "allocation")
        ).all()
    assert "undo: Change code, lead, budget, status of project A02" in reasons


def test_undo_of_an_update_refuses_when_someone_changed_the_project_since(
    demo_db: Database,
) -> None:
    """Window 1 changes A02's lead; window 2 sets A02's budget to £4,750.00; window 1's undo
    must not put the budget back to £4,500.00."""
    done = run_operation(
        demo_db, UpdateProject(GRANT, "A02", {"lead": "Me"}, current_version(demo_db, GRANT, "A02"))
    )
    run_operation(
        demo_db,
        UpdateProject(GRANT, "A02", {"budget": "4750"}, current_version(demo_db, GRANT, "A02")),
    )
    with pytest.raises(ConflictError, match="changed by someone else"):
        undo(demo_db, done)
    project = _project(demo_db, "A02")
    assert project is not None and (project.lead, project.budget) == ("Me", Decimal("4750.00"))


def test_a_budget_change_that_leaves_the_profile_off_the_budget_is_refused(
    demo_db: Database,
) -> None:
    # A01: budget £8,000.00, profile 2000 × 4 = 8000. A budget of £9,000.00 would not match.
    version = current_version(demo_db, GRANT, "A01")
    with pytest.raises(ValidationError, match=r"A01's quarterly profile totals £8,000\.00"):
        run_operation(demo_db, UpdateProject(GRANT, "A01", {"budget": "9000"}, version))
    # Reset to even first, then the budget changes (and the even profile follows it).
    run_operation(demo_db, SetProfile(GRANT, "A01", None))
    run_operation(demo_db, UpdateProject(GRANT, "A01", {"budget": "9000"}, version))
    project = _project(demo_db, "A01")
    assert project is not None and (project.budget, project.profile) == (Decimal("9000.00"), [])


def test_a_budget_and_the_profile_that_totals_it_change_together(demo_db: Database) -> None:
    # A01: £8,000.00 as 2000 × 4; to £9,000.00 as 2000 + 2000 + 2500 + 2500 = 9000.
    version = current_version(demo_db, GRANT, "A01")
    values = {"budget": "9000", "profile": ["2000", "2000", "2500", "2500"]}
    done = run_operation(demo_db, UpdateProject(GRANT, "A01", values, version))
    project = _project(demo_db, "A01")
    assert project is not None and project.budget == Decimal("9000.00")
    assert [p.amount for p in project.profile][2:] == [Decimal("2500.00")] * 2
    undo(demo_db, done)
    project = _project(demo_db, "A01")
    assert project is not None and project.budget == Decimal("8000.00")
    assert [p.amount for p in project.profile] == [Decimal("2000.00")] * 4
    # 2000 + 2000 + 2500 + 2000 = 8500, not the new budget of 9000.
    wrong = {"budget": "9000", "profile": ["2000", "2000", "2500", "2000"]}
    with pytest.raises(ValidationError, match=r"totals £8,500\.00; it must total the budget"):
        run_operation(
            demo_db, UpdateProject(GRANT, "A01", wrong, current_version(demo_db, GRANT, "A01"))
        )
    project = _project(demo_db, "A01")
    assert project is not None and project.budget == Decimal("8000.00")


def test_update_refuses_a_duplicate_code_a_stale_version_and_an_unknown_project(
    demo_db: Database,
) -> None:
    version = current_version(demo_db, GRANT, "A02")
    with pytest.raises(ValidationError, match="already has a project A01"):
        run_operation(demo_db, UpdateProject(GRANT, "A02", {"code": "A01"}, version))
    with pytest.raises(ConflictError):
        run_operation(demo_db, UpdateProject(GRANT, "A02", {"name": "X"}, version + 1))
    with pytest.raises(NotFoundError, match="'ZZ' is not a project of grant CRG-2025-26"):
        run_operation(demo_db, UpdateProject(GRANT, "ZZ", {"name": "X"}, 1))
    project = _project(demo_db, "A02")
    assert project is not None and project.name == "Shopwatch radios"


def test_a_budget_change_is_refused_while_a_return_is_submitted(
    demo_db: Database, tmp_path: Path
) -> None:
    export_return(demo_db, GRANT, Period.parse("2025/26-Q1"), tmp_path / "q1.xlsx", submit=True)
    version = current_version(demo_db, GRANT, "A02")
    with pytest.raises(LockedError, match="cannot change its budget"):
        run_operation(demo_db, UpdateProject(GRANT, "A02", {"budget": "1"}, version))
    # The lead is not under the lock.
    run_operation(demo_db, UpdateProject(GRANT, "A02", {"lead": "New lead"}, version))
    project = _project(demo_db, "A02")
    assert project is not None and (project.budget, project.lead) == (
        Decimal("4500.00"),
        "New lead",
    )
    with pytest.raises(LockedError, match="priority weights"):
        run_operation(demo_db, SetWeights(GRANT, "A02", PCC, {"P3": 50, "P4": "50"}))


def test_set_weights_replaces_one_plans_weights_and_undo_restores_them(
    demo_db: Database,
) -> None:
    # A01 is P1 60, P2 40 in the PCC plan and C2 50, C3 50 in the local plan.
    done = run_operation(
        demo_db,
        SetWeights(
            GRANT,
            "A01",
            PCC,
            {"P1": "33.33", "P2": "33.33", "P3": "33.34", "P4": ""},
            expected={"P1": 6000, "P2": 4000},
        ),
    )
    assert _weights(demo_db, "A01") == {"P1": 3333, "P2": 3333, "P3": 3334}  # 100.00 in all
    project = _project(demo_db, "A01")
    assert project is not None
    local = {w.priority.code: w.basis_points for w in project.weights if w.priority.plan.key != PCC}
    assert local == {"C2": 5000, "C3": 5000}  # the other plan is untouched
    with demo_db.read() as session:
        events = session.execute(
            select(AuditEvent.action, AuditEvent.label).where(
                AuditEvent.reason == "Set weights of project A01 for kent-pcc-2025"
            )
        ).all()
    # P1 and P2 changed, P3 created: three audited events.
    assert sorted(events) == [
        ("create", "A01:kent-pcc-2025/P3"),
        ("update", "A01:kent-pcc-2025/P1"),
        ("update", "A01:kent-pcc-2025/P2"),
    ]
    undo(demo_db, done)
    assert _weights(demo_db, "A01") == {"P1": 6000, "P2": 4000}
    with demo_db.read() as session:
        deleted = session.scalars(
            select(AuditEvent.label).where(
                AuditEvent.action == "delete",
                AuditEvent.reason == "undo: Set weights of project A01 for kent-pcc-2025",
            )
        ).all()
    assert deleted == ["A01:kent-pcc-2025/P3"]  # the undo's delete is audited too


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"P1": "60", "P2": "30"}, "weights for kent-pcc-2025 total 90, must be 100"),
        ({"P1": "NaN", "P2": "40"}, "'NaN' is not a percentage"),
        ({"P1": "1e2"}, "'1e2' is not a percentage"),
        ({"P1": "33.333", "P2": "66.667"}, "'33.333' is not a percentage"),
        ({"P1": "101"}, "must be above 0 and at most 100"),
        ({"P9": "100"}, "has no priority P9"),
    ],
)
def test_set_weights_refuses_bad_weights_and_changes_nothing(
    demo_db: Database, weights: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        run_operation(demo_db, SetWeights(GRANT, "A01", PCC, weights))
    assert _weights(demo_db, "A01") == {"P1": 6000, "P2": 4000}


def test_set_weights_refuses_when_the_weights_changed_since_they_were_seen(
    demo_db: Database,
) -> None:
    with pytest.raises(ConflictError, match="weights of project A01"):
        run_operation(demo_db, SetWeights(GRANT, "A01", PCC, {"P1": 100}, expected={"P1": 10000}))
    assert _weights(demo_db, "A01") == {"P1": 6000, "P2": 4000}


def test_no_weights_at_all_removes_the_plans_weights(demo_db: Database) -> None:
    done = run_operation(demo_db, SetWeights(GRANT, "A01", PCC, {"P1": "", "P2": "0"}))
    assert _weights(demo_db, "A01") == {}
    undo(demo_db, done)
    assert _weights(demo_db, "A01") == {"P1": 6000, "P2": 4000}


def test_set_profile_by_quarter_and_reset_to_even(demo_db: Database) -> None:
    # A02's budget is £4,500.00 with no profile (even); 1000 + 1500 + 1000 + 1000 = 4500.
    done = run_operation(
        demo_db, SetProfile(GRANT, "A02", ["1000", "1,500.00", "1000", "1000"], expected=())
    )
    project = _project(demo_db, "A02")
    assert project is not None
    assert [p.amount for p in project.profile] == [
        Decimal("1000.00"),
        Decimal("1500.00"),
        Decimal("1000.00"),
        Decimal("1000.00"),
    ]
    reset = run_operation(demo_db, SetProfile(GRANT, "A02", None))
    project = _project(demo_db, "A02")
    assert project is not None and project.profile == []
    undo(demo_db, reset)
    project = _project(demo_db, "A02")
    assert project is not None and [p.amount for p in project.profile][1] == Decimal("1500.00")
    undo(demo_db, done)
    project = _project(demo_db, "A02")
    assert project is not None and project.profile == []


@pytest.mark.parametrize(
    ("amounts", "message"),
    [
        # 1000 + 1000 + 1000 + 1000 = 4000, not the budget of 4500.
        (["1000", "1000", "1000", "1000"], "totals £4,000.00; it must total the budget, £4,500.00"),
        (["4500"], "has 1 quarters; the grant has 4"),
        (["1125.005", "1125", "1125", "1125"], "quarter 1: '1125.005' has fractions of a penny"),
        (["-500", "2000", "1500", "1500"], "quarter 1: must be at least £0.00"),
    ],
)
def test_set_profile_refuses_a_profile_that_does_not_fit(
    demo_db: Database, amounts: list[str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        run_operation(demo_db, SetProfile(GRANT, "A02", amounts))
    project = _project(demo_db, "A02")
    assert project is not None and project.profile == []


def _rows(db: Database, model: type, allocation_id: int) -> list[dict[str, object]]:
    """A project's rows of ``model`` as values, leaving out ids (a restore may renumber)."""
    with db.read() as session:
        column = getattr(model, "allocation_id")  # noqa: B009 - each model given has one
        rows: list[object] = list(session.scalars(select(model).where(column == allocation_id)))
        return [
            {
                k: v
                for k, v in vars(row).items()
                if not k.startswith("_") and k not in ("version", "id")
            }
            for row in rows
        ]


def test_remove_project_deletes_its_rows_audited_and_undo_restores_them_all(
    demo_db: Database,
) -> None:
    project = _add_a09(demo_db)
    run_operation(demo_db, SetWeights(GRANT, "A09", PCC, {"P2": 25, "P4": 75}))
    run_operation(demo_db, SetProfile(GRANT, "A09", ["300", "300", "300", "300"]))
    set_narrative(demo_db, GRANT, Period.parse("2025/26-Q1"), "A09", {"outputs": "12 patrols"})
    add_rule(demo_db, GRANT, "supplier", "contains", "pastor", "A09")
    models = (Weight, ProfileAmount, Narrative, AssignmentRule)
    before = {m: _rows(demo_db, m, project.id) for m in models}
    assert [len(rows) for rows in before.values()] == [2, 4, 1, 1]

    removed = run_operation(
        demo_db, RemoveProject(GRANT, "A09", current_version(demo_db, GRANT, "A09"))
    )
    assert _project(demo_db, "A09") is None
    assert all(_rows(demo_db, m, project.id) == [] for m in models)
    with demo_db.read() as session:
        deleted = session.scalars(
            select(AuditEvent.entity).where(
                AuditEvent.action == "delete", AuditEvent.reason == "Remove project A09"
            )
        ).all()
    # Every row is an audited delete, not a silent cascade: 2 + 4 + 1 + 1 + the project.
    assert sorted(deleted) == sorted(
        ["weight"] * 2 + ["profile amount"] * 4 + ["narrative", "assignment rule", "allocation"]
    )

    undo(demo_db, removed)
    back = _project(demo_db, "A09")
    assert back is not None and back.id == project.id and back.budget == Decimal("1200.00")
    assert {m: _rows(demo_db, m, project.id) for m in models} == before


def test_remove_project_is_refused_while_spend_lines_refer_to_it(demo_db: Database) -> None:
    _add_a09(demo_db)
    add_spend(demo_db, GRANT, {"date": "2025-06-01", "net": "10.00", "allocation": "A09"})
    with pytest.raises(ValidationError, match="project A09: 1 spend line refer to it"):
        run_operation(demo_db, RemoveProject(GRANT, "A09", current_version(demo_db, GRANT, "A09")))
    assert _project(demo_db, "A09") is not None


def test_remove_project_is_refused_while_a_return_is_submitted(
    demo_db: Database, tmp_path: Path
) -> None:
    _add_a09(demo_db)
    export_return(demo_db, GRANT, Period.parse("2025/26-Q1"), tmp_path / "q1.xlsx", submit=True)
    with pytest.raises(LockedError, match="removal"):
        run_operation(demo_db, RemoveProject(GRANT, "A09", current_version(demo_db, GRANT, "A09")))
    assert _project(demo_db, "A09") is not None


def test_the_undo_of_a_removal_refuses_when_the_code_was_taken_again(demo_db: Database) -> None:
    _add_a09(demo_db)
    removed = run_operation(
        demo_db, RemoveProject(GRANT, "A09", current_version(demo_db, GRANT, "A09"))
    )
    run_operation(demo_db, AddProject(GRANT, {"code": "A09", "name": "Someone else's"}))
    with pytest.raises(ValidationError, match="already has a project A09"):
        undo(demo_db, removed)
    project = _project(demo_db, "A09")
    assert project is not None and project.name == "Someone else's"


def _close(db: Database) -> None:
    """Close the year as the year end does (set directly: closing needs a final return)."""
    with db.unit_of_work("closed for the test") as session:
        grant = session.scalar(select(Grant).where(Grant.reference == GRANT))
        assert grant is not None
        grant.closed_at = datetime(2026, 5, 1, tzinfo=UTC)


def test_a_closed_grants_projects_cannot_change(demo_db: Database) -> None:
    _close(demo_db)
    version = current_version(demo_db, GRANT, "A02")
    for operation in (
        AddProject(GRANT, {"code": "A09", "name": "Late"}),
        UpdateProject(GRANT, "A02", {"lead": "X"}, version),
        SetWeights(GRANT, "A02", PCC, {"P1": 100}),
        SetProfile(GRANT, "A02", None),
        RemoveProject(GRANT, "A02", version),
    ):
        with pytest.raises(LockedError, match="was closed for the year on 01/05/2026"):
            run_operation(demo_db, operation)
    project = _project(demo_db, "A02")
    assert project is not None and project.lead == "Tonbridge Town Team"
    assert _project(demo_db, "A09") is None


def test_two_edits_of_one_project_undo_one_after_the_other(demo_db: Database) -> None:
    """Undoing the second edit gives the project a new version; the undo of the first must
    still go ahead, since nothing it would overwrite changed (inverses expect row values)."""
    from fundtracker.services.grants import load_grant

    def lead() -> str:
        return {a.code: a.lead for a in load_grant(demo_db, GRANT).allocations}["A01"]

    before = lead()
    version = current_version(demo_db, GRANT, "A01")
    first = run_operation(demo_db, UpdateProject(GRANT, "A01", {"lead": "First"}, version))
    version = current_version(demo_db, GRANT, "A01")
    second = run_operation(demo_db, UpdateProject(GRANT, "A01", {"name": "Second"}, version))
    undo(demo_db, second)
    undo(demo_db, first)
    assert lead() == before
