"""The returns' checks, appended to ``fundtracker.checks.CHECKS`` when this module loads
(it is named in ``CHECK_MODULES`` there).

- ``SUBMITTED_CHANGED`` (error): the data under a submitted return no longer gives the
  figures it submitted.
- ``NO_EVIDENCE`` (warning): an actual (paid or accrued) line at or above the evidence
  threshold (setting ``checks.evidence_threshold``, default £500) has no attachment.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, select

from fundtracker.checks import (
    CHECKS,
    ERROR,
    MAX_LINE_FINDINGS,
    WARNING,
    CheckContext,
    Finding,
    capped_findings,
    line_columns,
    line_finding,
    line_summary,
    unindexed,
)
from fundtracker.errors import FundtrackerError
from fundtracker.figures import claimable_pence, report_for
from fundtracker.models import ACTUAL_STATUSES, Attachment, SpendLine, Submission
from fundtracker.money import format_money, to_pence
from fundtracker.periods import Period
from fundtracker.settings import EVIDENCE_THRESHOLD, read_setting

MAX_DIFFERENCES_SHOWN = 3
_LINES = SpendLine.__table__.c


# --- SUBMITTED_CHANGED ---------------------------------------------------------------------


def figures_of(report_json: dict[str, Any]) -> dict[str, str]:
    """What a submitted return says, flattened to ``where -> shown value`` for comparison:
    summary, each project's money columns, quarterly profile and priority weights, unassigned
    spend and each priority row with its title."""
    flat: dict[str, str] = {}
    for key, value in report_json["summary"].items():
        flat[f"summary {key}"] = _money(value)
    for item in report_json.get("virements", []):
        flat[f"virement {item['approval']} {item['from']} to {item['to']}"] = _money(item["amount"])
    for item in report_json["allocations"]:
        project = f"project {item['code']}"
        for key in _PROJECT_AMOUNTS:
            flat[f"{project} {key}"] = _money(item[key])
        for quarter, value in item["quarters"].items():
            flat[f"{project} {quarter}"] = _money(value)
        for weight in item["weights"]:
            flat[f"{project} weight {weight['plan']} {weight['code']}"] = f"{weight['percent']}%"
        # Returns submitted before issue 15 carry no outcomes (none could be recorded then).
        for outcome in item.get("outcomes", []):
            for key in ("target", "target_to_date", "actual_to_date", "percent_of_target"):
                where = f"{project} outcome {outcome['code']} {key.replace('_', ' ')}"
                flat[where] = _outcome_value(outcome[key])
    for key in ("spend_to_date", "committed"):
        flat[f"unassigned {key}"] = _money(report_json["unassigned"][key])
    for row in report_json["priorities"]:
        label = f"priority {row['plan']} {row['code'] or 'Unaligned'}"
        flat[f"{label} budget"] = _money(row["budget"])
        flat[f"{label} spend_to_date"] = _money(row["spend_to_date"])
        flat[f"{label} title"] = f"'{row['title']}'"
    return flat


_PROJECT_AMOUNTS = (
    "budget",
    "spend_to_date",
    "committed",
    "forecast_outturn",
    "variance",
    "profile_to_date",
    "profile_remaining",
)


def _money(amount: str) -> str:
    return format_money(Decimal(amount))


def _outcome_value(value: int | str | None) -> str:
    """A count as it is (40), a percentage with its sign ("82.5%"), nothing as "none"."""
    if value is None:
        return "none"
    return str(value) if isinstance(value, int) else f"{value}%"


def differences(submitted: dict[str, str], now: dict[str, str]) -> list[str]:
    changed = []
    for where in sorted(submitted.keys() | now.keys()):
        before, after = submitted.get(where, "absent"), now.get(where, "absent")
        if before != after:
            changed.append(f"{where} was {before}, is now {after}")
    return changed


def check_submitted_changed(ctx: CheckContext) -> Iterator[Finding]:
    """Every standing submission of the grant, whatever the period being checked."""
    with ctx.read() as session:
        standing = list(
            session.scalars(
                select(Submission)
                .where(Submission.grant_id == ctx.grant.id, Submission.reopened_at.is_(None))
                .order_by(Submission.period_end)
            )
        )
    for submission in standing:
        period = Period.parse(submission.period)
        try:
            report = ctx.report if period == ctx.period else report_for(ctx.db, ctx.grant, period)
        except FundtrackerError as exc:  # e.g. the grant's dates no longer cover the period
            yield ctx.grant_finding(
                "SUBMITTED_CHANGED", ERROR, _changed_message(submission, [str(exc)])
            )
            continue
        snapshot = json.loads(submission.snapshot)["report"]
        submitted = figures_of(snapshot)
        now = figures_of(report.to_json())
        # Summary figures (and outcomes, issue 15) added to the report since the return was
        # submitted were not in it.
        added = [w for w in now if w.startswith("summary ") and w not in submitted]
        if not any("outcomes" in item for item in snapshot["allocations"]):
            added += [w for w in now if " outcome " in w]
        for where in added:
            del now[where]
        changed = differences(submitted, now)
        if changed:
            yield ctx.grant_finding(
                "SUBMITTED_CHANGED", ERROR, _changed_message(submission, changed)
            )


def _changed_message(submission: Submission, changed: list[str]) -> str:
    shown = "; ".join(changed[:MAX_DIFFERENCES_SHOWN])
    more = len(changed) - MAX_DIFFERENCES_SHOWN
    extra = f" (and {more} more)" if more > 0 else ""
    return (
        f"The return for {submission.period} (version {submission.version_number}, submitted "
        f"{submission.submitted_at:%d/%m/%Y}) no longer matches the data: {shown}{extra}. "
        "Undo the change, or reopen the return and submit it again so the OPCC has the "
        "right figures."
    )


# --- NO_EVIDENCE ---------------------------------------------------------------------------


def check_no_evidence(ctx: CheckContext) -> Iterator[Finding]:
    with ctx.read() as session:
        threshold = read_setting(session, EVIDENCE_THRESHOLD)
        has_attachment = exists().where(Attachment.spend_line_id == _LINES.id)
        where = (
            _LINES.grant_id == ctx.grant.id,
            _LINES.status.in_(ACTUAL_STATUSES),
            _LINES.counted_on <= ctx.as_at,
            unindexed(_LINES.date) >= ctx.grant.start_date,
            claimable_pence() >= to_pence(threshold),
            ~has_attachment,
        )
        total, rows = 0, list[Any]()
        # Assigned and unassigned lines are asked for separately: naming the allocation ids
        # lets the database seek its (grant, allocation, status, date) covering index, where
        # one query over both would read every line of the grant from the table.
        for scope in _allocation_scopes(ctx):
            total += (
                session.scalar(select(func.count()).select_from(SpendLine).where(scope, *where))
                or 0
            )
            rows += session.execute(
                select(*line_columns())
                .where(scope, *where)
                # The index's own order, so nothing is sorted; the named lines are then
                # shown by date.
                .order_by(_LINES.allocation_id, _LINES.status, _LINES.counted_on, _LINES.id)
                .limit(MAX_LINE_FINDINGS)
            ).all()
    rows = sorted(rows, key=lambda row: (row.date, row.id))[:MAX_LINE_FINDINGS]
    found = [
        line_finding(
            "NO_EVIDENCE",
            WARNING,
            row.id,
            f"{line_summary(row)} is at or above the {format_money(threshold)} evidence "
            f"threshold and has no invoice or receipt attached: attach it to line {row.id} on "
            "the Spending page (Attach evidence…).",
            f"fundtracker-cli attach {row.id} FILE",
        )
        for row in rows
    ]
    yield from capped_findings(ctx, "NO_EVIDENCE", WARNING, found, total, "lines without evidence")


def _allocation_scopes(ctx: CheckContext) -> list[Any]:
    allocation_ids = [allocation.id for allocation in ctx.grant.allocations]
    return [_LINES.allocation_id.in_(allocation_ids), _LINES.allocation_id.is_(None)]


CHECKS.extend([check_submitted_changed, check_no_evidence])
