"""The figures engine on hand-worked examples.

The main grant T-1 (tests/figure_scenarios.py): award £10,000.00, 01/04/2025–31/03/2026,
aligned plan pcc (P1, P2, P3), local plan csp (C1, C2).

  A  budget 6,000.00  profile 1,000 / 2,000 / 2,000 / 1,000   pcc P1 60 P2 40; csp C2 50 C1 50
  B  budget 1,000.00  no profile                              pcc P1 33.33 P2 33.33 P3 33.34
  C  budget   100.03  no profile                              no weights at all

Lines                                             claimable  counts at 2025/26-Q2 as
  1  A 10/04/2025 net 500.00 VAT 100.00 recov.       500.00  actual Q1
  2  A 15/07/2025 net 300.00 VAT 60.00 not recov.    360.00  actual Q2 (accrued)
  3  A 01/08/2025 net -50.01 (credit note)           -50.01  actual Q2
  4  A 30/09/2025 net 200.00 committed               200.00  committed (on the period end)
  5  A 01/10/2025 net 999.00                         999.00  nothing (after the period end)
  6  B 30/06/2025 net 100.00                         100.00  actual Q1
  7  B 01/07/2025 net 0.01                             0.01  actual Q2
  8  - 20/08/2025 net 40.00 VAT 8.00 not recov.       48.00  unassigned actual Q2
  9  - 01/09/2025 net 10.00 committed                 10.00  unassigned committed
 10  A 31/03/2025 net 700.00                         700.00  nothing (before the grant)
 11  C 01/04/2026 net 80.00                           80.00  nothing (after the grant)
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from fundtracker.errors import NotFoundError, PeriodError
from fundtracker.figures import Report, build_report, burn_up, default_period, even_spread
from fundtracker.periods import Period
from fundtracker.services.grants import load_grant
from fundtracker.storage import Database
from tests.figure_scenarios import add_line, load_grant_toml, load_plans, main_grant, set_forecast

D = Decimal
Q2 = Period.parse("2025/26-Q2")


@pytest.fixture
def main(db: Database) -> Database:
    main_grant(db)
    return db


def _q2(db: Database) -> Report:
    return build_report(db, "T-1", Q2)


def test_allocation_figures_as_at_q2(main: Database) -> None:
    a = _q2(main).allocation("A")
    # Q1: line 1 = 500.00 (recoverable VAT left out). Q2: 360.00 - 50.01 = 309.99.
    assert a.quarters == {"Q1": D("500.00"), "Q2": D("309.99"), "Q3": D("0"), "Q4": D("0")}
    assert a.spend_this_period == D("309.99")
    # 500.00 + 309.99; lines 5 (after the period) and 10 (before the grant) are left out.
    assert a.spend_to_date == D("809.99")
    assert a.committed == D("200.00")
    # Profile to date Q1+Q2 = 3,000.00; after the period Q3+Q4 = 3,000.00.
    assert (a.profile_to_date, a.profile_remaining) == (D("3000.00"), D("3000.00"))
    # Forecast = 809.99 + 200.00 + 3,000.00 = 4,009.99; variance = 6,000 - 4,009.99.
    assert (a.forecast_outturn, a.variance, a.forecast_entered) == (
        D("4009.99"),
        D("1990.01"),
        False,
    )


def test_profile_absent_spreads_the_budget_evenly_remainder_last(main: Database) -> None:
    report = _q2(main)
    b, c = report.allocation("B"), report.allocation("C")
    # B: 1,000.00 / 4 = 250.00 a quarter. Spend 100.00 + 0.01. Forecast 100.01 + 500.00.
    assert (b.spend_to_date, b.profile_to_date, b.profile_remaining) == (
        D("100.01"),
        D("500.00"),
        D("500.00"),
    )
    assert (b.forecast_outturn, b.variance) == (D("600.01"), D("399.99"))
    # C: 10,003p / 4 = 2,500p each, the 3p remainder in the last: 25.00, 25.00, 25.00, 25.03.
    assert (c.profile_to_date, c.profile_remaining) == (D("50.00"), D("50.03"))
    assert (c.spend_to_date, c.forecast_outturn, c.variance) == (D("0.00"), D("50.03"), D("50.00"))
    assert even_spread(10003, 4) == [2500, 2500, 2500, 2503]
    assert even_spread(-10003, 4) == [-2500, -2500, -2500, -2503]


def test_unassigned_and_summary_as_at_q2(main: Database) -> None:
    report = _q2(main)
    u = report.unassigned
    assert (u.spend_this_period, u.spend_to_date, u.committed) == (
        D("48.00"),
        D("48.00"),
        D("10.00"),
    )
    s = report.summary
    assert (s.award, s.allocated, s.unallocated) == (D("10000.00"), D("7100.03"), D("2899.97"))
    # Only the 6,000.00 tranche is received by 30/09/2025 (the 3,000.00 one is in October).
    assert s.received == D("6000.00")
    # This period: A 309.99 + B 0.01 + unassigned 48.00.
    assert s.spend_this_period == D("358.00")
    # To date: A 809.99 + B 100.01 + unassigned 48.00. Committed: 200.00 + 10.00.
    assert (s.spend_to_date, s.committed) == (D("958.00"), D("210.00"))
    # Forecast: 4,009.99 + 600.01 + 50.03 + unassigned 48.00 + 10.00 = 4,718.03.
    assert s.forecast_outturn == D("4718.03")
    assert (s.projected_underspend, s.projected_overspend) == (D("5281.97"), D("0.00"))


def test_priority_split_of_the_aligned_plan(main: Database) -> None:
    rows = [(p.code, p.budget, p.spend_to_date) for p in _q2(main).priorities_for("pcc")]
    # Budgets: A 6,000 → P1 3,600.00, P2 2,400.00. B 1,000 at 33.33/33.33/33.34 → 333.30,
    # 333.30, 333.40. C has no pcc weights → Unaligned 100.03.
    # Spend: A 80,999p × 60% = 48,599.4 → 48,599 (rem .4); × 40% = 32,399.6 → 32,399 (rem .6);
    # the spare penny goes to the larger remainder, P2: 485.99 / 324.00.
    # B 10,001p × 33.33% = 3,333.33 → 3,333 twice, × 33.34% = 3,334.33 → 3,334; the spare
    # penny goes to P3 (remainder .3334 beats .3333): 33.33 / 33.33 / 33.35.
    # Unaligned spend: C 0.00 + all unassigned spend to date 48.00.
    assert rows == [
        ("P1", D("3933.30"), D("519.32")),
        ("P2", D("2733.30"), D("357.33")),
        ("P3", D("333.40"), D("33.35")),
        (None, D("100.03"), D("48.00")),
    ]


def test_priority_split_of_the_local_plan_ties_go_to_the_plans_first(main: Database) -> None:
    rows = [(p.code, p.title, p.budget, p.spend_to_date) for p in _q2(main).priorities_for("csp")]
    # A's 809.99 split 50/50 (written C2 first in the file): 40,499.5p each, a tie; the penny
    # goes to C1, first in the plan. B and C have no csp weights: Unaligned gets their budgets
    # 1,000.00 + 100.03 and spend 100.01 + 0.00, plus unassigned 48.00.
    assert rows == [
        ("C1", "Acquisitive Crime", D("3000.00"), D("405.00")),
        ("C2", "Anti-Social Behaviour", D("3000.00"), D("404.99")),
        (None, "Unaligned", D("1100.03"), D("148.01")),
    ]


def test_each_plans_rows_add_up_to_the_summary(main: Database) -> None:
    report = _q2(main)
    for plan in ("pcc", "csp"):
        rows = report.priorities_for(plan)
        assert sum(p.spend_to_date for p in rows) == report.summary.spend_to_date
        assert sum(p.budget for p in rows) == report.summary.allocated


def test_half_year_and_year_periods(main: Database) -> None:
    h1 = build_report(main, "T-1", Period.parse("2025/26-H1"))
    # H1 = Q1 + Q2: A 500.00 + 309.99.
    assert h1.allocation("A").spend_this_period == D("809.99")
    assert h1.summary.spend_to_date == D("958.00")
    year = build_report(main, "T-1", Period.parse("2025/26"))
    # The year adds line 5 (999.00 in Q3); line 11 is after the grant and stays out.
    assert year.allocation("A").quarters["Q3"] == D("999.00")
    assert year.allocation("C").spend_to_date == D("0.00")
    assert year.summary.spend_to_date == D("1957.00")
    # Both tranches dated up to 31/03/2026 are received; the third is only expected.
    assert year.summary.received == D("9000.00")


def test_narrative_forecast_holds_from_its_period_until_a_later_one(main: Database) -> None:
    """Issue 13: an entered forecast applies from its period until a later one is entered
    (it used to apply to its own period only)."""
    set_forecast(main, "T-1", "A", "2025/26-Q2", "5500.00")
    # B's H1 forecast ends with Q2 too, but 1.00 is below B's 100.01 spent and committed:
    # spending has passed it, so the default rule applies to B.
    set_forecast(main, "T-1", "B", "2025/26-H1", "1.00")
    q1 = build_report(main, "T-1", Period.parse("2025/26-Q1"))
    assert not q1.allocation("A").forecast_entered  # entered for Q2: not before it
    a = _q2(main).allocation("A")
    assert (a.forecast_outturn, a.variance, a.forecast_entered) == (D("5500.00"), D("500.00"), True)
    assert a.forecast_entered_in == "2025/26-Q2"
    assert _q2(main).allocation("B").forecast_entered is False
    # 5,500.00 + B 600.01 + C 50.03 + unassigned 58.00.
    assert _q2(main).summary.forecast_outturn == D("6208.04")
    # Q3: carried forward. A has spent 809.99 + 999.00 (line 5) and committed 200.00 =
    # 2,008.99, under the 5,500.00 entered, so the Q2 forecast still stands.
    q3 = build_report(main, "T-1", Period.parse("2025/26-Q3")).allocation("A")
    assert (q3.forecast_outturn, q3.forecast_entered_in) == (D("5500.00"), "2025/26-Q2")
    # A later forecast replaces it from its own period on.
    set_forecast(main, "T-1", "A", "2025/26-Q3", "5800.00")
    q3 = build_report(main, "T-1", Period.parse("2025/26-Q3")).allocation("A")
    assert (q3.forecast_outturn, q3.variance, q3.forecast_entered_in) == (
        D("5800.00"),
        D("200.00"),
        "2025/26-Q3",
    )
    assert _q2(main).allocation("A").forecast_outturn == D("5500.00")


def test_overspend_projection(db: Database) -> None:
    load_plans(db)
    load_grant_toml(
        db,
        """
