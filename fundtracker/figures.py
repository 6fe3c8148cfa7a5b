"""The figures engine: every number a return, chart or check shows, as plain data.

A report is *as at the end of a period*: it counts lines dated from the grant's start to the
period end (lines outside the grant's dates are left out; the ``SPEND_OUTSIDE_GRANT`` check
names them). Spend is summed in SQL over integer pence, grouped by allocation, status and
day, so a report over a million lines reads a few thousand rows; everything else (quarters,
profiles, forecasts, priority splits) is worked out in Python from those totals, in whole
pence.
docs/FIGURES.md defines every figure for users.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, func, select, type_coerce
from sqlalchemy.sql.expression import case

from fundtracker.errors import NotFoundError, PeriodError
from fundtracker.models import ACTUAL_STATUSES, Allocation, Grant, Narrative, Plan, SpendLine
from fundtracker.money import from_pence, money_str, split_largest_remainder, to_pence
from fundtracker.periods import Period, month_ends, quarters_between
from fundtracker.services.grants import load_grant
from fundtracker.storage import Database

QUARTER_KEYS = ("Q1", "Q2", "Q3", "Q4")
UNALIGNED = "Unaligned"
_LINES = SpendLine.__table__.c


# --- The report, as frozen plain data --------------------------------------------------------


@dataclass(frozen=True)
class PlanRef:
    key: str
    name: str


@dataclass(frozen=True)
class GrantInfo:
    id: int
    reference: str
    name: str
    funder: str
    recipient: str
    award: Decimal
    start: date
    end: date
    return_frequency: str
    aligned_plan: PlanRef
    local_plan: PlanRef | None

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "name": self.name,
            "funder": self.funder,
            "recipient": self.recipient,
            "award": money_str(self.award),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "return_frequency": self.return_frequency,
            "aligned_plan": _plan_json(self.aligned_plan),
            "local_plan": _plan_json(self.local_plan),
        }


@dataclass(frozen=True)
class Summary:
    award: Decimal
    allocated: Decimal
    unallocated: Decimal
    received: Decimal
    spend_this_period: Decimal
    spend_to_date: Decimal
    committed: Decimal
    forecast_outturn: Decimal
    projected_underspend: Decimal
    projected_overspend: Decimal

    def to_json(self) -> dict[str, str]:
        return {name: money_str(getattr(self, name)) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class WeightShare:
    """One priority an allocation serves, with its share (``percent`` 33.33 = 33.33%)."""

    plan: str
    code: str
    title: str
    percent: Decimal


@dataclass(frozen=True)
class AllocationFigures:
    id: int
    code: str
    name: str
    lead: str
    budget: Decimal
    quarters: Mapping[str, Decimal]  # actual spend in Q1..Q4 of the period's financial year
    spend_this_period: Decimal
    spend_to_date: Decimal
    committed: Decimal
    profile_to_date: Decimal  # planned spend of the grant's quarters up to the period end
    profile_remaining: Decimal  # planned spend of the grant's quarters after the period
    forecast_outturn: Decimal
    forecast_entered: bool  # True when the officer's narrative forecast was used
    variance: Decimal  # budget - forecast outturn; positive = underspend
    weights: tuple[WeightShare, ...]
    lines: int  # spend lines counted (actual and committed, up to the period end)

    def weights_for(self, plan_key: str) -> tuple[WeightShare, ...]:
        return tuple(w for w in self.weights if w.plan == plan_key)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "lead": self.lead,
            "budget": money_str(self.budget),
            "quarters": {key: money_str(value) for key, value in self.quarters.items()},
            "spend_this_period": money_str(self.spend_this_period),
            "spend_to_date": money_str(self.spend_to_date),
            "committed": money_str(self.committed),
            "profile_to_date": money_str(self.profile_to_date),
            "profile_remaining": money_str(self.profile_remaining),
            "forecast_outturn": money_str(self.forecast_outturn),
            "forecast_entered": self.forecast_entered,
            "variance": money_str(self.variance),
            "lines": self.lines,
            "weights": [
                {"plan": w.plan, "code": w.code, "title": w.title, "percent": f"{w.percent:f}"}
                for w in self.weights
            ],
        }


@dataclass(frozen=True)
class UnassignedFigures:
    """Spend on lines not yet assigned to any project."""

    quarters: Mapping[str, Decimal]
    spend_this_period: Decimal
    spend_to_date: Decimal
    committed: Decimal
    lines: int  # unassigned lines counted (actual and committed, up to the period end)

    def to_json(self) -> dict[str, Any]:
        return {
            "quarters": {key: money_str(value) for key, value in self.quarters.items()},
            "spend_this_period": money_str(self.spend_this_period),
            "spend_to_date": money_str(self.spend_to_date),
            "committed": money_str(self.committed),
            "lines": self.lines,
        }


@dataclass(frozen=True)
class PriorityFigures:
    """One row of a plan's priority table; ``code`` is None for the Unaligned row."""

    plan: str
    code: str | None
    title: str
    budget: Decimal
    spend_to_date: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "code": self.code,
            "title": self.title,
            "budget": money_str(self.budget),
            "spend_to_date": money_str(self.spend_to_date),
        }


