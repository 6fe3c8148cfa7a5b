"""What the window shows of outcome measures (issue 15), as plain data: per project its
measures with targets and actuals by quarter, the to-date figures and % of target (the
Projects and Returns pages), and per project % of budget spent beside % of target reached
(the Dashboard: "are we getting results for the money").

Every figure comes from the report (fundtracker/outcomes.py has the rules); this adds what an
edit needs: each measure's and each actual's version, and whether a quarter is locked by a
submitted return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from fundtracker.figures import AllocationFigures, report_for
from fundtracker.models import OutcomeActual, OutcomeMeasure
from fundtracker.outcomes import (
    COUNT,
    OutcomeError,
    OutcomeFigures,
    even_targets,
    file_target,
    listed_targets,
    parse_target,
    quarter_targets,
    tenths_half_up,
    tenths_text,
)
from fundtracker.periods import Period, quarters_between
from fundtracker.services.grants import get_grant
from fundtracker.services.locks import locked_until
from fundtracker.storage import Database


@dataclass(frozen=True)
class OutcomeQuarter:
    """One quarter of the grant for one measure."""

    quarter: Period  # 2025/26-Q2
    label: str  # "Q2"
    target: str  # "2" or "80.0%"
    actual: int | None  # None: nothing entered
    out_of: int | None  # the denominator of a percent measure's actual
    note: str
    version: int | None  # the actual's version, for SetOutcomeActual (None: none yet)
    ended: bool  # ended by the period end: counts to date (and is missing if not entered)
    locked: bool  # a submitted return reports it: its actual cannot change

    @property
    def shown(self) -> str:
        """ "7", "41 of 50 (82.0%)", or "" when nothing is entered."""
        if self.actual is None:
            return ""
        if self.out_of is None:
            return str(self.actual)
        if self.out_of == 0:
            return f"{self.actual} of 0"
        share = tenths_text(tenths_half_up(100 * self.actual, self.out_of))
        return f"{self.actual} of {self.out_of} ({share}%)"


@dataclass(frozen=True)
class OutcomeRow:
    """One measure of one project as at the period end."""

    project: str  # the allocation's code
    project_name: str
    code: str
    title: str
    unit: str  # count | percent
    priority: str | None
    target: int | str  # as a grant file or an edit takes it: 80 or "82.5%"
    targets: tuple[int | str, ...] | None  # the quarterly targets entered (None: spread)
    quarters: tuple[OutcomeQuarter, ...]  # every quarter of the grant
    target_to_date: str  # "40" or "80.0%"
    actual_to_date: str  # "" when there is none (a percent with no denominators)
    percent_of_target: str  # "87.5%", or "" when the target to date is 0
    percent_of_target_tenths: int | None
    missing: tuple[str, ...]  # quarters ended with no actual entered
    version: int  # the measure's version, for UpdateOutcome and RemoveOutcome


@dataclass(frozen=True)
class ProjectProgress:
    """The Dashboard's "results for the money" for one project."""

    project: str
    name: str
    percent_of_budget_spent: str  # spend to date ÷ budget, "62.5%" ("" for a zero budget)
    percent_of_target_reached: str  # the mean of its measures' % of target ("" for none)
    budget_spent_tenths: int | None
    target_reached_tenths: int | None
    measures: int


@dataclass(frozen=True)
class OutcomesView:
    period: Period
    rows: tuple[OutcomeRow, ...]
    progress: tuple[ProjectProgress, ...]

    def rows_of(self, project: str) -> tuple[OutcomeRow, ...]:
        return tuple(r for r in self.rows if r.project == project)


def outcomes_view(db: Database, grant_reference: str, period: Period) -> OutcomesView:
    """Every project's measures as at the end of ``period``, and each project's progress."""
    with db.read() as session:
        grant = get_grant(session, grant_reference)
        report = report_for(db, grant, period)
        quarters = quarters_between(grant.start_date, grant.end_date)
        submission = locked_until(session, grant.id)
        locked_to = submission.period_end if submission else None
        actuals: dict[tuple[int, str], OutcomeActual] = {
            (a.measure_id, a.quarter): a
            for a in session.scalars(
                select(OutcomeActual).where(OutcomeActual.grant_id == grant.id)
            )
        }
        rows = []
        for allocation, figures in zip(grant.allocations, report.allocations, strict=True):
            for measure, outcome in zip(allocation.outcomes, figures.outcomes, strict=True):
                rows.append(_row(figures, measure, outcome, quarters, actuals, period, locked_to))
        progress = tuple(_progress(f) for f in report.allocations)
    return OutcomesView(period, tuple(rows), progress)