[grant]
reference = "O-1"
name = "Small"
award = "100.00"
start = 2025-04-01
end = 2026-03-31
aligned_plan = "pcc"

[[allocations]]
code = "X"
name = "X"
budget = "100.00"
profile = ["10.00", "20.00", "30.00", "40.00"]
[allocations.priorities]
pcc = { P1 = 100 }
""",
    )
    add_line(db, "O-1", date(2025, 5, 1), "110.00", "X")
    add_line(db, "O-1", date(2025, 5, 2), "20.00", "X", status="committed")
    report = build_report(db, "O-1", Q2)
    s = report.summary
    # Issue 13's rule: A = 110 + 20 = 130.00 is ahead of the profile to date (10 + 20 =
    # 30.00), so the forecast is max(A, whole profile 100.00) = 130.00: 30.00 over the award.
    # (The old rule, A + later profile, gave 130 + 70 = 200.00 here.)
    assert (s.forecast_outturn, s.projected_overspend, s.projected_underspend) == (
        D("130.00"),
        D("30.00"),
        D("0.00"),
    )
    x = report.allocation("X")
    assert (x.variance, x.projected_overspend, x.overspent) == (D("-30.00"), D("30.00"), True)
    assert report.to_json()["allocations"][0]["projected_overspend"] == "30.00"


def test_negative_spend_is_split_by_magnitude_then_negated(db: Database) -> None:
    load_plans(db)
    load_grant_toml(
        db,
        """
