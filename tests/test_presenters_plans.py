"""The Priorities page's presenter: plan rows (kind, dates, version), priority rows (parent,
retired, the projects weighing on each and the budget that is), and the priority lines the New
plan editor reads (one parser, shared with the new-grant assistant)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fundtracker.models import Allocation, Grant, Plan, Priority, Weight
from fundtracker.operations import run_operation
from fundtracker.operations.plans import NewPlanVersion, RetirePriority, current_plan_version
from fundtracker.presenters.plans import PlanRow, plan_rows, rows_of, template_lines
from fundtracker.setup_drafts import plan_templates, priorities_from_lines
from fundtracker.storage import Database

D = Decimal
PCC = "kent-pcc-2025"


def test_demo_priorities_show_their_projects_and_budget(demo_db: Database) -> None:
    rows = {row.key: row for row in plan_rows(demo_db)}
    pcc = rows[PCC]
    assert (pcc.kind_text, pcc.from_text, pcc.to_text, pcc.version_text) == (
        "PCC",
        "01/04/2025",
        "31/03/2029",
        "1",
    )
    by_code = {p.code: p for p in pcc.priorities}
    # P1: A01 60% of £8,000.00 = £4,800.00; A03 100% of £7,500.00; A04 30% of £6,000.00 =
    # £1,800.00; A05 50% of £3,000.00 = £1,500.00; A06 33.33% of £2,500.00 = 250,000p × 3,333
    # ÷ 10,000 = 83,325p = £833.25. 4,800 + 7,500 + 1,800 + 1,500 + 833.25 = £16,433.25.
    assert by_code["P1"].projects_text == "A01 60%, A03 100%, A04 30%, A05 50%, A06 33.33%"
    assert by_code["P1"].budget == D("16433.25")
    # P2: A01 40% = £3,200.00 + A04 70% = £4,200.00 + A07 100% = £6,000.00 = £13,400.00.
    assert by_code["P2"].budget_text == "£13,400.00"
    # P3: A02 £4,500.00 + A06 £833.25 = £5,333.25; P4: A05 £1,500.00 + A06 33.34% = 83,350p
    # = £833.50 + A08 £4,000.00 = £6,333.50.
    assert (by_code["P3"].budget, by_code["P4"].budget) == (D("5333.25"), D("6333.50"))
    # Every budget is split whole: 16,433.25 + 13,400 + 5,333.25 + 6,333.50 = £41,500.00,
    # the eight projects' budgets (8,000 + 4,500 + 7,500 + 6,000 + 3,000 + 2,500 + 6,000 + 4,000).
    assert sum((p.budget for p in pcc.priorities), D(0)) == D("41500.00")
    assert pcc.weighted_projects == 8
    assert "A06 Fraud and scams workshops: 33.34% = £833.50" in by_code["P4"].explained


def test_a_split_with_a_penny_over_goes_to_the_largest_remainder() -> None:
    # £10.00 over 33.33 / 33.33 / 33.34: 1,000p × 3,333 ÷ 10,000 = 333.3 → 333 twice, 333.4
    # → 333; 999 placed, the 1p left goes to the largest remainder (0.4, the third): 334.
    plan = Plan(id=1, key="p", name="P", owner="", kind="pcc", version=1)
    plan.effective_from, plan.effective_to, plan.previous_id = date(2025, 4, 1), None, None
    codes = ("X1", "X2", "X3")
    plan.priorities = [
        Priority(id=n, plan_id=1, code=c, title=c, position=n, parent_code=None, retired=False)
        for n, c in enumerate(codes)
    ]
    grant = Grant(reference="G")
    project = Allocation(code="B01", name="Small", budget=D("10.00"), grant=grant)
    project.weights = [
        Weight(priority=p, basis_points=bp)
        for p, bp in zip(plan.priorities, (3333, 3333, 3334), strict=True)
    ]
    (row,) = rows_of([plan], [project])
    assert [p.budget for p in row.priorities] == [D("3.33"), D("3.33"), D("3.34")]


def test_a_retired_priority_keeps_its_weights(demo_db: Database) -> None:
    run_operation(demo_db, RetirePriority(PCC, "P3"))
    p3 = next(p for p in _plan(demo_db, PCC).priorities if p.code == "P3")
    assert (p3.status, p3.projects_text, p3.budget) == (
        "retired",
        "A02 100%, A06 33.33%",
        D("5333.25"),
    )
    assert "P3" not in _plan(demo_db, PCC).active_codes


def test_a_new_version_keeps_the_weights_on_the_old_one(demo_db: Database) -> None:
    version = current_plan_version(demo_db, PCC)
    run_operation(demo_db, NewPlanVersion(PCC, "01/04/2027", version))
    old, new = _plan(demo_db, PCC), _plan(demo_db, "kent-pcc-2025-2027-04-01")
    assert (old.to_text, old.version_text, old.version_tooltip) == (
        "31/03/2027",
        "1 (replaced)",
        "Version 1; replaced by kent-pcc-2025-2027-04-01",
    )
    assert new.version_tooltip == "Version 2, after kent-pcc-2025"
    assert (new.from_text, new.number, new.previous, new.weighted_projects) == (
        "01/04/2027",
        2,
        PCC,
        0,
    )
    assert "the weights set on this version stay with it" in old.note
    assert old.weighted_projects == 8
    assert "No project weighs on this version yet" in new.note


def test_sub_priorities_are_indented_under_their_parent() -> None:
    spec_lines = "P1 People\n  P1.1 Young people\nP1.1.1 Schools\nP2: Places"
    specs = priorities_from_lines(spec_lines, "P")
    assert [(s.code, s.title, s.parent) for s in specs] == [
        ("P1", "People", None),
        ("P1.1", "Young people", "P1"),
        ("P1.1.1", "Schools", "P1.1"),
        ("P2", "Places", None),
    ]


def test_lines_with_and_without_codes_share_one_parser() -> None:
    typed = "Violence\n - Night-time\nP7 – Roads\n  Speeding\nP7.5 Lorries\n  More"
    got = [(s.code, s.title, s.parent) for s in priorities_from_lines(typed, "C")]
    assert got == [
        ("C1", "Violence", None),
        ("C1.1", "Night-time", "C1"),
        ("P7", "Roads", None),
        ("P7.1", "Speeding", "P7"),
        ("P7.5", "Lorries", "P7"),
        ("P7.2", "More", "P7"),
    ]


def test_a_template_becomes_lines_that_read_back_the_same() -> None:
    (kent,) = [spec for spec in plan_templates() if spec.key == PCC]
    lines = template_lines(kent)
    assert lines.splitlines()[0] == "P1 Protecting People"
    back = priorities_from_lines(lines, "X")
    assert [(s.code, s.title, s.parent) for s in back] == [
        (p.code, p.title, p.parent) for p in kent.priorities
    ]


def _plan(db: Database, key: str) -> PlanRow:
    return next(row for row in plan_rows(db) if row.key == key)
