"""Checks: what is wrong with a grant's data, found before the OPCC finds it.

Each check is a small function in ``CHECKS`` that takes one ``CheckContext`` (the report as
at the period end, the grant, the thresholds and database access) and yields ``Finding``s.
Codes are stable; docs/FIGURES.md says what each means and what to do about it.

Adding a check is one line: write ``def check_something(ctx: CheckContext) ->
Iterator[Finding]`` and append it to ``CHECKS`` below. A check living in another module
appends itself there (``CHECKS.append(check_something)`` at the end of that module) and its
module name goes in ``CHECK_MODULES`` so it is loaded before any run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, func, or_, select, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from fundtracker.figures import (
    AllocationFigures,
    Report,
    check_period,
    claimable_pence,
    default_period,
    report_for,
)
from fundtracker.models import SPEND_STATUSES, Grant, SpendLine
from fundtracker.money import format_money, from_pence
from fundtracker.periods import Period
from fundtracker.services.grants import load_grant
from fundtracker.settings import (
    COMMITMENT_STALE_DAYS,
    OUTCOME_BEHIND_PERCENT,
    Thresholds,
    read_setting,
    read_thresholds,
)
from fundtracker.setup_files import format_percentage
from fundtracker.storage import Database

ERROR = "error"
WARNING = "warning"
INFO = "info"  # worth knowing, nothing to put right
# Checks that name spend lines name at most this many, then one finding with the rest's count.
MAX_LINE_FINDINGS = 50
_LINES = SpendLine.__table__.c


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # "error", "warning" or "info"
    message: str
    subject: str  # an allocation code, a spend line id or the grant reference
    subject_kind: str = "grant"  # "grant", "allocation" or "spend_line"
    # The message says what to do in the app (the window and the workbook show it); this is
    # the same thing done from a script, which the command line's own output adds.
    command: str = ""

    def to_json(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "subject": self.subject,
            "subject_kind": self.subject_kind,
            "command": self.command,
        }

    @property
    def cli_message(self) -> str:
        return f"{self.message} ({self.command})" if self.command else self.message


@dataclass(frozen=True)
class CheckContext:
    db: Database
    grant: Grant  # detached, with payments, allocations, weights, profiles and plans loaded
    report: Report
    period: Period
    thresholds: Thresholds

    def read(self) -> AbstractContextManager[Session]:
        """A read-only session for checks that look at the data directly."""
        return self.db.read()

    @property
    def as_at(self) -> date:
        """The last date lines count for: the period end, or the grant end if earlier."""
        return min(self.period.end, self.grant.end_date)

    def grant_finding(self, code: str, severity: str, message: str) -> Finding:
        return Finding(code, severity, message, self.grant.reference, "grant")


Check = Callable[[CheckContext], Iterable[Finding]]


def _alloc(
    code: str, severity: str, figures: AllocationFigures, message: str, command: str = ""
) -> Finding:
    return Finding(
        code,
        severity,
        f"{figures.code} {figures.name}: {message}",
        figures.code,
        "allocation",
        command,
    )


def line_finding(
    code: str, severity: str, line_id: int, message: str, command: str = ""
) -> Finding:
    return Finding(code, severity, message, str(line_id), "spend_line", command)


# --- Alignment ------------------------------------------------------------------------------


def check_alloc_unmapped(ctx: CheckContext) -> Iterator[Finding]:
    plan = ctx.report.grant.aligned_plan
    for figures in ctx.report.allocations:
        if not figures.weights_for(plan.key):
            yield _alloc(
                "ALLOC_UNMAPPED",
                ERROR,
                figures,
                f"no priority weights for the aligned plan, {plan.name}, so its "
                f"{format_money(figures.budget)} budget shows as Unaligned; give it weights "
                "totalling 100% on the Projects page (Priority weights, then Save weights).",
                f"give {figures.code} weights for {plan.key} in the grant file and run "
                "fundtracker-cli grant import FILE",
            )


def check_weights_not_100(ctx: CheckContext) -> Iterator[Finding]:
    for allocation in ctx.grant.allocations:
        totals: dict[str, int] = {}
        names: dict[str, str] = {}
        for weight in allocation.weights:
            key = weight.priority.plan.key
            names[key] = weight.priority.plan.name
            totals[key] = totals.get(key, 0) + weight.basis_points
        for plan_key, basis_points in sorted(totals.items()):
            if basis_points != 10000:
                yield Finding(
                    "WEIGHTS_NOT_100",
                    ERROR,
                    f"{allocation.code} {allocation.name}: weights for {names[plan_key]} total "
                    f"{format_percentage(basis_points)}%, must be 100%; its spend is split in "
                    "proportion meanwhile. Correct them on the Projects page (Priority "
                    "weights, then Save weights).",
                    allocation.code,
                    "allocation",
                    f"correct the grant file's weights for {plan_key} and run fundtracker-cli "
                    "grant import FILE",
                )


def check_plan_not_in_effect(ctx: CheckContext) -> Iterator[Finding]:
    plan = ctx.grant.aligned_plan
    grant = ctx.grant
    starts_late = plan.effective_from > grant.start_date
    ends_early = plan.effective_to is not None and plan.effective_to < grant.end_date
    if starts_late or ends_early:
        runs = f"from {plan.effective_from:%d/%m/%Y}" + (
            f" to {plan.effective_to:%d/%m/%Y}" if plan.effective_to else ""
        )
        yield ctx.grant_finding(
            "PLAN_NOT_IN_EFFECT",
            WARNING,
            f"The aligned plan, {plan.name}, runs {runs}, but the grant runs "
            f"{grant.start_date:%d/%m/%Y} to {grant.end_date:%d/%m/%Y}; align the grant to the "
            "plan in force (or tag projects against both plans, using the other as local plan).",
        )


# --- Budgets --------------------------------------------------------------------------------


def check_grant_allocation(ctx: CheckContext) -> Iterator[Finding]:
    summary = ctx.report.summary
    award, allocated = format_money(summary.award), format_money(summary.allocated)
    if summary.unallocated < 0:
        yield ctx.grant_finding(
            "GRANT_OVERALLOCATED",
            ERROR,
            f"Project budgets total {allocated}, {format_money(-summary.unallocated)} more than "
            f"the award of {award}; reduce budgets (moving money needs the OPCC's approval).",
        )
    elif summary.unallocated > 0:
        yield ctx.grant_finding(
            "GRANT_UNALLOCATED",
            WARNING,
            f"{format_money(summary.unallocated)} of the {award} award is not allocated to any "
            f"project (budgets total {allocated}); allocate it or agree its use with the OPCC.",
        )


def check_alloc_overspent(ctx: CheckContext) -> Iterator[Finding]:
    for figures in ctx.report.allocations:
        spent = figures.spend_to_date + figures.committed
        if spent > figures.budget:
            yield _alloc(
                "ALLOC_OVERSPENT",
                WARNING,
                figures,
                f"spend to date {format_money(figures.spend_to_date)} plus committed "
                f"{format_money(figures.committed)} is {format_money(spent)}, "
                f"{format_money(spent - figures.budget)} over its {format_money(figures.budget)} "
                "budget, so it is Red; move spend elsewhere, or ask the OPCC to approve a "
                "virement and record it on the Projects page (Record a virement…).",
                f"fundtracker-cli virement add --grant {ctx.grant.reference} --to {figures.code}",
            )


def check_underspend_risk(ctx: CheckContext) -> Iterator[Finding]:
    summary = ctx.report.summary
    threshold = ctx.thresholds.underspend_risk_percent
    if summary.projected_underspend * 100 > threshold * summary.award:
        share = _percent_of(summary.projected_underspend, summary.award)
        yield ctx.grant_finding(
            "UNDERSPEND_RISK",
            WARNING,
            f"Projected underspend is {format_money(summary.projected_underspend)} ({share}% of "
            f"the {format_money(summary.award)} award, above the {threshold:f}% threshold); the "
            "funder will claw back what is not spent. Bring spend forward, commit it, or agree a "
            "change with the OPCC.",
        )


def check_behind_profile(ctx: CheckContext) -> Iterator[Finding]:
    threshold = ctx.thresholds.behind_profile_percent
    for figures in ctx.report.allocations:
        planned = figures.profile_to_date
        if figures.spend_to_date * 100 < threshold * planned:
            yield _alloc(
                "BEHIND_PROFILE",
                WARNING,
                figures,
                f"spend to date {format_money(figures.spend_to_date)} is "
                f"{_percent_of(figures.spend_to_date, planned)}% of its profile to date "
                f"{format_money(planned)} (threshold {threshold:f}%); ask the lead partner why, "
                "and explain the variance in the return.",
            )


def _percent_of(part: Decimal, whole: Decimal) -> str:
    if whole == 0:
        return "0"
    # Rounded down, so a share just under a threshold never reads as the threshold itself.
    return f"{(part * 100 / whole).quantize(Decimal('0.01'), rounding=ROUND_DOWN)}"


# --- Outcomes -------------------------------------------------------------------------------


def check_outcome_missing(ctx: CheckContext) -> Iterator[Finding]:
    """A quarter ended by the period end with no actual entered, one finding a measure."""
    for figures in ctx.report.allocations:
        for outcome in figures.outcomes:
            if not outcome.missing:
                continue
            quarters = ", ".join(outcome.missing)
            yield _alloc(
                "OUTCOME_MISSING",
                WARNING,
                figures,
                f"outcome {outcome.code} ({outcome.title}) has no actual entered for "
                f"{quarters}; ask the lead partner for the figure and enter it on the Returns "
                "page (Outcomes), or enter 0 if nothing was achieved.",
                f"fundtracker-cli outcome set --grant {ctx.grant.reference} --period "
                f"{outcome.missing[0]} --allocation {figures.code} --outcome {outcome.code} "
                f"--actual N{' --of D' if outcome.unit == 'percent' else ''}",
            )


def check_outcome_behind(ctx: CheckContext) -> Iterator[Finding]:
    """An outcome whose % of target to date is under the setting (strictly)."""
    with ctx.read() as session:
        threshold = read_setting(session, OUTCOME_BEHIND_PERCENT)
    for figures in ctx.report.allocations:
        for outcome in figures.outcomes:
            reached = outcome.percent_of_target
            if reached is None or Decimal(reached) >= threshold * 10:
                continue
            shown = outcome.to_json()
            unit = "%" if outcome.unit == "percent" else ""
            yield _alloc(
                "OUTCOME_BEHIND",
                WARNING,
                figures,
                f"outcome {outcome.code} ({outcome.title}) is at {shown['percent_of_target']}% "
                f"of its target to date ({shown['actual_to_date']}{unit} against "
                f"{shown['target_to_date']}{unit}; threshold {threshold:f}%); ask the lead "
                "partner why, and explain it in the project's narrative for the return.",
                f"fundtracker-cli narrative set --grant {ctx.grant.reference} --period "
                f"{ctx.period} --allocation {figures.code} --outputs TEXT",
            )


# --- Spend lines ----------------------------------------------------------------------------


def line_summary(line: Any) -> str:
    amount = from_pence(int(line.claimable))
    supplier = f", {line.supplier}" if line.supplier else ""
    reference = f", ref {line.reference}" if line.reference else ""
    return f"Line {line.id} ({line.date:%d/%m/%Y}{supplier}{reference}, {format_money(amount)})"


def line_columns() -> list[Any]:
    return [
        _LINES.id,
        _LINES.date,
        _LINES.supplier,
        _LINES.reference,
        claimable_pence().label("claimable"),
    ]


def capped_findings(
    ctx: CheckContext, code: str, severity: str, found: Sequence[Finding], total: int, what: str
) -> Iterator[Finding]:
    yield from found
    if total > len(found):
        yield ctx.grant_finding(
            code, severity, f"… and {total - len(found)} more {what} (only {len(found)} named)."
        )


# Every status, stated so the database can seek the (grant, allocation, status, date) index
# with all four columns instead of scanning by date.
_ALL_STATUSES = _LINES.status.in_(SPEND_STATUSES)


class unindexed(FunctionElement[Any]):
    """A line's date that SQLite's planner may not seek an index on (``+date``). Lines are
    counted by ``counted_on`` (never before their date), so these checks seek the figures
    index (grant, allocation, status, counted_on …) and test the date in it; SQLite, without
    statistics, would otherwise walk the date index and read every line from the table."""

    name = "unindexed"
    type = Date()
    inherit_cache = True


@compiles(unindexed)
def _unindexed(element: unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: Any, **kw: Any) -> str:
    return "+" + str(compiler.process(element.clauses, **kw))


def allocation_scopes(ctx: CheckContext) -> list[Any]:
    """Assigned and unassigned lines, asked for separately: naming the allocation ids lets the
    database seek its (grant, allocation, status, counted_on) covering index."""
    allocation_ids = [allocation.id for allocation in ctx.grant.allocations]
    return [_LINES.allocation_id.in_(allocation_ids), _LINES.allocation_id.is_(None)]


def check_spend_unassigned(ctx: CheckContext) -> Iterator[Finding]:
    total = ctx.report.unassigned.lines
    if not total:
        return
    with ctx.read() as session:
        rows = session.execute(
            select(*line_columns())
            .where(
                _LINES.grant_id == ctx.grant.id,
                _LINES.allocation_id.is_(None),
                _ALL_STATUSES,
                _LINES.counted_on <= ctx.as_at,
                unindexed(_LINES.date) >= ctx.grant.start_date,
                or_(_LINES.released_on.is_(None), _LINES.released_on > ctx.as_at),
            )
            .order_by(_LINES.status, _LINES.counted_on, _LINES.id)  # the index's order
            .limit(MAX_LINE_FINDINGS)
        ).all()
    found = [
        line_finding(
            "SPEND_UNASSIGNED",
            ERROR,
            row.id,
            f"{line_summary(row)} has no project; it counts as Unaligned. "
            f"Assign it on the Spending page (select line {row.id}, then Assign…).",
            f"fundtracker-cli spend update {row.id} --allocation CODE",
        )
        for row in sorted(rows, key=lambda r: (r.date, r.id))
    ]
    yield from capped_findings(ctx, "SPEND_UNASSIGNED", ERROR, found, total, "unassigned lines")


def check_spend_outside_grant(ctx: CheckContext) -> Iterator[Finding]:
    """Every line dated outside the grant, whatever the period: it is in no figure at all."""
    grant = ctx.grant
    found: list[Finding] = []
    total = 0
    # Two date ranges rather than one OR, so each is one short index seek.
    for outside in (_LINES.date < grant.start_date, _LINES.date > grant.end_date):
        where = (_LINES.grant_id == grant.id, outside)
        with ctx.read() as session:
            total += session.scalar(select(func.count()).where(*where)) or 0
            rows = session.execute(
                select(*line_columns())
                .where(*where)
                .order_by(_LINES.date, _LINES.id)
                .limit(MAX_LINE_FINDINGS - len(found))
            ).all()
        found += [
            line_finding(
                "SPEND_OUTSIDE_GRANT",
                ERROR,
                row.id,
                f"{line_summary(row)} is dated outside the grant "
                f"({grant.start_date:%d/%m/%Y} to {grant.end_date:%d/%m/%Y}) and is left out "
                "of every figure; correct its date or move it to the right grant.",
            )
            for row in rows
        ]
    yield from capped_findings(
        ctx, "SPEND_OUTSIDE_GRANT", ERROR, found, total, "lines outside the grant"
    )


def check_duplicate_suspect(ctx: CheckContext) -> Iterator[Finding]:
    """Lines (up to the period end) sharing supplier, reference, net and VAT; empty
    references are not compared. Grouped in the order of the ``ix_spend_duplicates`` index,
    so the database streams it without sorting."""
    net = type_coerce(_LINES.net, BigInteger)
    vat = type_coerce(_LINES.vat, BigInteger)
    key = (_LINES.reference, _LINES.supplier, net, vat)
    # Lines sharing the whole key share their reference: grouping every line by reference
    # alone first is a third quicker than by the whole key (most references are unique),
    # and only the few references used more than once are then grouped by the whole key.
    repeated_references = (
        select(_LINES.reference)
        .where(_LINES.grant_id == ctx.grant.id, _LINES.reference != "")
        .group_by(_LINES.reference)
        .having(func.count() > 1)
    )
    where = (
        _LINES.grant_id == ctx.grant.id,
        _LINES.reference.in_(repeated_references),
        _LINES.date >= ctx.grant.start_date,
        _LINES.date <= ctx.as_at,
    )
    with ctx.read() as session:
        groups = [
            tuple(g)
            for g in session.execute(
                select(*key).where(*where).group_by(*key).having(func.count() > 1).order_by(*key)
            )
        ]
        named = groups[:MAX_LINE_FINDINGS]
        if not named:
            return
        # By reference alone, so the database seeks ix_spend_duplicates; dates are
        # checked here (a date range in SQL would tempt it to scan by date instead).
        members = session.execute(
            select(_LINES.id, _LINES.date, *key)
            .where(_LINES.grant_id == ctx.grant.id, _LINES.reference.in_({g[0] for g in named}))
            .order_by(_LINES.id)
        ).all()
    ids: dict[tuple[Any, ...], list[int]] = {}
    for row in members:
        if ctx.grant.start_date <= row.date <= ctx.as_at:
            ids.setdefault(tuple(row[2:]), []).append(row.id)
    found = [_duplicate(group, ids[group]) for group in named]
    yield from capped_findings(
        ctx, "DUPLICATE_SUSPECT", WARNING, found, len(groups), "groups of duplicates"
    )


def _duplicate(group: tuple[Any, ...], line_ids: list[int]) -> Finding:
    reference, supplier, net, vat = group
    listed = ", ".join(str(i) for i in line_ids[:-1]) + f" and {line_ids[-1]}"
    return line_finding(
        "DUPLICATE_SUSPECT",
        WARNING,
        line_ids[-1],
        f"Lines {listed} share supplier '{supplier}', reference '{reference}', net "
        f"{format_money(from_pence(int(net)))} and VAT {format_money(from_pence(int(vat)))}; "
        f"if one is entered twice, delete line {line_ids[-1]} on the Spending page.",
        f"fundtracker-cli spend delete {line_ids[-1]}",
    )


# --- Late lines and commitments (issue 13) ---------------------------------------------------


def check_late_lines(ctx: CheckContext) -> Iterator[Finding]:
    """Lines dated in a period whose return was already submitted, counted in this one."""
    where = (
        _LINES.grant_id == ctx.grant.id,
        _ALL_STATUSES,
        _LINES.counted_on >= ctx.period.start,
        _LINES.counted_on <= ctx.as_at,
        # Spelt as ix_spend_late's condition, so the database reads that index of late lines
        # alone (revision 0010), not the date index (hence the unindexed dates).
        _LINES.counted_on > _LINES.date,
        unindexed(_LINES.date) >= ctx.grant.start_date,
    )
    with ctx.read() as session:
        total = session.scalar(select(func.count()).where(*where)) or 0
        if not total:
            return
        rows = session.execute(
            select(*line_columns(), _LINES.counted_on)
            .where(*where)
            .order_by(unindexed(_LINES.date), _LINES.id)
            .limit(MAX_LINE_FINDINGS)
        ).all()
    found = [
        line_finding(
            "LATE_LINES",
            INFO,
            row.id,
            f"{line_summary(row)} is dated in {Period.quarter_of(row.date)}, whose return was "
            f"already submitted; it is a late line, counted in "
            f"{Period.quarter_of(row.counted_on)}.",
        )
        for row in rows
    ]
    yield from capped_findings(ctx, "LATE_LINES", INFO, found, total, "late lines")


def check_commitment_stale(ctx: CheckContext) -> Iterator[Finding]:
    """Commitments still open at the period end more than the setting's days after they were
    raised: release them, or record their invoices."""
    with ctx.read() as session:
        days = int(read_setting(session, COMMITMENT_STALE_DAYS))
        raised_before = ctx.as_at - timedelta(days=days)
        where = (
            _LINES.grant_id == ctx.grant.id,
            _LINES.status == "committed",
            _LINES.counted_on <= ctx.as_at,
            unindexed(_LINES.date) >= ctx.grant.start_date,
            unindexed(_LINES.date) < raised_before,
            or_(_LINES.released_on.is_(None), _LINES.released_on > ctx.as_at),
        )
        total, rows = 0, list[Any]()
        for scope in allocation_scopes(ctx):
            total += session.scalar(select(func.count()).where(scope, *where)) or 0
            rows += session.execute(
                select(*line_columns()).where(scope, *where).limit(MAX_LINE_FINDINGS)
            ).all()
    if not total:
        return
    rows = sorted(rows, key=lambda row: (row.date, row.id))[:MAX_LINE_FINDINGS]
    found = [
        line_finding(
            "COMMITMENT_STALE",
            WARNING,
            row.id,
            f"{line_summary(row)} has been committed for {(ctx.as_at - row.date).days} days "
            f"(more than {days}) by {ctx.as_at:%d/%m/%Y}; if it will not be spent, release it; "
            f"if it has been invoiced, record the invoice (Spending page, line {row.id}).",
            f"fundtracker-cli spend release {row.id}, or fundtracker-cli spend invoice {row.id} "
            "--date D --net A (or --match ID)",
        )
        for row in rows
    ]
    yield from capped_findings(ctx, "COMMITMENT_STALE", WARNING, found, total, "stale commitments")


CHECKS: list[Check] = [
    check_alloc_unmapped,
    check_weights_not_100,
    check_grant_allocation,  # GRANT_OVERALLOCATED and GRANT_UNALLOCATED
    check_spend_unassigned,
    check_spend_outside_grant,
    check_alloc_overspent,
    check_underspend_risk,
    check_behind_profile,
    check_outcome_missing,
    check_outcome_behind,
    check_duplicate_suspect,
    check_plan_not_in_effect,
    check_late_lines,
    check_commitment_stale,
]

# Modules holding further checks that append themselves to CHECKS when imported.
CHECK_MODULES: list[str] = ["fundtracker.returns.checks"]


def run_checks(
    db: Database,
    grant_reference: str,
    period: Period | None = None,
    today: date | None = None,
    report: Report | None = None,
) -> list[Finding]:
    """Every check of the grant as at the end of ``period`` (default: the quarter containing
    ``today``, or the grant's last quarter once it has ended). Pass ``report`` when already
    built for the same period to save building it again."""
    for module in CHECK_MODULES:
        importlib.import_module(module)
    grant = load_grant(db, grant_reference)
    period = period or default_period(grant, today or date.today())
    check_period(grant, period)
    if report is None or report.period != period or report.grant.id != grant.id:
        report = report_for(db, grant, period)
    with db.read() as session:
        thresholds = read_thresholds(session)
    ctx = CheckContext(db, grant, report, period, thresholds)
    return [finding for check in CHECKS for finding in check(ctx)]


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)
