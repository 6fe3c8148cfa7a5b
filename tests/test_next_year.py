"""The next year: the following year's grant from this one (projects, weights, profile shape,
rules, conditions, dates), budgets scaled to a new award worked out by hand (half-up total,
largest-remainder split with a tie), and the new year's lines moved over in one step."""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from fundtracker.errors import ValidationError
from fundtracker.models import AssignmentRule, Grant, SpendLine, Virement
from fundtracker.next_year import (
    lines_in_new_year,
    scaled_budgets,
    scaled_total,
    start_next_year,
)
from fundtracker.operations import run_operation, undo
from fundtracker.operations.year import MoveLinesToGrant, StartNextYear
from fundtracker.services import plans
from fundtracker.services.grants import get_grant, load_grant
from fundtracker.setup_files import read_plan
from fundtracker.storage import Database, utcnow
from tests.figure_scenarios import add_line, load_grant_toml, load_plans
from tests.helpers import run_cli

D = Decimal

OLD_GRANT = """
[grant]
reference = "N-1"
name = "Community safety grant 2025/26"
funder = "PCC"
recipient = "CSP"
award = "10000.00"
start = 2025-04-01
end = 2026-03-31
aligned_plan = "pcc"
local_plan = "csp"
conditions = "Report quarterly. Underspend is returned."

[[grant.payments]]
date = 2025-05-01
amount = "10000.00"
received = true

[[allocations]]
code = "A"
name = "Youth work"
lead = "Council"
budget = "1000.00"
cost_centre = "CC-A"
profile = ["250.00", "250.00", "250.00", "250.00"]
[allocations.priorities]
pcc = { P1 = 60, P2 = 40 }
csp = { C1 = 100 }

[[allocations]]
code = "B"
name = "Scams workshops"
lead = "Charity"
budget = "1000.00"
profile = ["100.00", "200.00", "300.00", "400.00"]
[allocations.priorities]
pcc = { P3 = 100 }
csp = { C2 = 100 }

[[allocations]]
code = "C"
name = "Small grants"
budget = "1000.00"
"""

NEW_LOCAL_PLAN = """
[plan]
key = "csp-2026"
name = "CSP Plan 2026-29"
kind = "csp"
effective_from = 2026-04-01

[[priorities]]
code = "C1"
title = "Acquisitive Crime"

[[priorities]]
code = "C9"
title = "Violence against women and girls"
"""


@pytest.fixture()
def old_year(db: Database) -> Database:
    load_plans(db)
    load_grant_toml(db, OLD_GRANT)
    with db.unit_of_work() as session:
        grant = get_grant(session, "N-1")
        session.add(
            AssignmentRule(
                grant_id=grant.id,
                field="supplier",
                operator="contains",
                value="Youth",
                allocation_id=grant.allocations[0].id,
                position=0,
            )
        )
    return db


# --- Arithmetic by hand ----------------------------------------------------------------------


def test_scaled_total_rounds_half_up() -> None:
    # 1,000.01 × 5,000.00 ÷ 10,000.00 = 500.005 → 500.01 (half up, not to even).
    assert scaled_total(100001, 500000, 1000000) == 50001
    # 1,000.03 × 5,000.00 ÷ 10,000.00 = 500.015 → 500.02; 1,000.02 × ½ = 500.01 exactly.
    assert scaled_total(100003, 500000, 1000000) == 50002
    assert scaled_total(100002, 500000, 1000000) == 50001
    # 3,000.00 × 5,000.02 ÷ 10,000.00 = 1,500.006 → 1,500.01.
    assert scaled_total(300000, 500002, 1000000) == 150001


def test_scaled_budgets_split_by_largest_remainder_ties_to_the_first() -> None:
    # New total 1,500.01 over three equal budgets: 500.003… each, floors 500.00 × 3 = 1,500.00,
    # one penny left and three equal remainders: it goes to the first project.
    assert scaled_budgets([100000, 100000, 100000], 500002, 1000000) == [50001, 50000, 50000]
    # No new award: today's budgets unchanged.
    assert scaled_budgets([80000, 120000], None, 1000000) == [80000, 120000]
    # Budgets 1,000.00 and 2,000.00 (3,000.00) to an award of 2/3: 3,000 × 6,666.67 ÷ 10,000
    # = 2,000.001 → 2,000.00; split 1:2 → 666.666… and 1,333.333…: floors 666.66 + 1,333.33 =
    # 1,999.99, the penny to the larger remainder (0.666… of a penny beats 0.333…): 666.67.
    assert scaled_budgets([100000, 200000], 666667, 1000000) == [66667, 133333]