def _row(
    project: AllocationFigures,
    measure: OutcomeMeasure,
    figures: OutcomeFigures,
    quarters: list[Period],
    actuals: dict[tuple[int, str], OutcomeActual],
    period: Period,
    locked_to: date | None,
) -> OutcomeRow:
    targets = quarter_targets(measure, len(quarters))
    entered = listed_targets(measure.quarter_targets)
    cells = []
    for quarter, target in zip(quarters, targets, strict=True):
        actual = actuals.get((measure.id, str(quarter)))
        cells.append(
            OutcomeQuarter(
                quarter=quarter,
                label=quarter.short,
                target=_shown(measure.unit, target),
                actual=actual.actual if actual else None,
                out_of=actual.out_of if actual else None,
                note=actual.note if actual else "",
                version=actual.version if actual else None,
                ended=quarter.end <= period.end,
                locked=locked_to is not None and quarter.end <= locked_to,
            )
        )
    return OutcomeRow(
        project=project.code,
        project_name=project.name,
        code=measure.code,
        title=measure.title,
        unit=measure.unit,
        priority=measure.priority,
        target=file_target(measure.unit, measure.target),
        targets=tuple(file_target(measure.unit, t) for t in entered) if entered else None,
        quarters=tuple(cells),
        target_to_date=_shown(measure.unit, figures.target_to_date),
        actual_to_date=(
            "" if figures.actual_to_date is None else _shown(measure.unit, figures.actual_to_date)
        ),
        percent_of_target=_percent(figures.percent_of_target),
        percent_of_target_tenths=figures.percent_of_target,
        missing=figures.missing,
        version=measure.version,
    )


def _shown(unit: str, stored: int) -> str:
    return str(stored) if unit == COUNT else f"{tenths_text(stored)}%"


def _percent(tenths: int | None) -> str:
    return "" if tenths is None else f"{tenths_text(tenths)}%"


def _progress(figures: AllocationFigures) -> ProjectProgress:
    """% of budget spent = spend to date ÷ budget × 100; % of target reached = the mean of the
    measures' % of target to date (those that have one); each to one decimal, half up."""
    budget = int(figures.budget * 100)
    spent = int(figures.spend_to_date * 100)
    spent_tenths = tenths_half_up(100 * spent, budget) if budget > 0 and spent >= 0 else None
    reached = [o.percent_of_target for o in figures.outcomes if o.percent_of_target is not None]
    # The mean of tenths, in tenths, half up.
    reached_tenths = (2 * sum(reached) + len(reached)) // (2 * len(reached)) if reached else None
    return ProjectProgress(
        project=figures.code,
        name=figures.name,
        percent_of_budget_spent=_percent(spent_tenths),
        percent_of_target_reached=_percent(reached_tenths),
        budget_spent_tenths=spent_tenths,
        target_reached_tenths=reached_tenths,
        measures=len(figures.outcomes),
    )


def even_spread_shown(unit: str, target: str, quarters: int) -> list[str]:
    """What each quarter's target would be with no quarterly targets given, as the Projects
    page's outcome editor shows it while the annual target is typed ("" while it is not a
    target yet). Added for the window (issue 15, part 2)."""
    try:
        stored = parse_target(unit, target)
    except OutcomeError:
        return [""] * quarters
    return [_shown(unit, each) for each in even_targets(unit, stored, quarters)]


def percent_of_plan_spent(figures: AllocationFigures) -> str:
    """Spend to date ÷ profile to date (the planned spend of the grant's quarters ended by the
    period end), one decimal, half up: spending on the same "to date" footing as % of target to
    date, beside it on the Dashboard ("" while no spend was planned yet). Added for the window
    (issue 15, part 2)."""
    planned = int(figures.profile_to_date * 100)
    spent = int(figures.spend_to_date * 100)
    if planned <= 0 or spent < 0:
        return ""
    return _percent(tenths_half_up(100 * spent, planned))
