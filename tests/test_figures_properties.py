"""Properties of the figures: splits always add up to the whole, and a report's totals equal
the same sums worked out line by line in Python, for any lines and any period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from fundtracker.figures import build_report, even_spread
from fundtracker.models import Grant, SpendLine
from fundtracker.money import from_pence, split_largest_remainder
from fundtracker.periods import Period
from fundtracker.services.grants import load_grant
from fundtracker.storage import Database
from tests.figure_scenarios import MAIN_GRANT, load_grant_toml, load_plans

GRANT_START, GRANT_END = date(2025, 4, 1), date(2026, 3, 31)
PERIODS = [Period.parse(p) for p in ("2025/26-Q1", "2025/26-Q2", "2025/26-Q3", "2025/26-Q4")]
PERIODS += [Period.parse(p) for p in ("2025/26-H1", "2025/26-H2", "2025/26")]


@given(
    total=st.integers(-(10**12), 10**12),
    weights=st.lists(st.integers(1, 10000), min_size=1, max_size=8),
)
def test_largest_remainder_parts_always_sum_to_the_whole(total: int, weights: list[int]) -> None:
    parts = split_largest_remainder(total, weights)
    assert sum(parts) == total
    # Each part is within a penny of its exact share.
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(total) * weight / sum(weights)
        assert abs(part - exact) < 1


@given(total=st.integers(-(10**12), 10**12), parts=st.integers(1, 40))
def test_even_spread_sums_to_the_whole_with_the_remainder_last(total: int, parts: int) -> None:
    spread = even_spread(total, parts)
    assert sum(spread) == total and len(spread) == parts
    assert len(set(spread[:-1])) <= 1  # all but the last are equal
    assert abs(spread[-1]) - abs(spread[0]) in range(parts)


@dataclass(frozen=True)
class Line:
    allocation: str | None
    day: date
    net: int  # pence
    vat: int
    vat_recoverable: bool
    status: str

    @property
    def claimable(self) -> int:
        return self.net + (0 if self.vat_recoverable else self.vat)


lines_strategy = st.lists(
    st.builds(
        Line,
        allocation=st.sampled_from(["A", "B", "C", None]),
        day=st.integers(-40, 410).map(lambda n: GRANT_START + timedelta(days=n)),
        net=st.integers(-100_000, 1_000_000),
        vat=st.integers(-20_000, 200_000),
        vat_recoverable=st.booleans(),
        status=st.sampled_from(["paid", "accrued", "committed"]),
    ),
    max_size=25,
)


def _store(db: Database, lines: list[Line]) -> None:
    grant = load_grant(db, "T-1")
    ids = {a.code: a.id for a in grant.allocations}
    with db.unit_of_work() as session:
        session.execute(delete(SpendLine))
        session.add_all(
            SpendLine(
                grant_id=grant.id,
                allocation_id=ids[line.allocation] if line.allocation else None,
                date=line.day,
                net=from_pence(line.net),
                vat=from_pence(line.vat),
                vat_recoverable=line.vat_recoverable,
                status=line.status,
            )
            for line in lines
        )


def _sum(lines: list[Line], **where: object) -> Decimal:
    return from_pence(sum(line.claimable for line in lines if _matches(line, where)))


def _matches(line: Line, where: dict[str, object]) -> bool:
    return all(getattr(line, key) == value for key, value in where.items())


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(lines=lines_strategy, period=st.sampled_from(PERIODS))
def test_report_totals_equal_the_sum_of_lines(
    db: Database, lines: list[Line], period: Period
) -> None:
    if not _grant_exists(db):  # one database serves every example
        load_plans(db)
        load_grant_toml(db, MAIN_GRANT)
    _store(db, lines)
    report = build_report(db, "T-1", period)

    counted = [line for line in lines if GRANT_START <= line.day <= period.end]
    actual = [line for line in counted if line.status != "committed"]
    committed = [line for line in counted if line.status == "committed"]
    in_period = [line for line in actual if period.contains(line.day)]
    s = report.summary
    assert s.spend_to_date == _sum(actual)
    assert s.committed == _sum(committed)
    assert s.spend_this_period == _sum(in_period)
    for figures in report.allocations:
        assert figures.spend_to_date == _sum(actual, allocation=figures.code)
        assert figures.committed == _sum(committed, allocation=figures.code)
        year_total = sum(figures.quarters.values())
        in_year = [line for line in actual if period.year.contains(line.day)]
        assert year_total == _sum(in_year, allocation=figures.code)
    assert report.unassigned.spend_to_date == _sum(actual, allocation=None)
    # Grant forecast = allocation forecasts + unassigned actual and committed.
    assert s.forecast_outturn == sum(a.forecast_outturn for a in report.allocations) + _sum(
        counted, allocation=None
    )
    assert s.projected_underspend - s.projected_overspend == s.award - s.forecast_outturn
    for plan in report.plans:
        rows = report.priorities_for(plan.key)
        assert sum(p.spend_to_date for p in rows) == s.spend_to_date
        assert sum(p.budget for p in rows) == s.allocated


def _grant_exists(db: Database) -> bool:
    with db.read() as session:
        return session.scalar(select(Grant.id).where(Grant.reference == "T-1")) is not None