@dataclass(frozen=True)
class Report:
    grant: GrantInfo
    period: Period
    period_start: date
    period_end: date
    summary: Summary
    allocations: tuple[AllocationFigures, ...]
    unassigned: UnassignedFigures
    priorities: tuple[PriorityFigures, ...]  # aligned plan's rows, then the local plan's

    @property
    def plans(self) -> tuple[PlanRef, ...]:
        local = (self.grant.local_plan,) if self.grant.local_plan else ()
        return (self.grant.aligned_plan, *local)

    def priorities_for(self, plan_key: str) -> tuple[PriorityFigures, ...]:
        return tuple(p for p in self.priorities if p.plan == plan_key)

    def allocation(self, code: str) -> AllocationFigures:
        for figures in self.allocations:
            if figures.code == code:
                return figures
        raise KeyError(code)

    def to_json(self) -> dict[str, Any]:
        """The report's JSON form (a contract: amounts are two-decimal strings, dates ISO)."""
        return {
            "grant": self.grant.reference,
            "period": str(self.period),
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "grant_details": self.grant.to_json(),
            "summary": self.summary.to_json(),
            "allocations": [a.to_json() for a in self.allocations],
            "unassigned": self.unassigned.to_json(),
            "priorities": [p.to_json() for p in self.priorities],
        }


def _plan_json(plan: PlanRef | None) -> dict[str, str] | None:
    return None if plan is None else {"key": plan.key, "name": plan.name}


# --- Periods -------------------------------------------------------------------------------


def check_period(grant: Grant, period: Period) -> None:
    """Refuse a period that does not overlap the grant's dates."""
    if period.end < grant.start_date or period.start > grant.end_date:
        raise PeriodError(
            f"period {period} is outside grant {grant.reference}, which runs "
            f"{grant.start_date:%d/%m/%Y} to {grant.end_date:%d/%m/%Y}"
        )


def default_period(grant: Grant, today: date) -> Period:
    """The quarter containing ``today``; the grant's last quarter once it has ended (its
    first before it starts)."""
    quarters = quarters_between(grant.start_date, grant.end_date)
    if today > grant.end_date:
        return quarters[-1]
    if today < grant.start_date:
        return quarters[0]
    return Period.quarter_of(today)


# --- Spend totals from SQL -----------------------------------------------------------------


def claimable_pence() -> ColumnElement[Any]:
    """A line's claimable amount in pence, as SQL: net, plus VAT when it is not recoverable."""
    net = type_coerce(_LINES.net, BigInteger)
    vat = type_coerce(_LINES.vat, BigInteger)
    return net + case((_LINES.vat_recoverable, 0), else_=vat)


