"""The figures engine: every number a return, chart or check shows, as plain data.

A report is *as at the end of a period*: it counts lines dated inside the grant and *counted
on* (their date, or for a late line the first day after the latest submitted period) up to the
period end (lines outside the grant's dates are left out; the ``SPEND_OUTSIDE_GRANT`` check
names them). A commitment released on or before the period end is no longer committed.
Budgets and profiles include the virements effective by the period end. Spend is summed in
SQL over integer pence, grouped by allocation, status and day, so a report over a million
lines reads a few thousand rows; everything else (quarters,
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
from fundtracker.models import (
    ACTUAL_STATUSES,
    Allocation,
    Grant,
    Narrative,
    OutcomeActual,
    OutcomeMeasure,
    Plan,
    SpendLine,
    Virement,
)
from fundtracker.money import from_pence, money_str, split_largest_remainder, to_pence
from fundtracker.outcomes import OutcomeFigures, measure_figures
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
    original_allocated: Decimal  # project budgets before any virement
    virements: Decimal  # budget moved between projects by virements in effect (in total)

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
    forecast_entered_in: str | None  # the period whose narrative gave that forecast
    variance: Decimal  # budget - forecast outturn; positive = underspend
    weights: tuple[WeightShare, ...]
    lines: int  # spend lines counted (actual and committed, up to the period end)
    original_budget: Decimal = Decimal("0.00")  # the budget before virements
    virements: Decimal = Decimal("0.00")  # net budget moved in (+) or out (-) by virements
    outcomes: tuple[OutcomeFigures, ...] = ()  # its outcome measures (fundtracker/outcomes.py)

    @property
    def spent_and_committed(self) -> Decimal:
        """A: spend to date plus committed."""
        return self.spend_to_date + self.committed

    @property
    def overspent(self) -> bool:
        """Spent and committed more than the budget: Red whatever the forecast says."""
        return self.spent_and_committed > self.budget

    @property
    def projected_overspend(self) -> Decimal:
        return max(Decimal("0.00"), -self.variance)

    @property
    def projected_underspend(self) -> Decimal:
        return max(Decimal("0.00"), self.variance)

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
            "forecast_entered_in": self.forecast_entered_in,
            "variance": money_str(self.variance),
            "projected_underspend": money_str(self.projected_underspend),
            "projected_overspend": money_str(self.projected_overspend),
            "overspent": self.overspent,
            "original_budget": money_str(self.original_budget),
            "virements": money_str(self.virements),
            "lines": self.lines,
            "weights": [
                {"plan": w.plan, "code": w.code, "title": w.title, "percent": f"{w.percent:f}"}
                for w in self.weights
            ],
            "outcomes": [o.to_json() for o in self.outcomes],
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
    virements: tuple[VirementFigures, ...] = ()  # in effect by the period end

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
            "virements": [v.to_json() for v in self.virements],
        }


@dataclass(frozen=True)
class VirementFigures:
    """A budget move between two projects, with the funder's approval."""

    from_code: str
    to_code: str
    amount: Decimal
    approval: str
    approved_on: date
    effective: date
    note: str

    def to_json(self) -> dict[str, str]:
        return {
            "from": self.from_code,
            "to": self.to_code,
            "amount": money_str(self.amount),
            "approval": self.approval,
            "approved_on": self.approved_on.isoformat(),
            "effective": self.effective.isoformat(),
            "note": self.note,
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
    """Claimable pence and line count of one allocation's lines of one status counted on
    one day (``released_on``: the day such commitments were released, if they were)."""

    allocation_id: int | None
    status: str
    day: date
    pence: int
    lines: int
    released_on: date | None = None

    def counts_at(self, as_at: date) -> bool:
        """Whether these lines count in figures as at ``as_at``: an actual line always, a
        commitment until the day it was released."""
        return self.released_on is None or self.released_on > as_at


def daily_totals(
    db: Database, grant: Grant, as_at: date, allocation_ids: Sequence[int] | None = None
) -> list[DayTotal]:
    """Spend per allocation, status and counted-on day, over lines dated inside the grant
    and counted on or before ``as_at`` (never beyond the grant end).

    Grouping by these raw columns, in the order of the ``ix_spend_figures`` index, lets the
    database stream one covering index with no sort; a year is at most a few thousand rows,
    bucketed into quarters or months in Python. Commitments released by ``as_at`` are left
    out.
    """
    query = select(
        _LINES.allocation_id,
        _LINES.status,
        _LINES.counted_on,
        _LINES.released_on,
        func.sum(claimable_pence()),
        func.count(),
    ).where(
        _LINES.grant_id == grant.id,
        _LINES.counted_on <= min(as_at, grant.end_date),
        _LINES.date >= grant.start_date,
        _LINES.date <= grant.end_date,
    )
    if allocation_ids is not None:
        query = query.where(_LINES.allocation_id.in_(allocation_ids))
    query = query.group_by(
        _LINES.allocation_id, _LINES.status, _LINES.counted_on, _LINES.released_on
    )
    with db.read() as session:
        rows = [DayTotal(a, s, d, int(p), int(n), r) for a, s, d, r, p, n in session.execute(query)]
    return [row for row in rows if row.counts_at(as_at)]


@dataclass
class _Totals:
    """Spend of one allocation (or of unassigned lines), in pence, as at the period end."""

    quarters: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    actual: int = 0
    committed: int = 0
    lines: int = 0


def _spend_totals(db: Database, grant: Grant, period: Period) -> dict[int | None, _Totals]:
    """Actual spend per quarter of the period's year (by counted-on day), actual to date and
    committed, per allocation id (None = unassigned)."""
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


@dataclass(frozen=True)
class EnteredForecast:
    amount: Decimal
    period: str  # the period whose narrative holds it


def _entered_forecasts(db: Database, grant: Grant, period: Period) -> dict[int, EnteredForecast]:
    """The forecast outturn each project's officer entered most recently for this period or
    an earlier one: a forecast holds from its period until a later one is entered. "Later"
    is by period end, then (for periods ending together, such as Q2 and H1) the shorter."""
    query = select(Narrative.allocation_id, Narrative.period, Narrative.forecast).where(
        Narrative.grant_id == grant.id, Narrative.forecast.is_not(None)
    )
    latest: dict[int, tuple[tuple[date, date], EnteredForecast]] = {}
    with db.read() as session:
        for allocation_id, code, amount in session.execute(query):
            entered_for = Period.parse(code)
            if amount is None or entered_for.end > period.end:
                continue
            rank = (entered_for.end, entered_for.start)
            if allocation_id not in latest or rank > latest[allocation_id][0]:
                latest[allocation_id] = (rank, EnteredForecast(amount, code))
    return {allocation_id: item for allocation_id, (_, item) in latest.items()}


def default_forecast(spent_and_committed: int, profile_to_date: int, profile_total: int) -> int:
    """The forecast outturn (pence) of a project whose officer has entered none.

    A = spent and committed, P_t = profile to date, P = the whole profile. Ahead of (or on)
    profile, A >= P_t, spending early is not overspending: max(A, P). Behind it, the money
    not yet spent is assumed lost unless the officer says otherwise: A + P - P_t.
    """
    if spent_and_committed >= profile_to_date:
        return max(spent_and_committed, profile_total)
    return spent_and_committed + profile_total - profile_to_date


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


def quarter_index_of(grant: Grant, day: date) -> int:
    """The index of the grant's quarter holding ``day`` (0 = the grant's first)."""
    for index, quarter in enumerate(quarters_between(grant.start_date, grant.end_date)):
        if quarter.start <= day <= quarter.end:
            return index
    raise PeriodError(f"{day:%d/%m/%Y} is outside grant {grant.reference}")


def virements_in_effect(db: Database, grant: Grant, as_at: date) -> list[Virement]:
    """The grant's virements effective on or before ``as_at``, oldest first."""
    query = (
        select(Virement)
        .where(Virement.grant_id == grant.id, Virement.effective <= as_at)
        .order_by(Virement.effective, Virement.id)
    )
    with db.read() as session:
        return list(session.scalars(query))


@dataclass(frozen=True)
class BudgetAt:
    """An allocation's budget and quarterly profile (pence) after the virements in effect."""

    budget: int
    profile: list[int]
    moved: int  # net pence moved in (+) or out (-)


def budget_at(grant: Grant, allocation: Allocation, virements: Sequence[Virement]) -> BudgetAt:
    """Each virement changes the budget by its amount and the profile by the same amount
    over the quarters from the one holding its effective date to the last, evenly in whole
    pence with the remainder in the last (``even_spread``). A project without a profile
    starts from its even profile of the original budget, as ``profile_pence`` gives."""
    count = len(quarters_between(grant.start_date, grant.end_date))
    profile = profile_pence(allocation, count)
    budget, moved = to_pence(allocation.budget), 0
    for virement in virements:
        sign = _virement_sign(virement, allocation)
        if sign == 0:
            continue
        change = sign * to_pence(virement.amount)
        first = quarter_index_of(grant, virement.effective)
        for offset, part in enumerate(even_spread(change, count - first)):
            profile[first + offset] += part
        budget += change
        moved += change
    return BudgetAt(budget, profile, moved)


def _virement_sign(virement: Virement, allocation: Allocation) -> int:
    if virement.to_allocation_id == allocation.id:
        return 1
    if virement.from_allocation_id == allocation.id:
        return -1
    return 0


# --- Building the report -------------------------------------------------------------------


def build_report(db: Database, grant_reference: str, period: Period) -> Report:
    """Every figure of ``grant_reference`` as at the end of ``period``."""
    return report_for(db, load_grant(db, grant_reference), period)


def report_for(db: Database, grant: Grant, period: Period) -> Report:
    """``build_report`` for a grant already loaded with ``load_grant``."""
    check_period(grant, period)
    totals = _spend_totals(db, grant, period)
    forecasts = _entered_forecasts(db, grant, period)
    virements = virements_in_effect(db, grant, period.end)
    outcomes = outcome_figures(db, grant, period)
    allocations = tuple(
        _allocation_figures(
            grant,
            allocation,
            period,
            totals.get(allocation.id, _Totals()),
            forecasts,
            budget_at(grant, allocation, virements),
            outcomes.get(allocation.id, ()),
        )
        for allocation in grant.allocations
    )
    unassigned = _unassigned_figures(totals.get(None, _Totals()), period)
    return Report(
        grant=_grant_info(grant),
        period=period,
        period_start=period.start,
        period_end=period.end,
        summary=_summary(grant, period, allocations, unassigned, virements),
        allocations=allocations,
        unassigned=unassigned,
        priorities=_priorities(grant, allocations, unassigned),
        virements=tuple(_virement_figures(grant, v) for v in virements),
    )


def _virement_figures(grant: Grant, virement: Virement) -> VirementFigures:
    codes = {a.id: a.code for a in grant.allocations}
    return VirementFigures(
        from_code=codes.get(virement.from_allocation_id, ""),
        to_code=codes.get(virement.to_allocation_id, ""),
        amount=virement.amount,
        approval=virement.approval,
        approved_on=virement.approved_on,
        effective=virement.effective,
        note=virement.note,
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
    forecasts: Mapping[int, EnteredForecast],
    budget: BudgetAt,
    outcomes: tuple[OutcomeFigures, ...] = (),
) -> AllocationFigures:
    quarters = quarters_between(grant.start_date, grant.end_date)
    profile = budget.profile
    to_date = sum(p for q, p in zip(quarters, profile, strict=True) if q.end <= period.end)
    remaining = sum(p for q, p in zip(quarters, profile, strict=True) if q.start > period.end)
    spent_and_committed = totals.actual + totals.committed
    entered = forecasts.get(allocation.id)
    if entered is not None and to_pence(entered.amount) < spent_and_committed:
        entered = None  # spending has passed it: the officer's figure no longer can be true
    if entered is not None:
        forecast = entered.amount
    else:
        forecast = from_pence(default_forecast(spent_and_committed, to_date, sum(profile)))
    budget_amount = from_pence(budget.budget)
    return AllocationFigures(
        id=allocation.id,
        code=allocation.code,
        name=allocation.name,
        lead=allocation.lead,
        budget=budget_amount,
        quarters=_quarter_amounts(totals.quarters),
        spend_this_period=from_pence(_this_period(totals, period)),
        spend_to_date=from_pence(totals.actual),
        committed=from_pence(totals.committed),
        profile_to_date=from_pence(to_date),
        profile_remaining=from_pence(remaining),
        forecast_outturn=forecast,
        forecast_entered=entered is not None,
        forecast_entered_in=entered.period if entered is not None else None,
        variance=budget_amount - forecast,
        weights=_weight_shares(allocation),
        lines=totals.lines,
        original_budget=allocation.budget,
        virements=from_pence(budget.moved),
        outcomes=outcomes,
    )


def outcome_figures(
    db: Database, grant: Grant, period: Period
) -> dict[int, tuple[OutcomeFigures, ...]]:
    """Each project's outcome measures as at the period end, by allocation id (one query for
    the measures and one for their actuals)."""
    ids = [a.id for a in grant.allocations]
    with db.read() as session:
        measures = list(
            session.scalars(
                select(OutcomeMeasure)
                .where(OutcomeMeasure.allocation_id.in_(ids))
                .order_by(OutcomeMeasure.allocation_id, OutcomeMeasure.position)
            )
        )
        actuals: dict[int, list[OutcomeActual]] = defaultdict(list)
        for row in session.scalars(select(OutcomeActual).where(OutcomeActual.grant_id == grant.id)):
            actuals[row.measure_id].append(row)
    quarters = quarters_between(grant.start_date, grant.end_date)
    result: dict[int, list[OutcomeFigures]] = defaultdict(list)
    for measure in measures:
        figures = measure_figures(measure, quarters, actuals[measure.id], period)
        result[measure.allocation_id].append(figures)
    return {key: tuple(value) for key, value in result.items()}


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
    virements: Sequence[Virement] = (),
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
        original_allocated=sum((a.original_budget for a in allocations), zero),
        virements=sum((v.amount for v in virements), zero),
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
    profile = _monthly_profile(grant, allocations, virements_in_effect(db, grant, as_at))
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


def _monthly_profile(
    grant: Grant, allocations: Iterable[Allocation], virements: Sequence[Virement] = ()
) -> dict[date, int]:
    """Each quarter's profile (after the virements given) spread over its months inside the
    grant by largest remainder."""
    quarters = quarters_between(grant.start_date, grant.end_date)
    per_quarter = [0] * len(quarters)
    for allocation in allocations:
        for index, amount in enumerate(budget_at(grant, allocation, virements).profile):
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