# --- The new grant ---------------------------------------------------------------------------


def test_next_year_copies_the_grant_with_scaled_budgets_and_profile_shape(
    old_year: Database,
) -> None:
    started = start_next_year(old_year, "N-1", "N-2", award=D("5000.02"))
    # 3,000.00 allocated × 5,000.02 ÷ 10,000.00 = 1,500.01 (see above): A 500.01, B and C 500.00.
    assert started.budgets == {"A": D("500.01"), "B": D("500.00"), "C": D("500.00")}
    new = load_grant(old_year, "N-2")
    assert (new.start_date, new.end_date) == (date(2026, 4, 1), date(2027, 3, 31))
    assert new.name == "Community safety grant 2026/27"
    assert new.award == D("5000.02") and new.payments == []
    assert new.conditions == "Report quarterly. Underspend is returned."
    assert new.local_plan is not None and new.local_plan.key == "csp"
    a, b, c = new.allocations
    assert (a.code, a.name, a.lead, a.cost_centre) == ("A", "Youth work", "Council", "CC-A")
    # A's even profile of 500.01: 125.0025 each, floors 125.00 × 4, the penny to Q1 (a tie).
    assert [p.amount for p in a.profile] == [D("125.01"), D("125.00"), D("125.00"), D("125.00")]
    # B's 1:2:3:4 shape of 500.00: 50, 100, 150, 200 exactly.
    assert [p.amount for p in b.profile] == [D("50.00"), D("100.00"), D("150.00"), D("200.00")]
    assert c.profile == []
    assert {(w.priority.plan.key, w.priority.code, w.basis_points) for w in a.weights} == {
        ("pcc", "P1", 6000),
        ("pcc", "P2", 4000),
        ("csp", "C1", 10000),
    }
    with old_year.read() as session:
        rules = session.scalars(
            select(AssignmentRule).where(AssignmentRule.grant_id == new.id)
        ).all()
    assert [(r.field, r.operator, r.value, r.allocation_id) for r in rules] == [
        ("supplier", "contains", "Youth", a.id)
    ]
    # The old grant is as it was.
    old = load_grant(old_year, "N-1")
    assert [x.budget for x in old.allocations] == [D("1000.00")] * 3


def test_without_an_award_budgets_are_todays_after_virements(old_year: Database) -> None:
    with old_year.unit_of_work() as session:
        grant = get_grant(session, "N-1")
        a, b, _ = grant.allocations
        session.add(
            Virement(
                grant_id=grant.id,
                from_allocation_id=a.id,
                to_allocation_id=b.id,
                amount=D("200.00"),
                approval="OPCC-7",
                approved_on=date(2025, 10, 1),
                effective=date(2025, 10, 1),
                note="",
            )
        )
    started = start_next_year(old_year, "N-1", "N-2")
    # A 1,000 − 200 = 800; B 1,000 + 200 = 1,200; C 1,000; the award stays 10,000.00.
    assert started.budgets == {"A": D("800.00"), "B": D("1200.00"), "C": D("1000.00")}
    assert started.award == D("10000.00")


def test_a_new_local_plan_keeps_weights_whose_priority_codes_it_has(old_year: Database) -> None:
    plans.import_plan(old_year, read_plan(tomllib.loads(NEW_LOCAL_PLAN)))
    started = start_next_year(old_year, "N-1", "N-2", local_plan="csp-2026")
    new = load_grant(old_year, "N-2")
    a, b, _ = new.allocations
    # A's C1 exists in csp-2026; B's C2 does not, so B gets no csp-2026 weights and a note.
    assert {(w.priority.plan.key, w.priority.code) for w in a.weights} == {
        ("pcc", "P1"),
        ("pcc", "P2"),
        ("csp-2026", "C1"),
    }
    assert {(w.priority.plan.key, w.priority.code) for w in b.weights} == {("pcc", "P3")}
    assert started.notes == ["B: set its weights for csp-2026"]


def test_refusals_change_nothing(old_year: Database) -> None:
    with pytest.raises(ValidationError, match="already exists"):
        start_next_year(old_year, "N-1", "N-1")
    with pytest.raises(ValidationError, match="award"):
        start_next_year(old_year, "N-1", "N-2", award=D("0.00"))
    with pytest.raises(ValidationError, match="no plan with key 'nope'"):
        start_next_year(old_year, "N-1", "N-2", local_plan="nope")
    with old_year.read() as session:
        assert session.scalars(select(Grant.reference)).all() == ["N-1"]


