"""Virements: budget moved from one project to another with the funder's written approval.

A virement is recorded, never edited into the budgets: each project keeps its original budget
and profile, and the figures engine applies every virement to reports of periods ending on or
after its effective date (``figures.budget_at``). So a submitted return never changes, and
``SUBMITTED_CHANGED`` has nothing to say about a recorded virement. The effective date must
be after the end of the latest submitted period.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fundtracker.dates import parse_date
from fundtracker.errors import FieldError, FundtrackerError, LockedError, ValidationError
from fundtracker.figures import budget_at
from fundtracker.models import Allocation, Grant, Virement
from fundtracker.money import format_money, from_pence, money_str, parse_money
from fundtracker.services.grants import get_grant
from fundtracker.services.locks import locked_until
from fundtracker.storage import Database
from fundtracker.year_end import refuse_closed

APPROVAL_LIMIT = 200
NOTE_LIMIT = 4000


@dataclass(frozen=True)
class VirementRequest:
    """A virement as asked for, every field parsed."""

    from_code: str
    to_code: str
    amount: Decimal
    approval: str
    approved_on: date
    effective: date
    note: str


def parse_request(values: Mapping[str, object]) -> VirementRequest:
    """Typed fields (``from``, ``to``, ``amount``, ``approval``, ``approved_on``, ``effective``,
    ``note``), every problem reported together against its field."""
    errors: list[FieldError] = []
    parsed: dict[str, Any] = {}
    for name, parse in _PARSERS.items():
        try:
            parsed[name] = parse(values.get(name))
        except (ValueError, FundtrackerError) as exc:
            errors.append(FieldError(name, str(exc)))
    if not errors and parsed["from"] == parsed["to"]:
        errors.append(FieldError("to", "must be another project than the one it comes from"))
    if errors:
        raise ValidationError(errors)
    return VirementRequest(
        parsed["from"],
        parsed["to"],
        parsed["amount"],
        parsed["approval"],
        parsed["approved_on"],
        parsed["effective"],
        parsed["note"],
    )


def _code(raw: object) -> str:
    code = "" if raw is None else str(raw).strip()
    if not code:
        raise ValueError("is required (a project code)")
    return code


def _amount(raw: object) -> Decimal:
    if raw is None or not str(raw).strip():
        raise ValueError("is required")
    amount = parse_money(raw)
    if amount <= 0:
        raise ValueError(f"must be more than £0.00 (got {format_money(amount)})")
    return amount


def _approval(raw: object) -> str:
    text = "" if raw is None else str(raw).strip()
    if not text:
        raise ValueError("is required: the OPCC's approval reference (email, letter or decision)")
    if len(text) > APPROVAL_LIMIT:
        raise ValueError(f"is {len(text)} characters long; at most {APPROVAL_LIMIT} are kept")
    return text


def _day(raw: object) -> date:
    if isinstance(raw, date):
        return raw
    if raw is None or not str(raw).strip():
        raise ValueError("is required (a date)")
    return parse_date(str(raw))


def _note(raw: object) -> str:
    text = "" if raw is None else str(raw).strip()
    if len(text) > NOTE_LIMIT:
        raise ValueError(f"is {len(text)} characters long; at most {NOTE_LIMIT} are kept")
    return text


_PARSERS = {
    "from": _code,
    "to": _code,
    "amount": _amount,
    "approval": _approval,
    "approved_on": _day,
    "effective": _day,
    "note": _note,
}


def add_virement(
    db: Database, grant_reference: str, values: Mapping[str, object], reason: str = ""
) -> Virement:
    """Record a virement (audited), refused whole on any problem."""
    request = parse_request(values)
    with db.unit_of_work(reason) as session:
        grant = get_grant(session, grant_reference)
        refuse_closed(grant, "budgets")
        source = _project(grant, request.from_code, "from")
        target = _project(grant, request.to_code, "to")
        _refuse_effective(session, grant, request.effective)
        _refuse_overdrawn(session, grant, source, request)
        virement = Virement(
            grant_id=grant.id,
            from_allocation_id=source.id,
            to_allocation_id=target.id,
            amount=request.amount,
            approval=request.approval,
            approved_on=request.approved_on,
            effective=request.effective,
            note=request.note,
        )
        session.add(virement)
        session.flush()
        return virement


def _project(grant: Grant, code: str, field: str) -> Allocation:
    for allocation in grant.allocations:
        if allocation.code == code:
            return allocation
    codes = ", ".join(a.code for a in grant.allocations) or "none yet"
    message = f"'{code}' is not a project of grant {grant.reference} (its projects: {codes})"
    raise ValidationError(FieldError(field, message))


def _refuse_effective(session: Session, grant: Grant, effective: date) -> None:
    if not grant.start_date <= effective <= grant.end_date:
        raise ValidationError(
            FieldError(
                "effective",
                f"{effective:%d/%m/%Y} is outside grant {grant.reference} "
                f"({grant.start_date:%d/%m/%Y} to {grant.end_date:%d/%m/%Y})",
            )
        )
    submission = locked_until(session, grant.id)
    if submission is not None and effective <= submission.period_end:
        raise LockedError(
            f"a virement effective {effective:%d/%m/%Y} would change the return for "
            f"{submission.period}, already submitted: the effective date must be after "
            f"{submission.period_end:%d/%m/%Y}"
        )


def _refuse_overdrawn(
    session: Session, grant: Grant, source: Allocation, request: VirementRequest
) -> None:
    """A project cannot give more than its budget as it stands on the effective date."""
    earlier = list(
        session.scalars(
            select(Virement)
            .where(Virement.grant_id == grant.id, Virement.effective <= request.effective)
            .order_by(Virement.effective, Virement.id)
        )
    )
    available = from_pence(budget_at(grant, source, earlier).budget)
    if request.amount > available:
        raise ValidationError(
            FieldError(
                "amount",
                f"{format_money(request.amount)} is more than the {format_money(available)} "
                f"budget {source.code} has on {request.effective:%d/%m/%Y}",
            )
        )


def delete_virement(db: Database, virement_id: int, reason: str = "") -> Virement:
    """Remove a virement (the undo of recording one): refused once a submitted return
    includes it."""
    with db.unit_of_work(reason) as session:
        virement = session.get(Virement, virement_id)
        if virement is None:
            raise ValidationError(FieldError("virement", f"no virement with id {virement_id}"))
        grant = session.get_one(Grant, virement.grant_id)
        refuse_closed(grant, "budgets")
        submission = locked_until(session, grant.id)
        if submission is not None and virement.effective <= submission.period_end:
            raise LockedError(
                f"virement {virement.approval} is in the return for {submission.period}, "
                "already submitted; reopen it first"
            )
        session.delete(virement)
        return virement


def list_virements(db: Database, grant_reference: str) -> list[dict[str, Any]]:
    """Every virement of the grant, by effective date (JSON keys are a contract)."""
    with db.read() as session:
        grant = get_grant(session, grant_reference)
        codes = {a.id: a.code for a in grant.allocations}
        rows = session.scalars(
            select(Virement)
            .where(Virement.grant_id == grant.id)
            .order_by(Virement.effective, Virement.id)
        )
        return [virement_to_dict(v, codes) for v in rows]


def virement_to_dict(virement: Virement, codes: Mapping[int, str]) -> dict[str, Any]:
    return {
        "id": virement.id,
        "from": codes.get(virement.from_allocation_id, ""),
        "to": codes.get(virement.to_allocation_id, ""),
        "amount": money_str(virement.amount),
        "approval": virement.approval,
        "approved_on": virement.approved_on.isoformat(),
        "effective": virement.effective.isoformat(),
        "note": virement.note,
    }