@dataclass(frozen=True)
class DayTotal:
    """Claimable pence and line count of one allocation's lines of one status on one day."""

    allocation_id: int | None
    status: str
    day: date
    pence: int
    lines: int


def daily_totals(
    db: Database, grant: Grant, as_at: date, allocation_ids: Sequence[int] | None = None
) -> list[DayTotal]:
    """Spend per allocation, status and day, over lines dated from the grant start to
    ``as_at`` (never beyond the grant end).

    Grouping by these raw columns, in the order of the ``ix_spend_figures`` index, lets the
    database stream one covering index with no sort; a year is at most a few thousand rows,
    bucketed into quarters or months in Python.
    """
    query = select(
        _LINES.allocation_id, _LINES.status, _LINES.date, func.sum(claimable_pence()), func.count()
    ).where(
        _LINES.grant_id == grant.id,
        _LINES.date >= grant.start_date,
        _LINES.date <= min(as_at, grant.end_date),
    )
    if allocation_ids is not None:
        query = query.where(_LINES.allocation_id.in_(allocation_ids))
    query = query.group_by(_LINES.allocation_id, _LINES.status, _LINES.date)
    with db.read() as session:
        return [DayTotal(a, s, d, int(p), int(n)) for a, s, d, p, n in session.execute(query)]


@dataclass
class _Totals:
    """Spend of one allocation (or of unassigned lines), in pence, as at the period end."""

    quarters: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    actual: int = 0
    committed: int = 0
    lines: int = 0


def _spend_totals(db: Database, grant: Grant, period: Period) -> dict[int | None, _Totals]:
    """Actual spend per quarter of the period's year, actual to date and committed, per
    allocation id (None = unassigned)."""
    year = period.year
    totals: dict[int | None, _Totals] = defaultdict(_Totals)
    for row in daily_totals(db, grant, period.end):
        item = totals[row.allocation_id]
        item.lines += row.lines
        if row.status not in ACTUAL_STATUSES:
            item.committed += row.pence
            continue
        item.actual += row.pence
        if year.contains(row.day):
            item.quarters[Period.quarter_of(row.day).index - 1] += row.pence
    return totals


def _entered_forecasts(db: Database, grant: Grant, period: Period) -> dict[int, Decimal]:
    """Forecast outturns the officer entered in narratives for exactly this period."""
    query = select(Narrative.allocation_id, Narrative.forecast).where(
        Narrative.grant_id == grant.id,
        Narrative.period == str(period),
        Narrative.forecast.is_not(None),
    )
    with db.read() as session:
        rows = session.execute(query)
        return {allocation_id: amount for allocation_id, amount in rows if amount is not None}


# --- Profiles ------------------------------------------------------------------------------


def even_spread(total: int, parts: int) -> list[int]:
    """``total`` pence over ``parts`` equal whole-penny parts, the remainder in the last
    (a negative total by its magnitude, then negated)."""
    if total < 0:
        return [-part for part in even_spread(-total, parts)]
    each = total // parts
    return [each] * (parts - 1) + [total - each * (parts - 1)]


def profile_pence(allocation: Allocation, quarter_count: int) -> list[int]:
    """Planned spend per quarter of the grant (index 0 = its first quarter), in pence."""
    if not allocation.profile:
        return even_spread(to_pence(allocation.budget), quarter_count)
    amounts = [0] * quarter_count
    for item in allocation.profile:
        if 0 <= item.quarter_index < quarter_count:
            amounts[item.quarter_index] = to_pence(item.amount)
    return amounts


# --- Building the report -------------------------------------------------------------------


def build_report(db: Database, grant_reference: str, period: Period) -> Report:
    """Every figure of ``grant_reference`` as at the end of ``period``."""
    return report_for(db, load_grant(db, grant_reference), period)