# --- Moving the new year's lines -------------------------------------------------------------


def _lines(db: Database) -> dict[int, tuple[str, str | None]]:
    """line id → (grant reference, project code)."""
    with db.read() as session:
        return {
            line.id: (
                session.get_one(Grant, line.grant_id).reference,
                line.allocation.code if line.allocation else None,
            )
            for line in session.scalars(select(SpendLine))
        }


def test_start_and_move_lines_then_undo_both(old_year: Database) -> None:
    march = add_line(old_year, "N-1", date(2026, 3, 20), "30.00", "A")
    april = add_line(old_year, "N-1", date(2026, 4, 10), "50.00", "A")
    may = add_line(old_year, "N-1", date(2026, 5, 1), "70.00")
    # The old year is closed; lines dated after its end are not in its figures, so they move.
    with old_year.unit_of_work() as session:
        get_grant(session, "N-1").closed_at = utcnow()

    started = run_operation(old_year, StartNextYear("N-1", "N-2"))
    waiting = lines_in_new_year(old_year, "N-1", "N-2")
    assert [line.id for line in waiting] == [april, may]
    versions = tuple((line.id, line.version) for line in waiting)
    moved = run_operation(old_year, MoveLinesToGrant(versions, "N-1", "N-2"))
    assert _lines(old_year) == {march: ("N-1", "A"), april: ("N-2", "A"), may: ("N-2", None)}
    new_a = load_grant(old_year, "N-2").allocations[0].id
    with old_year.read() as session:
        assert session.get_one(SpendLine, april).allocation_id == new_a

    back = undo(old_year, moved)
    assert _lines(old_year) == {march: ("N-1", "A"), april: ("N-1", "A"), may: ("N-1", None)}
    redone = undo(old_year, back, "redo")
    assert _lines(old_year)[april] == ("N-2", "A")

    # Undoing the start is refused while the new grant has lines; once they are back, it
    # removes the new grant.
    with pytest.raises(ValidationError, match="already has 2 spend lines"):
        undo(old_year, started)
    undo(old_year, redone)
    undo(old_year, started)
    with old_year.read() as session:
        assert session.scalars(select(Grant.reference)).all() == ["N-1"]


def test_cli_next_with_move_lines(
    old_year: Database, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    april = add_line(old_year, "N-1", date(2026, 4, 10), "50.00", "A")
    result = run_cli(
        capsys, database_url, "grant", "next", "N-1", "--reference", "N-2",
        "--award", "5,000.02", "--move-lines", "--format", "json",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert result.json() == {
        "grant": "N-2",
        "start": "2026-04-01",
        "end": "2027-03-31",
        "award": "5000.02",
        "budgets": {"A": "500.01", "B": "500.00", "C": "500.00"},
        "moved_lines": 1,
        "lines_to_move": 0,
        "notes": [],
    }
    assert _lines(old_year)[april] == ("N-2", "A")

    again = run_cli(capsys, database_url, "grant", "next", "N-1", "--reference", "N-2")
    assert again.code == 1 and "already exists" in again.err
    bad = run_cli(
        capsys, database_url, "grant", "next", "N-1", "--reference", "N-3", "--award", "1.234"
    )
    assert bad.code == 1 and "award" in bad.err


def test_cli_next_with_move_lines_is_one_step(
    old_year: Database,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Starting the grant and moving its lines are one unit of work: when the move is refused
    # (here made to fail), no new grant is left behind half done. It was before: the CLI ran
    # them as two steps and N-2 stayed, without its line.
    from fundtracker.errors import ValidationError
    from fundtracker.operations import year

    def refused(*args: object, **kwargs: object) -> None:
        raise ValidationError("spend line 1 was changed by someone else; nothing was moved")

    add_line(old_year, "N-1", date(2026, 4, 10), "50.00", "A")
    monkeypatch.setattr(year, "move_lines", refused)
    result = run_cli(
        capsys, database_url, "grant", "next", "N-1", "--reference", "N-2", "--move-lines"
    )
    assert result.code == 1
    assert "nothing was moved" in result.err
    with old_year.read() as session:
        assert session.scalars(select(Grant.reference)).all() == ["N-1"]