[grant]
reference = "N-1"
name = "Credits"
award = "100.00"
start = 2025-04-01
end = 2026-03-31
aligned_plan = "pcc"

[[allocations]]
code = "X"
name = "X"
budget = "0.00"
[allocations.priorities]
pcc = { P1 = 50, P2 = 50 }
""",
    )
    add_line(db, "N-1", date(2025, 5, 1), "-0.01", "X")
    rows = build_report(db, "N-1", Q2).priorities_for("pcc")
    # 1p split 50/50 is a tie: P1 gets it; negated: P1 -0.01, P2 0.00.
    assert [p.spend_to_date for p in rows] == [D("-0.01"), D("0.00"), D("0.00"), D("0.00")]


MULTI_YEAR = """
[grant]
reference = "M-1"
name = "Two years, starting mid-quarter"
award = "1000.00"
start = 2025-05-15
end = 2027-05-14
aligned_plan = "pcc"

[[allocations]]
code = "M"
name = "M"
budget = "1000.00"
[allocations.priorities]
pcc = { P1 = 100 }
"""


def test_multi_year_grant(db: Database) -> None:
    load_plans(db)
    load_grant_toml(db, MULTI_YEAR)
    add_line(db, "M-1", date(2025, 5, 14), "30.00", "M")  # the day before the grant: out
    add_line(db, "M-1", date(2025, 5, 15), "100.00", "M")  # 2025/26 Q1
    add_line(db, "M-1", date(2026, 5, 1), "50.00", "M")  # 2026/27 Q1
    m = build_report(db, "M-1", Period.parse("2026/27-Q1")).allocation("M")
    # Quarters are those of 2026/27; spend to date runs from the grant start across years.
    assert m.quarters == {"Q1": D("50.00"), "Q2": D("0"), "Q3": D("0"), "Q4": D("0")}
    assert (m.spend_this_period, m.spend_to_date) == (D("50.00"), D("150.00"))
    # 9 grant quarters (2025/26 Q1 .. 2027/28 Q1): 100,000p / 9 = 11,111p, the 1p remainder
    # in the last. To date: 5 quarters = 555.55; after: 3 × 111.11 + 111.12 = 444.45.
    assert (m.profile_to_date, m.profile_remaining) == (D("555.55"), D("444.45"))
    assert (m.forecast_outturn, m.variance) == (D("594.45"), D("405.55"))
    first_year = build_report(db, "M-1", Period.parse("2025/26")).allocation("M")
    assert first_year.quarters["Q1"] == D("100.00")
    assert first_year.spend_to_date == D("100.00")


def test_periods_outside_the_grant_and_unknown_grants_are_refused(main: Database) -> None:
    with pytest.raises(PeriodError, match="outside grant T-1"):
        build_report(main, "T-1", Period.parse("2026/27-Q1"))
    with pytest.raises(NotFoundError, match="NOPE"):
        build_report(main, "NOPE", Q2)


def test_default_period(main: Database) -> None:
    grant = load_grant(main, "T-1")
    assert str(default_period(grant, date(2025, 8, 1))) == "2025/26-Q2"
    assert str(default_period(grant, date(2026, 11, 26))) == "2025/26-Q4"  # grant has ended
    assert str(default_period(grant, date(2024, 1, 1))) == "2025/26-Q1"  # not yet started


def test_burn_up_months(main: Database) -> None:
    points = burn_up(main, "T-1", Q2)
    assert len(points) == 12 and points[0].month_end == date(2025, 4, 30)
    # Profile per quarter: A + B 250.00 + C 25.00 (25.03 in Q4):
    # Q1 1,275.00 → 425.00 a month; Q2 2,275.00 → 758.34, 758.33, 758.33 (spare penny first).
    assert [p.profile for p in points[:6]] == [D("425.00")] * 3 + [
        D("758.34"),
        D("758.33"),
        D("758.33"),
    ]
    # Q4 1,275.03 → 425.01 a month; the cumulative profile ends at the allocated 7,100.03.
    assert points[-1].profile == D("425.01")
    assert points[-1].cumulative_profile == D("7100.03")
    # Actual: Apr 500.00; May 0; Jun 100.00; Jul 360.00 + 0.01; Aug -50.01 + 48.00; Sep 0.
    assert [p.cumulative_actual for p in points[:6]] == [
        D("500.00"),
        D("500.00"),
        D("600.00"),
        D("960.01"),
        D("958.00"),
        D("958.00"),
    ]
    # Committed: lines 9 (01/09) and 4 (30/09) → 210.00 from September.
    assert [p.cumulative_committed for p in points[4:6]] == [D("0.00"), D("210.00")]
    # After the as-at date nothing has happened yet.
    assert all(p.cumulative_actual is None for p in points[6:])


def test_burn_up_of_one_allocation_over_the_whole_grant(main: Database) -> None:
    points = burn_up(main, "T-1", allocation_code="A")
    # A's profile 1,000 / 2,000 / 2,000 / 1,000 → 333.34, 333.33, 333.33 in Q1.
    assert [p.profile for p in points[:3]] == [D("333.34"), D("333.33"), D("333.33")]
    # Everything recorded inside the grant: 500.00 + 360.00 - 50.01 + 999.00 (line 5).
    assert points[-1].cumulative_actual == D("1808.99")
    assert points[-1].cumulative_profile == D("6000.00")
    with pytest.raises(NotFoundError):
        burn_up(main, "T-1", allocation_code="ZZ")


def test_report_json_has_the_issue_shape(main: Database) -> None:
    data = _q2(main).to_json()
    assert {
        "grant": "T-1",
        "period": "2025/26-Q2",
        "period_start": "2025-07-01",
        "period_end": "2025-09-30",
    }.items() <= data.items()
    # Issue 13 adds original_allocated and virements (output may carry more than it did).
    assert (data["summary"]["original_allocated"], data["summary"]["virements"]) == (
        "7100.03",
        "0.00",
    )
    assert {
        k: v for k, v in data["summary"].items() if k not in ("original_allocated", "virements")
    } == {
        "award": "10000.00",
        "allocated": "7100.03",
        "unallocated": "2899.97",
        "received": "6000.00",
        "spend_this_period": "358.00",
        "spend_to_date": "958.00",
        "committed": "210.00",
        "forecast_outturn": "4718.03",
        "projected_underspend": "5281.97",
        "projected_overspend": "0.00",
    }
    a = data["allocations"][0]
    assert {k: a[k] for k in ("code", "name", "budget", "quarters", "spend_to_date")} == {
        "code": "A",
        "name": "Youth work",
        "budget": "6000.00",
        "quarters": {"Q1": "500.00", "Q2": "309.99", "Q3": "0.00", "Q4": "0.00"},
        "spend_to_date": "809.99",
    }
    assert (a["committed"], a["forecast_outturn"], a["variance"]) == (
        "200.00",
        "4009.99",
        "1990.01",
    )
    assert {"spend_to_date": "48.00", "committed": "10.00"}.items() <= data["unassigned"].items()
    assert data["priorities"][3] == {
        "plan": "pcc",
        "code": None,
        "title": "Unaligned",
        "budget": "100.03",
        "spend_to_date": "48.00",
    }
    assert data["priorities"][0]["title"] == "Protecting People"


def test_burn_up_of_a_grant_starting_mid_quarter(db: Database) -> None:
    load_plans(db)
    load_grant_toml(db, MULTI_YEAR)
    add_line(db, "M-1", date(2025, 5, 15), "100.00", "M")
    points = burn_up(db, "M-1", Period.parse("2025/26-Q1"))
    # Months of the grant: May 2025 .. May 2027 = 25. The first quarter's 111.11 profile is
    # spread over its two months inside the grant, May and June: 55.56 and 55.55.
    assert len(points) == 25
    assert (points[0].month_end, points[-1].month_end) == (date(2025, 5, 31), date(2027, 5, 31))
    assert [p.profile for p in points[:2]] == [D("55.56"), D("55.55")]
    # The last quarter (111.12) has two months inside the grant, April and May 2027.
    assert [p.profile for p in points[-2:]] == [D("55.56"), D("55.56")]
    assert points[-1].cumulative_profile == D("1000.00")
    assert [p.cumulative_actual for p in points[:3]] == [D("100.00"), D("100.00"), None]