def report_for(db: Database, grant: Grant, period: Period) -> Report:
    """``build_report`` for a grant already loaded with ``load_grant``."""
    check_period(grant, period)
    totals = _spend_totals(db, grant, period)
    forecasts = _entered_forecasts(db, grant, period)
    allocations = tuple(
        _allocation_figures(
            grant, allocation, period, totals.get(allocation.id, _Totals()), forecasts
        )
        for allocation in grant.allocations
    )
    unassigned = _unassigned_figures(totals.get(None, _Totals()), period)
    return Report(
        grant=_grant_info(grant),
        period=period,
        period_start=period.start,
        period_end=period.end,
        summary=_summary(grant, period, allocations, unassigned),
        allocations=allocations,
        unassigned=unassigned,
        priorities=_priorities(grant, allocations, unassigned),
    )


def _grant_info(grant: Grant) -> GrantInfo:
    local = grant.local_plan
    return GrantInfo(
        id=grant.id,
        reference=grant.reference,
        name=grant.name,
        funder=grant.funder,
        recipient=grant.recipient,
        award=grant.award,
        start=grant.start_date,
        end=grant.end_date,
        return_frequency=grant.return_frequency,
        aligned_plan=PlanRef(grant.aligned_plan.key, grant.aligned_plan.name),
        local_plan=PlanRef(local.key, local.name) if local else None,
    )


def _quarter_amounts(pence: Sequence[int]) -> dict[str, Decimal]:
    return {key: from_pence(amount) for key, amount in zip(QUARTER_KEYS, pence, strict=True)}


def _this_period(totals: _Totals, period: Period) -> int:
    return sum(totals.quarters[q.index - 1] for q in period.quarters())


def _allocation_figures(
    grant: Grant,
    allocation: Allocation,
    period: Period,
    totals: _Totals,
    forecasts: Mapping[int, Decimal],
) -> AllocationFigures:
    quarters = quarters_between(grant.start_date, grant.end_date)
    profile = profile_pence(allocation, len(quarters))
    to_date = sum(p for q, p in zip(quarters, profile, strict=True) if q.end <= period.end)
    remaining = sum(p for q, p in zip(quarters, profile, strict=True) if q.start > period.end)
    entered = forecasts.get(allocation.id)
    forecast = (
        entered if entered is not None else from_pence(totals.actual + totals.committed + remaining)
    )
    return AllocationFigures(
        id=allocation.id,
        code=allocation.code,
        name=allocation.name,
        lead=allocation.lead,
        budget=allocation.budget,
        quarters=_quarter_amounts(totals.quarters),
        spend_this_period=from_pence(_this_period(totals, period)),
        spend_to_date=from_pence(totals.actual),
        committed=from_pence(totals.committed),
        profile_to_date=from_pence(to_date),
        profile_remaining=from_pence(remaining),
        forecast_outturn=forecast,
        forecast_entered=entered is not None,
        variance=allocation.budget - forecast,
        weights=_weight_shares(allocation),
        lines=totals.lines,
    )


def _weight_shares(allocation: Allocation) -> tuple[WeightShare, ...]:
    ordered = sorted(
        allocation.weights,
        key=lambda w: (w.priority.plan.key, w.priority.position, w.priority.code),
    )
    return tuple(
        WeightShare(
            w.priority.plan.key, w.priority.code, w.priority.title, Decimal(w.basis_points) / 100
        )
        for w in ordered
    )


def _unassigned_figures(totals: _Totals, period: Period) -> UnassignedFigures:
    return UnassignedFigures(
        quarters=_quarter_amounts(totals.quarters),
        spend_this_period=from_pence(_this_period(totals, period)),
        spend_to_date=from_pence(totals.actual),
        committed=from_pence(totals.committed),
        lines=totals.lines,
    )


