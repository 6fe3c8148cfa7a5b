"""Every check code, firing and not firing, on a small grant that starts clean.

Grant K-1: award £1,000.00, 01/04/2025–31/03/2026, aligned plan pcc. One project A, budget
£1,000.00, profile 250.00 a quarter, weights P1 100%. One line: A, 01/05/2025, £250.00, ref
INV1. As at 2025/26-Q1: spend to date 250.00 = profile to date; forecast 250.00 + Q2..Q4
profile 750.00 = 1,000.00 = award, so no underspend. Nothing is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fundtracker import checks, settings
from fundtracker.checks import CHECKS, CheckContext, Finding, run_checks
from fundtracker.models import Grant, Plan, Priority, SpendLine, Weight
from fundtracker.periods import Period
from fundtracker.storage import Database
from tests.figure_scenarios import add_line, load_grant_toml, load_plans, set_forecast
from tests.helpers import run_cli

Q1 = Period.parse("2025/26-Q1")

CLEAN_GRANT = """
[grant]
reference = "K-1"
name = "Clean grant"
award = "1000.00"
start = 2025-04-01
end = 2026-03-31
aligned_plan = "pcc"

[[allocations]]
code = "A"
name = "Youth work"
budget = "1000.00"
profile = ["250.00", "250.00", "250.00", "250.00"]
[allocations.priorities]
pcc = { P1 = 100 }
"""


@pytest.fixture
def clean(db: Database) -> Database:
    load_plans(db)
    load_grant_toml(db, CLEAN_GRANT)
    add_line(
        db, "K-1", date(2025, 5, 1), "250.00", "A", supplier="Kent Youth Trust", reference="INV1"
    )
    return db


def _found(db: Database, code: str, period: Period = Q1) -> list[Finding]:
    return [f for f in run_checks(db, "K-1", period) if f.code == code]


def _change(db: Database, edit: Callable[[Session, Grant], object]) -> None:
    with db.unit_of_work() as session:
        grant = session.scalars(select(Grant).where(Grant.reference == "K-1")).one()
        edit(session, grant)


def test_a_clean_grant_has_no_findings(clean: Database) -> None:
    assert run_checks(clean, "K-1", Q1) == []


def test_alloc_unmapped(clean: Database) -> None:
    load_grant_toml(clean, CLEAN_GRANT.replace("pcc = { P1 = 100 }", ""))
    (finding,) = _found(clean, "ALLOC_UNMAPPED")
    assert (finding.severity, finding.subject, finding.subject_kind) == ("error", "A", "allocation")
    assert "£1,000.00 budget shows as Unaligned" in finding.message
    assert "aligned plan, Police and Crime Plan," in finding.message


def test_weights_not_100(clean: Database) -> None:
    def weight_90(session: Session, grant: Grant) -> None:
        session.scalars(select(Weight)).one().basis_points = 9000

    _change(clean, weight_90)
    (finding,) = _found(clean, "WEIGHTS_NOT_100")
    assert finding.severity == "error" and finding.subject == "A"
    # The window's words: the plan by its name, what to do in the app; the script's twin apart.
    assert "weights for Police and Crime Plan total 90%, must be 100%" in finding.message
    assert "on the Projects page" in finding.message and "fundtracker-cli" not in finding.message
    assert "grant import" in finding.command and "pcc" in finding.command

    def split_60_40(session: Session, grant: Grant) -> None:
        session.scalars(select(Weight)).one().basis_points = 6000
        p2 = session.scalars(select(Priority).where(Priority.code == "P2")).one()
        session.add(
            Weight(allocation_id=grant.allocations[0].id, priority_id=p2.id, basis_points=4000)
        )

    _change(clean, split_60_40)
    assert _found(clean, "WEIGHTS_NOT_100") == []


def _award(amount: str) -> Callable[[Session, Grant], None]:
    def edit(session: Session, grant: Grant) -> None:
        grant.award = Decimal(amount)

    return edit


def test_grant_overallocated(clean: Database) -> None:
    _change(clean, _award("999.99"))
    (finding,) = _found(clean, "GRANT_OVERALLOCATED")
    assert (finding.severity, finding.subject) == ("error", "K-1")
    assert "budgets total £1,000.00, £0.01 more than the award of £999.99" in finding.message
    assert _found(clean, "GRANT_UNALLOCATED") == []


def test_grant_unallocated(clean: Database) -> None:
    _change(clean, _award("1000.01"))
    (finding,) = _found(clean, "GRANT_UNALLOCATED")
    assert (finding.severity, finding.subject) == ("warning", "K-1")
    assert finding.message.startswith("£0.01 of the £1,000.01 award is not allocated")
    assert _found(clean, "GRANT_OVERALLOCATED") == []


def test_spend_unassigned(clean: Database) -> None:
    add_line(clean, "K-1", date(2025, 7, 1), "9.00")  # after Q1: does not exist as at Q1
    assert _found(clean, "SPEND_UNASSIGNED") == []
    line = add_line(clean, "K-1", date(2025, 6, 30), "86.40", supplier="Print Shop", reference="R9")
    (finding,) = _found(clean, "SPEND_UNASSIGNED")
    assert (finding.severity, finding.subject, finding.subject_kind) == (
        "error",
        str(line),
        "spend_line",
    )
    assert f"Line {line} (30/06/2025, Print Shop, ref R9, £86.40) has no project" in finding.message


def test_spend_unassigned_names_a_limited_number_of_lines(
    clean: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checks, "MAX_LINE_FINDINGS", 2)
    for _ in range(5):
        add_line(clean, "K-1", date(2025, 6, 1), "1.00")
    found = _found(clean, "SPEND_UNASSIGNED")
    assert [f.subject_kind for f in found] == ["spend_line", "spend_line", "grant"]
    assert "3 more unassigned lines" in found[-1].message


def test_spend_outside_grant(clean: Database) -> None:
    add_line(clean, "K-1", date(2025, 4, 1), "1.00", "A")  # first day of the grant
    add_line(clean, "K-1", date(2026, 3, 31), "1.00", "A")  # last day
    assert _found(clean, "SPEND_OUTSIDE_GRANT") == []
    before = add_line(clean, "K-1", date(2025, 3, 31), "5.00", "A")
    after = add_line(clean, "K-1", date(2026, 4, 1), "6.00", "A")
    found = _found(clean, "SPEND_OUTSIDE_GRANT")
    # Named whatever the period: such a line is in no figure at all.
    assert [(f.severity, f.subject) for f in found] == [
        ("error", str(before)),
        ("error", str(after)),
    ]
    assert "left out of every figure" in found[0].message


def test_alloc_overspent_is_strict(clean: Database) -> None:
    # 250.00 spent + 750.00 committed = 1,000.00: exactly the budget, not over it.
    add_line(clean, "K-1", date(2025, 6, 1), "750.00", "A", status="committed")
    assert _found(clean, "ALLOC_OVERSPENT") == []
    add_line(clean, "K-1", date(2025, 6, 2), "0.01", "A", status="committed")
    (finding,) = _found(clean, "ALLOC_OVERSPENT")
    assert (finding.severity, finding.subject) == ("warning", "A")
    assert "is £1,000.01, £0.01 over its £1,000.00 budget" in finding.message


def test_underspend_risk_is_strict_and_uses_the_threshold_setting(clean: Database) -> None:
    # The officer forecasts 980.00 for A: underspend 20.00 = exactly 2% of 1,000.00.
    set_forecast(clean, "K-1", "A", "2025/26-Q1", "980.00")
    assert _found(clean, "UNDERSPEND_RISK") == []
    # At a 1% threshold 20.00 is more than 10.00.
    settings.set_setting(clean, settings.UNDERSPEND_RISK_PERCENT, "1")
    (finding,) = _found(clean, "UNDERSPEND_RISK")
    assert (finding.severity, finding.subject) == ("warning", "K-1")
    assert "Projected underspend is £20.00 (2.00% of the £1,000.00 award" in finding.message


def test_underspend_risk_fires_a_penny_over_the_default(clean: Database) -> None:
    set_forecast(clean, "K-1", "A", "2025/26-Q1", "979.99")  # underspend 20.01 > 20.00
    (finding,) = _found(clean, "UNDERSPEND_RISK")
    assert "£20.01" in finding.message


def test_behind_profile_is_strict(clean: Database) -> None:
    # 75% of the 250.00 profile to date is 187.50: a credit of 62.50 leaves exactly that.
    add_line(clean, "K-1", date(2025, 6, 1), "-62.50", "A")
    assert _found(clean, "BEHIND_PROFILE") == []
    add_line(clean, "K-1", date(2025, 6, 2), "-0.01", "A")  # 187.49
    (finding,) = _found(clean, "BEHIND_PROFILE")
    assert (finding.severity, finding.subject) == ("warning", "A")
    assert "spend to date £187.49 is 74.99% of its profile to date £250.00" in finding.message
    settings.set_setting(clean, settings.BEHIND_PROFILE_PERCENT, "50")
    assert _found(clean, "BEHIND_PROFILE") == []


def test_duplicate_suspect(clean: Database) -> None:
    kw = {"supplier": "Kent Youth Trust"}
    add_line(clean, "K-1", date(2025, 5, 2), "250.00", "A", reference="INV1", vat="1.00", **kw)
    add_line(clean, "K-1", date(2025, 5, 3), "250.00", "A", reference="INV1", supplier="Other")
    add_line(clean, "K-1", date(2025, 5, 4), "5.00", "A", reference="", **kw)
    add_line(clean, "K-1", date(2025, 5, 5), "5.00", "A", reference="", **kw)  # empty: not compared
    add_line(clean, "K-1", date(2025, 7, 1), "250.00", "A", reference="INV1", **kw)  # after Q1
    assert _found(clean, "DUPLICATE_SUSPECT") == []
    twin = add_line(clean, "K-1", date(2025, 6, 9), "250.00", "A", reference="INV1", **kw)
    (finding,) = _found(clean, "DUPLICATE_SUSPECT")
    assert (finding.severity, finding.subject) == ("warning", str(twin))
    assert finding.message.startswith(
        f"Lines 1 and {twin} share supplier 'Kent Youth Trust', reference 'INV1', net £250.00"
    )


def test_duplicate_suspect_names_the_first_groups_by_reference(
    clean: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checks, "MAX_LINE_FINDINGS", 2)
    ids = {
        reference: [
            add_line(clean, "K-1", date(2025, 5, day), "10.00", "A", reference=reference)
            for day in (2, 3)
        ]
        for reference in ("INV3", "INV1", "INV2")  # entered out of order, each twice
    }
    add_line(clean, "K-1", date(2025, 5, 4), "10.00", "A", reference="INV4")  # once: fine
    found = _found(clean, "DUPLICATE_SUSPECT")
    # Three groups: INV1's and INV2's named, by reference, then the count of the rest.
    assert [f.message.split(" share")[0] for f in found[:2]] == [
        f"Lines {ids['INV1'][0]} and {ids['INV1'][1]}",
        f"Lines {ids['INV2'][0]} and {ids['INV2'][1]}",
    ]
    assert found[2].message == "… and 1 more groups of duplicates (only 2 named)."
    assert len(found) == 3


def test_late_lines_names_the_earliest_dated_first(
    clean: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checks, "MAX_LINE_FINDINGS", 2)
    june = add_line(clean, "K-1", date(2025, 6, 10), "1.00", "A")
    may_5 = add_line(clean, "K-1", date(2025, 5, 5), "2.00")  # unassigned: named all the same
    may_20 = add_line(clean, "K-1", date(2025, 5, 20), "3.00", "A")
    add_line(clean, "K-1", date(2025, 7, 1), "4.00", "A")  # dated in Q2 itself: not late
    with clean.unit_of_work() as session:  # as if Q1's return was submitted before they came
        session.execute(
            update(SpendLine)
            .where(SpendLine.id.in_([june, may_5, may_20]))
            .values(counted_on=date(2025, 7, 1))
        )
    found = _found(clean, "LATE_LINES", Period.parse("2025/26-Q2"))
    # Three late lines: 05/05 and 20/05 named, then the count of the one left (10/06).
    assert [f.subject for f in found[:2]] == [str(may_5), str(may_20)]
    assert found[2].message == "… and 1 more late lines (only 2 named)."
    assert len(found) == 3
    assert _found(clean, "LATE_LINES") == []  # as at Q1 they are not counted yet


@pytest.mark.parametrize(
    ("start", "end", "fires"),
    [
        (date(2025, 4, 1), None, False),
        (date(2025, 4, 1), date(2026, 3, 31), False),
        (date(2025, 4, 2), None, True),  # starts a day after the grant
        (date(2024, 4, 1), date(2026, 3, 30), True),  # ends a day before it
    ],
)
def test_plan_not_in_effect(clean: Database, start: date, end: date | None, fires: bool) -> None:
    def dates(session: Session, grant: Grant) -> None:
        plan = session.scalars(select(Plan).where(Plan.key == "pcc")).one()
        plan.effective_from, plan.effective_to = start, end

    _change(clean, dates)
    found = _found(clean, "PLAN_NOT_IN_EFFECT")
    assert len(found) == (1 if fires else 0)
    if fires:
        assert (found[0].severity, found[0].subject) == ("warning", "K-1")


def test_default_period_is_the_current_quarter_or_the_last_one(clean: Database) -> None:
    # A line in Q3 with no project is an error as at Q3 (today in Q3), not as at Q2.
    add_line(clean, "K-1", date(2025, 11, 1), "1.00")

    def codes(today: date) -> set[str]:
        return {f.code for f in run_checks(clean, "K-1", today=today)}

    assert "SPEND_UNASSIGNED" not in codes(date(2025, 9, 30))
    assert "SPEND_UNASSIGNED" in codes(date(2025, 10, 1))
    assert "SPEND_UNASSIGNED" in codes(date(2027, 1, 1))  # ended: its last quarter


def test_a_new_check_is_one_appended_function(
    clean: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def check_always(ctx: CheckContext) -> list[Finding]:
        return [ctx.grant_finding("ALWAYS", "warning", f"{ctx.report.summary.spend_to_date}")]

    monkeypatch.setattr(checks, "CHECKS", [*CHECKS, check_always])
    assert [f.to_json() for f in run_checks(clean, "K-1", Q1)] == [
        {
            "code": "ALWAYS",
            "severity": "warning",
            "message": "250.00",
            "subject": "K-1",
            "subject_kind": "grant",
            "command": "",
        }
    ]


def test_check_command_on_a_clean_grant(
    clean: Database, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_cli(capsys, database_url, "check", "--grant", "K-1", "--period", "2025/26-Q1")
    assert (result.code, result.out.strip()) == (0, "No problems found.")
    as_json = run_cli(
        capsys,
        database_url,
        "check",
        "--grant",
        "K-1",
        "--period",
        "2025/26-Q1",
        "--format",
        "json",
    )
    assert (as_json.code, as_json.json()) == (0, [])


def test_check_command_without_a_period_uses_the_last_quarter_of_an_ended_grant(
    clean: Database, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if date.today() <= date(2026, 3, 31):
        pytest.skip("needs a clock after the grant's end")
    # The grant ended on 31/03/2026 (before these tests were written): as at 2025/26-Q4 the
    # whole 1,000.00 profile is due and 250.00 is spent, 25% — BEHIND_PROFILE — and the
    # forecast is 250.00, an underspend of 750.00 — UNDERSPEND_RISK.
    default = run_cli(capsys, database_url, "check", "--grant", "K-1", "--format", "json")
    q4 = run_cli(
        capsys,
        database_url,
        "check",
        "--grant",
        "K-1",
        "--period",
        "2025/26-Q4",
        "--format",
        "json",
    )
    assert default.code == q4.code == 0
    assert default.json() == q4.json()
    assert [f["code"] for f in q4.json()] == ["UNDERSPEND_RISK", "BEHIND_PROFILE"]


def test_no_message_for_the_window_names_a_command(clean: Database) -> None:
    """Every finding's message is in the officer's words for the app and the workbook; the
    command line adds the script's twin, kept apart in ``command``."""
    add_line(clean, "K-1", date(2025, 5, 10), "250.00", reference="INV1")  # unassigned
    add_line(clean, "K-1", date(2025, 5, 11), "250.00", reference="INV1")  # a duplicate too
    findings = run_checks(clean, "K-1", Period.parse("2025/26-Q1"))
    assert {f.code for f in findings} >= {"SPEND_UNASSIGNED", "DUPLICATE_SUSPECT"}
    for finding in findings:
        assert "fundtracker-cli" not in finding.message, finding
    unassigned = next(f for f in findings if f.code == "SPEND_UNASSIGNED")
    assert "Assign it on the Spending page" in unassigned.message
    assert (
        unassigned.command == f"fundtracker-cli spend update {unassigned.subject} --allocation CODE"
    )
    assert unassigned.cli_message.endswith(f"({unassigned.command})")
