"""The return as plain data: every figure, narrative, transaction and check the workbook shows.

A submitted return stores this document (its *snapshot*) and a SHA-256 checksum of its
canonical JSON: UTF-8, keys sorted, no insignificant whitespace, amounts as two-decimal
strings (they already are: the document holds no numbers other than line ids). The workbook
writer renders the document and computes nothing of its own.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fundtracker.figures import AllocationFigures, Report, report_for
from fundtracker.models import Allocation, Grant, Narrative, SpendLine
from fundtracker.money import money_str
from fundtracker.periods import Period
from fundtracker.returns.narratives import narratives_by_code, project_rag
from fundtracker.services.grants import get_grant
from fundtracker.storage import Database
from fundtracker.year_end import year_end_of

FORMAT = "fundtracker-return/1"


def canonical_json(document: Any) -> bytes:
    """The exact bytes the checksum is taken over."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def checksum(document: Any) -> str:
    return hashlib.sha256(canonical_json(document)).hexdigest()


def build_return(
    db: Database,
    session: Session,
    grant_reference: str,
    period: Period,
    prepared_by: str,
    prepared_on: date,
) -> dict[str, Any]:
    """The return document of ``period`` as the data stands now.

    ``session`` reads the narratives and lines, so a caller holding a write transaction
    (submission) sees the same data it records.
    """
    from fundtracker.checks import run_checks

    grant = get_grant(session, grant_reference)
    report = report_for(db, grant, period)
    narratives = narratives_by_code(session, grant, period)
    findings = run_checks(db, grant_reference, period, report=report)
    return {
        "format": FORMAT,
        # The final return carries the year-end statement, as the report JSON does.
        "report": {**report.to_json(), **year_end_of(grant, report)},
        "financial_year": str(period.year),
        "projects": [
            _project(report, figures, narratives.get(figures.code))
            for figures in report.allocations
        ],
        "transactions": transactions(session, grant, period),
        "checks": [f.to_json() for f in findings],
        "prepared_by": prepared_by,
        "prepared_on": prepared_on.isoformat(),
    }


def priorities_text(figures: AllocationFigures, plan_key: str | None) -> str:
    """``P1 Protecting People (60%); P2 Protecting Places (40%)``."""
    if plan_key is None:
        return ""
    return "; ".join(
        f"{w.code} {w.title} ({w.percent.normalize():f}%)" for w in figures.weights_for(plan_key)
    )


def _project(
    report: Report, figures: AllocationFigures, narrative: Narrative | None
) -> dict[str, Any]:
    local = report.grant.local_plan
    override = narrative.rag if narrative and narrative.rag else None
    rag, computed = project_rag(figures, override)
    return {
        "code": figures.code,
        "pcc_priorities": priorities_text(figures, report.grant.aligned_plan.key),
        "local_priorities": priorities_text(figures, local.key if local else None),
        "rag": rag,
        "rag_computed": computed,
        "rag_override": override,
        "overspent": figures.overspent,
        "forecast_entered_in": figures.forecast_entered_in,
        "outputs": narrative.outputs if narrative else "",
        "variance_explanation": narrative.variance_explanation if narrative else "",
    }


def transactions(session: Session, grant: Grant, period: Period) -> list[dict[str, Any]]:
    """Every line the figures count: dated inside the grant and counted on or before the
    period end (a late line is listed in the return it is counted in; ``counted_in`` names
    that quarter). Commitments released by the period end count nowhere and are left out."""
    lines = SpendLine.__table__.c
    as_at = min(period.end, grant.end_date)
    query = (
        select(
            lines.id,
            lines.date,
            lines.counted_on,
            lines.reference,
            lines.supplier,
            lines.description,
            Allocation.code,
            lines.net,
            lines.vat,
            lines.vat_recoverable,
            lines.status,
        )
        .outerjoin(Allocation, Allocation.id == lines.allocation_id)
        .where(
            lines.grant_id == grant.id,
            lines.date >= grant.start_date,
            lines.date <= grant.end_date,
            lines.counted_on <= as_at,
            or_(lines.released_on.is_(None), lines.released_on > as_at),
        )
        .order_by(lines.date, lines.id)
    )
    rows = []
    quarters: dict[tuple[int, int], str] = {}  # (year, month) -> quarter label, worked out once
    for (
        line_id,
        day,
        counted_on,
        reference,
        supplier,
        description,
        code,
        net,
        vat,
        recoverable,
        status,
    ) in session.execute(query):
        claimable = net if recoverable else net + vat
        for moment in (day, counted_on):
            month = (moment.year, moment.month)
            if month not in quarters:
                quarters[month] = str(Period.quarter_of(moment))
        rows.append(
            {
                "id": line_id,
                "date": day.isoformat(),
                "reference": reference,
                "supplier": supplier,
                "description": description,
                "project": code or "",
                "net": money_str(net),
                "vat": money_str(vat),
                "claimable": money_str(claimable),
                "status": status,
                "quarter": quarters[(day.year, day.month)],
                "counted_in": quarters[(counted_on.year, counted_on.month)],
            }
        )
    return rows