def _summary(
    grant: Grant,
    period: Period,
    allocations: Sequence[AllocationFigures],
    unassigned: UnassignedFigures,
) -> Summary:
    allocated = sum((a.budget for a in allocations), Decimal("0.00"))
    forecast = (
        sum((a.forecast_outturn for a in allocations), Decimal("0.00"))
        + unassigned.spend_to_date
        + unassigned.committed
    )
    received = sum(
        (p.amount for p in grant.payments if p.received and p.date <= period.end),
        Decimal("0.00"),
    )

    def total(name: str) -> Decimal:
        start: Decimal = getattr(unassigned, name)
        return sum((getattr(a, name) for a in allocations), start)

    zero = Decimal("0.00")
    return Summary(
        award=grant.award,
        allocated=allocated,
        unallocated=grant.award - allocated,
        received=received,
        spend_this_period=total("spend_this_period"),
        spend_to_date=total("spend_to_date"),
        committed=total("committed"),
        forecast_outturn=forecast,
        projected_underspend=max(zero, grant.award - forecast),
        projected_overspend=max(zero, forecast - grant.award),
    )


# --- Priority split ------------------------------------------------------------------------


def _priorities(
    grant: Grant, allocations: Sequence[AllocationFigures], unassigned: UnassignedFigures
) -> tuple[PriorityFigures, ...]:
    plans = [grant.aligned_plan] + ([grant.local_plan] if grant.local_plan else [])
    rows: list[PriorityFigures] = []
    for plan in plans:
        rows.extend(priority_rows(plan, grant.allocations, allocations, unassigned))
    return tuple(rows)


def priority_rows(
    plan: Plan,
    allocations: Sequence[Allocation],
    figures: Sequence[AllocationFigures],
    unassigned: UnassignedFigures,
) -> list[PriorityFigures]:
    """One plan's priority table: each allocation's budget and spend to date split over its
    priorities by weight (largest remainder, ties to the plan's first priority); allocations
    without weights in the plan and all unassigned spend go to the Unaligned row."""
    codes = [p.code for p in plan.priorities]
    budget = dict.fromkeys(codes, 0)
    spend = dict.fromkeys(codes, 0)
    unaligned_budget, unaligned_spend = 0, to_pence(unassigned.spend_to_date)
    for allocation, item in zip(allocations, figures, strict=True):
        weights = _plan_weights(plan, allocation)
        if not weights:
            unaligned_budget += to_pence(item.budget)
            unaligned_spend += to_pence(item.spend_to_date)
            continue
        basis = [bp for _, bp in weights]
        for (code, _), part in zip(weights, _split(item.budget, basis), strict=True):
            budget[code] += part
        for (code, _), part in zip(weights, _split(item.spend_to_date, basis), strict=True):
            spend[code] += part
    rows = [
        PriorityFigures(
            plan.key, p.code, p.title, from_pence(budget[p.code]), from_pence(spend[p.code])
        )
        for p in plan.priorities
    ]
    rows.append(
        PriorityFigures(
            plan.key, None, UNALIGNED, from_pence(unaligned_budget), from_pence(unaligned_spend)
        )
    )
    return rows


def _plan_weights(plan: Plan, allocation: Allocation) -> list[tuple[str, int]]:
    """(priority code, basis points) of the allocation in ``plan``, in the plan's order;
    empty when it has none there (or only zero weights, which cannot split anything)."""
    weights = sorted(
        (w for w in allocation.weights if w.priority.plan_id == plan.id),
        key=lambda w: (w.priority.position, w.priority.id),
    )
    pairs = [(w.priority.code, w.basis_points) for w in weights]
    return pairs if sum(bp for _, bp in pairs) > 0 else []


def _split(amount: Decimal, basis_points: Sequence[int]) -> list[int]:
    return split_largest_remainder(to_pence(amount), basis_points)


