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

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundtracker.figures import AllocationFigures, Report, report_for
from fundtracker.models import Allocation, Grant, Narrative, SpendLine
from fundtracker.money import money_str
from fundtracker.periods import Period
from fundtracker.returns.narratives import computed_rag, narratives_by_code
from fundtracker.services.grants import get_grant
from fundtracker.storage import Database

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
        "report": report.to_json(),
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
    rag = narrative.rag if narrative and narrative.rag else None
    return {
        "code": figures.code,
        "pcc_priorities": priorities_text(figures, report.grant.aligned_plan.key),
        "local_priorities": priorities_text(figures, local.key if local else None),
        "rag": rag or computed_rag(figures.budget, figures.variance),
        "rag_computed": rag is None,
        "outputs": narrative.outputs if narrative else "",
        "variance_explanation": narrative.variance_explanation if narrative else "",
    }


def transactions(session: Session, grant: Grant, period: Period) -> list[dict[str, Any]]:
    """Every line the figures count: dated from the grant's start to the period end."""
    lines = SpendLine.__table__.c
    query = (
        select(
            lines.id,
            lines.date,
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
            lines.date <= min(period.end, grant.end_date),
        )
        .order_by(lines.date, lines.id)
    )
    rows = []
    quarters: dict[tuple[int, int], str] = {}  # (year, month) -> quarter label, worked out once
    for (
        line_id,
        day,
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
        month = (day.year, day.month)
        if month not in quarters:
            quarters[month] = str(Period.quarter_of(day))
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
                "quarter": quarters[month],
            }
        )
    return rows
