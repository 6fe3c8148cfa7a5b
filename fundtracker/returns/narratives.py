"""What the officer says about each project in each return period: RAG status, outputs and
outcomes, variance explanation, and an optional forecast outturn the figures engine uses from
that period until a later one is entered. A forecast below what the project has already spent
and committed is refused; a project that has spent and committed more than its budget is Red
whatever its forecast or RAG override."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundtracker.errors import FieldError, FundtrackerError, NotFoundError, ValidationError
from fundtracker.figures import AllocationFigures, build_report, check_period
from fundtracker.models import RAG_VALUES, Allocation, Grant, Narrative
from fundtracker.money import format_money, parse_money
from fundtracker.periods import Period
from fundtracker.services.grants import get_grant
from fundtracker.services.locks import refuse_submitted_period
from fundtracker.storage import Database

FIELDS = ("rag", "outputs", "variance_explanation", "forecast")
TEXT_LIMIT = 10_000
GREEN_LIMIT = Decimal("0.05")  # |variance| up to 5% of the budget is Green
AMBER_LIMIT = Decimal("0.15")  # up to 15% Amber, beyond that Red


def computed_rag(budget: Decimal, variance: Decimal) -> str:
    """The RAG a project gets when the officer has not set one."""
    size = abs(variance)
    if size <= abs(budget) * GREEN_LIMIT:
        return "G"
    if size <= abs(budget) * AMBER_LIMIT:
        return "A"
    return "R"


def project_rag(figures: AllocationFigures, override: str | None) -> tuple[str, bool]:
    """The RAG a return shows for a project, and whether it was worked out (not the
    officer's). Spent and committed beyond the budget is Red whatever the forecast or the
    override (an override can only ever make a RAG redder than that, and R is the reddest);
    otherwise the officer's override, or the one computed from the variance."""
    if figures.overspent:
        return "R", override != "R"
    if override:
        return override, False
    return computed_rag(figures.budget, figures.variance), True


def parse_values(values: Mapping[str, object]) -> dict[str, Any]:
    """Typed narrative fields; an empty rag or forecast clears it. Every problem together."""
    parsed: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, raw in values.items():
        try:
            parsed[name] = _parse(name, raw)
        except (ValueError, FundtrackerError) as exc:
            errors.append(FieldError(name, str(exc)))
    if errors:
        raise ValidationError(errors)
    return parsed


def _parse(name: str, raw: object) -> Any:
    if name not in FIELDS:
        raise ValueError("is not a field of a narrative")
    if name == "forecast":
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        return parse_money(raw)
    text = "" if raw is None else str(raw)
    if name == "rag":
        rag = text.strip().upper()
        if rag and rag not in RAG_VALUES:
            raise ValueError(f"must be G, A or R (got '{text}')")
        return rag or None
    if len(text) > TEXT_LIMIT:
        raise ValueError(f"is {len(text)} characters long; at most {TEXT_LIMIT} are kept")
    return text


def set_narrative(
    db: Database,
    grant_reference: str,
    period: Period,
    allocation_code: str,
    values: Mapping[str, object],
    reason: str = "",
) -> Narrative:
    """Set some fields of a project's narrative for a period (audited); others are kept.

    Refused while the period's return is submitted: the narrative is part of it.
    """
    fields = parse_values(values)
    if fields.get("forecast") is not None:
        _refuse_forecast_below_spend(db, grant_reference, period, allocation_code, fields)
    with db.unit_of_work(reason) as session:
        grant = get_grant(session, grant_reference)
        check_period(grant, period)
        refuse_submitted_period(session, grant, period, f"the narratives of {period}")
        allocation = _allocation(grant, allocation_code)
        narrative = _find(session, allocation, period) or Narrative(
            grant_id=grant.id,
            allocation=allocation,
            period=str(period),
            outputs="",
            variance_explanation="",
        )
        for name, value in fields.items():
            setattr(narrative, name, value)
        session.add(narrative)
        session.flush()
        return narrative


def _refuse_forecast_below_spend(
    db: Database, grant_reference: str, period: Period, code: str, fields: dict[str, Any]
) -> None:
    """A forecast outturn below what is already spent and committed cannot come true."""
    report = build_report(db, grant_reference, period)
    try:
        figures = report.allocation(code)
    except KeyError:
        return  # set_narrative names the unknown project
    forecast: Decimal = fields["forecast"]
    if forecast < figures.spent_and_committed:
        raise ValidationError(
            FieldError(
                "forecast",
                f"{format_money(forecast)} is less than the "
                f"{format_money(figures.spent_and_committed)} already spent and committed "
                f"on {code} by the end of {period}",
            )
        )


def _allocation(grant: Grant, code: str) -> Allocation:
    for allocation in grant.allocations:
        if allocation.code == code:
            return allocation
    codes = ", ".join(a.code for a in grant.allocations) or "none yet"
    raise NotFoundError(f"grant {grant.reference} has no project '{code}' (its projects: {codes})")


def _find(session: Session, allocation: Allocation, period: Period) -> Narrative | None:
    return session.scalar(
        select(Narrative).where(
            Narrative.allocation_id == allocation.id, Narrative.period == str(period)
        )
    )


def get_narratives(db: Database, grant_reference: str, period: Period) -> dict[str, Narrative]:
    """The period's narratives by project code (projects without one are absent)."""
    with db.read() as session:
        return narratives_by_code(session, get_grant(session, grant_reference), period)


def narratives_by_code(session: Session, grant: Grant, period: Period) -> dict[str, Narrative]:
    codes = {a.id: a.code for a in grant.allocations}
    rows = session.scalars(
        select(Narrative).where(Narrative.grant_id == grant.id, Narrative.period == str(period))
    )
    return {codes[n.allocation_id]: n for n in rows if n.allocation_id in codes}