# --- Burn-up -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthPoint:
    """One month of the burn-up chart. Actual and committed are None for months after the
    as-at date (they have not happened yet); the profile runs to the grant's end."""

    month_end: date
    profile: Decimal
    cumulative_profile: Decimal
    actual: Decimal | None
    cumulative_actual: Decimal | None
    cumulative_committed: Decimal | None

    def to_json(self) -> dict[str, Any]:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else money_str(value)

        return {
            "month_end": self.month_end.isoformat(),
            "profile": money_str(self.profile),
            "cumulative_profile": money_str(self.cumulative_profile),
            "actual": text(self.actual),
            "cumulative_actual": text(self.cumulative_actual),
            "cumulative_committed": text(self.cumulative_committed),
        }


def burn_up(
    db: Database,
    grant_reference: str,
    period: Period | None = None,
    allocation_code: str | None = None,
) -> list[MonthPoint]:
    """Monthly cumulative actual (and committed) spend against the cumulative profile, for
    every month of the grant, as at the end of ``period`` (default: everything recorded).
    Whole grant (unassigned spend included) or one allocation."""
    grant = load_grant(db, grant_reference)
    if period is not None:
        check_period(grant, period)
    as_at = min(period.end, grant.end_date) if period else grant.end_date
    allocations = _chosen_allocations(grant, allocation_code)
    profile = _monthly_profile(grant, allocations)
    actual, committed = _monthly_spend(db, grant, as_at, allocations if allocation_code else None)
    points: list[MonthPoint] = []
    cum_profile = cum_actual = cum_committed = 0
    for month_end in month_ends(grant.start_date, grant.end_date):
        cum_profile += profile[month_end]
        cum_actual += actual[month_end]
        cum_committed += committed[month_end]
        happened = month_end <= as_at or (month_end.year, month_end.month) == (
            as_at.year,
            as_at.month,
        )
        points.append(
            MonthPoint(
                month_end=month_end,
                profile=from_pence(profile[month_end]),
                cumulative_profile=from_pence(cum_profile),
                actual=from_pence(actual[month_end]) if happened else None,
                cumulative_actual=from_pence(cum_actual) if happened else None,
                cumulative_committed=from_pence(cum_committed) if happened else None,
            )
        )
    return points


def _chosen_allocations(grant: Grant, code: str | None) -> list[Allocation]:
    if code is None:
        return list(grant.allocations)
    chosen = [a for a in grant.allocations if a.code == code]
    if not chosen:
        raise NotFoundError(f"grant {grant.reference} has no project '{code}'")
    return chosen


def _monthly_profile(grant: Grant, allocations: Iterable[Allocation]) -> dict[date, int]:
    """Each quarter's profile spread over its months inside the grant by largest remainder."""
    quarters = quarters_between(grant.start_date, grant.end_date)
    per_quarter = [0] * len(quarters)
    for allocation in allocations:
        for index, amount in enumerate(profile_pence(allocation, len(quarters))):
            per_quarter[index] += amount
    monthly: dict[date, int] = defaultdict(int)
    for quarter, amount in zip(quarters, per_quarter, strict=True):
        months = list(
            month_ends(max(quarter.start, grant.start_date), min(quarter.end, grant.end_date))
        )
        for month_end, part in zip(
            months, split_largest_remainder(amount, [1] * len(months)), strict=True
        ):
            monthly[month_end] += part
    return monthly


def _monthly_spend(
    db: Database, grant: Grant, as_at: date, allocations: Sequence[Allocation] | None
) -> tuple[dict[date, int], dict[date, int]]:
    """Actual and committed pence per month end."""
    ids = [a.id for a in allocations] if allocations is not None else None
    actual: dict[date, int] = defaultdict(int)
    committed: dict[date, int] = defaultdict(int)
    for row in daily_totals(db, grant, as_at, ids):
        target = actual if row.status in ACTUAL_STATUSES else committed
        target[_month_end(row.day)] += row.pence
    return actual, committed


def _month_end(day: date) -> date:
    return next(iter(month_ends(day, day)))
