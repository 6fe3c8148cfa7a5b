"""The next year: the following financial year's grant started from this one, and the lines
dated in the new year moved over to it in one step.

Budgets (docs/FIGURES.md, *The next year*): without a new award every project keeps today's
budget (its budget after the virements recorded). With one, the new total is the allocated
total × new award ÷ old award, rounded half up to the penny, split in proportion to today's
budgets by largest remainder (ties to the first project). Each project's quarterly profile
keeps its shape: the new budget split in proportion to the old profile the same way. Its
outcome measures and targets are copied, without actuals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundtracker.errors import FieldError, NotFoundError, ValidationError
from fundtracker.models import (
    Allocation,
    AssignmentRule,
    Grant,
    OutcomeActual,
    OutcomeMeasure,
    Plan,
    ProfileAmount,
    SpendLine,
    Submission,
    Virement,
    Weight,
)
from fundtracker.money import from_pence, split_largest_remainder, to_pence
from fundtracker.periods import financial_year_start, year_label
from fundtracker.services.grants import get_grant
from fundtracker.services.locks import refuse_locked_date
from fundtracker.storage import Database
from fundtracker.year_end import refuse_closed


@dataclass(frozen=True)
class NextYear:
    """What starting the next year did: the new grant's reference and what could not carry."""

    reference: str
    start: date
    end: date
    award: Decimal
    budgets: dict[str, Decimal]
    notes: list[str] = field(default_factory=list)


# --- Arithmetic ------------------------------------------------------------------------------


def scaled_total(allocated: int, new_award: int, old_award: int) -> int:
    """allocated × new ÷ old in pence, rounded half up (all amounts are not negative)."""
    return (2 * allocated * new_award + old_award) // (2 * old_award)


def scaled_budgets(budgets: list[int], new_award: int | None, old_award: int) -> list[int]:
    """The new year's budgets in pence: today's, or scaled to the new award."""
    if new_award is None:
        return list(budgets)
    total = scaled_total(sum(budgets), new_award, old_award)
    if sum(budgets) == 0:
        return [0] * len(budgets)
    return split_largest_remainder(total, budgets)


def profile_shaped(budget: int, old_profile: list[int]) -> list[int] | None:
    """``budget`` spread over the quarters in the shape of the old profile (None: no profile)."""
    if not old_profile or sum(old_profile) <= 0:
        return None
    return split_largest_remainder(budget, old_profile)


def following_day(day: date) -> date:
    """The same day a year later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def following_name(name: str, start: date) -> str:
    """The grant's name with its financial year moved on (2025/26 → 2026/27, 2025-26 too)."""
    first = financial_year_start(start)
    old, new = year_label(first), year_label(first + 1)
    renamed = name.replace(old, new).replace(old.replace("/", "-"), new.replace("/", "-"))
    if renamed == name and not re.search(r"\d{4}[/-]\d{2}", name):
        return f"{name} {new}"
    return renamed


# --- Start the next year ---------------------------------------------------------------------


def todays_budgets(session: Session, grant: Grant) -> list[int]:
    """Each project's budget after every recorded virement, in pence, in project order."""
    moved: dict[int, int] = {a.id: 0 for a in grant.allocations}
    for virement in session.scalars(select(Virement).where(Virement.grant_id == grant.id)):
        pence = to_pence(virement.amount)
        moved[virement.from_allocation_id] = moved.get(virement.from_allocation_id, 0) - pence
        moved[virement.to_allocation_id] = moved.get(virement.to_allocation_id, 0) + pence
    return [to_pence(a.budget) + moved[a.id] for a in grant.allocations]


def start_next_year(
    db: Database,
    grant_reference: str,
    new_reference: str,
    award: Decimal | None = None,
    local_plan: str | None = None,
    reason: str = "",
) -> NextYear:
    """Create the following financial year's grant from ``grant_reference`` (audited)."""
    new_reference = new_reference.strip()
    _refuse_bad_request(new_reference, award)
    with db.unit_of_work(reason or f"start {new_reference} from {grant_reference}") as session:
        old = get_grant(session, grant_reference)
        if session.scalar(select(Grant.id).where(Grant.reference == new_reference)):
            raise ValidationError(
                FieldError("reference", f"a grant {new_reference} already exists; choose another")
            )
        new = _copy_grant(old, new_reference, award)
        new.local_plan = _local_plan(session, old, local_plan)
        session.add(new)
        budgets = scaled_budgets(
            todays_budgets(session, old),
            None if award is None else to_pence(award),
            to_pence(old.award),
        )
        notes: list[str] = []
        for allocation, budget in zip(old.allocations, budgets, strict=True):
            new.allocations.append(_copy_allocation(allocation, budget, new, notes))
        session.flush()
        _copy_rules(session, old, new)
        return NextYear(
            new.reference,
            new.start_date,
            new.end_date,
            new.award,
            {a.code: a.budget for a in new.allocations},
            notes,
        )


def _refuse_bad_request(new_reference: str, award: Decimal | None) -> None:
    if not new_reference:
        raise ValidationError(FieldError("reference", "give the new grant's reference"))
    if len(new_reference) > 100:
        raise ValidationError(FieldError("reference", "is longer than 100 characters"))
    if award is not None and award <= 0:
        raise ValidationError(FieldError("award", f"must be more than £0.00 (got {award})"))


def _copy_grant(old: Grant, reference: str, award: Decimal | None) -> Grant:
    return Grant(
        reference=reference,
        name=following_name(old.name, old.start_date),
        funder=old.funder,
        recipient=old.recipient,
        award=old.award if award is None else award,
        start_date=following_day(old.start_date),
        end_date=following_day(old.end_date),
        return_frequency=old.return_frequency,
        aligned_plan=old.aligned_plan,
        conditions=old.conditions,
    )


def _local_plan(session: Session, old: Grant, key: str | None) -> Plan | None:
    if key is None:
        return old.local_plan
    plan = session.scalar(select(Plan).where(Plan.key == key))
    if plan is None:
        raise ValidationError(
            FieldError("local plan", f"no plan with key '{key}'; import it first")
        )
    return plan


def _copy_allocation(old: Allocation, budget: int, grant: Grant, notes: list[str]) -> Allocation:
    new = Allocation(
        code=old.code,
        name=old.name,
        lead=old.lead,
        description=old.description,
        budget=from_pence(budget),
        cost_centre=old.cost_centre,
        status=old.status if old.status != "closed" else "active",
        position=old.position,
    )
    profile = profile_shaped(budget, [to_pence(p.amount) for p in old.profile])
    if profile is not None:
        new.profile = [
            ProfileAmount(quarter_index=i, amount=from_pence(p)) for i, p in enumerate(profile)
        ]
    new.weights = _copied_weights(old, grant, notes)
    # The same measures and targets, to be reviewed against the new grant schedule; the new
    # year starts with no actuals.
    new.outcomes = [
        OutcomeMeasure(
            code=m.code,
            title=m.title,
            unit=m.unit,
            priority=m.priority,
            target=m.target,
            quarter_targets=m.quarter_targets,
            position=m.position,
        )
        for m in old.outcomes
    ]
    return new


def _copied_weights(old: Allocation, grant: Grant, notes: list[str]) -> list[Weight]:
    """The same weights. When the local plan changes, its weights are matched by priority
    code; a project whose local weights do not all find a priority of the same code gets none
    for the new plan (they must total 100), and a note says to set them."""
    old_local, new_local = old.grant.local_plan, grant.local_plan
    same_plan = new_local is not None and old_local is not None and old_local.id == new_local.id
    if (old_local is None and new_local is None) or same_plan:
        return [Weight(priority=w.priority, basis_points=w.basis_points) for w in old.weights]
    local_id = old_local.id if old_local is not None else None
    kept = [
        Weight(priority=w.priority, basis_points=w.basis_points)
        for w in old.weights
        if w.priority.plan_id != local_id
    ]
    if new_local is None:
        return kept
    codes = {p.code: p for p in new_local.priorities}
    local = [w for w in old.weights if w.priority.plan_id == local_id]
    if local and all(w.priority.code in codes for w in local):
        kept += [
            Weight(priority=codes[w.priority.code], basis_points=w.basis_points) for w in local
        ]
    elif local:
        notes.append(f"{old.code}: set its weights for {new_local.key}")
    return kept


def _copy_rules(session: Session, old: Grant, new: Grant) -> None:
    ids = {a.code: a.id for a in new.allocations}
    codes = {a.id: a.code for a in old.allocations}
    rules = session.scalars(
        select(AssignmentRule)
        .where(AssignmentRule.grant_id == old.id)
        .order_by(AssignmentRule.position)
    )
    for rule in list(rules):
        session.add(
            AssignmentRule(
                grant_id=new.id,
                field=rule.field,
                operator=rule.operator,
                value=rule.value,
                allocation_id=ids[codes[rule.allocation_id]],
                position=rule.position,
            )
        )


def discard_new_grant(db: Database, reference: str, version: int) -> None:
    """Remove a grant just started (the undo of starting it): refused once it has spend,
    a return or changes someone else made."""
    with db.unit_of_work() as session:
        grant = session.scalar(select(Grant).where(Grant.reference == reference))
        if grant is None:
            raise NotFoundError(f"no grant with reference '{reference}'")
        if grant.version != version:
            raise ValidationError(
                f"grant {reference} was changed since it was started; remove it by hand"
            )
        held = (
            (SpendLine, "spend lines"),
            (Submission, "returns"),
            (OutcomeActual, "outcome actuals"),
        )
        for model, what in held:
            count = session.scalar(
                select(func.count()).select_from(model).where(model.grant_id == grant.id)
            )
            if count:
                raise ValidationError(f"grant {reference} already has {count} {what}")
        session.delete(grant)


# --- Move the new year's lines ---------------------------------------------------------------


def lines_in_new_year(db: Database, old_reference: str, new_reference: str) -> list[SpendLine]:
    """The old grant's lines dated inside the new grant's dates, oldest first."""
    with db.read() as session:
        old = get_grant(session, old_reference)
        new = get_grant(session, new_reference)
        return list(
            session.scalars(
                select(SpendLine)
                .where(
                    SpendLine.grant_id == old.id,
                    SpendLine.date >= new.start_date,
                    SpendLine.date <= new.end_date,
                )
                .order_by(SpendLine.date, SpendLine.id)
            )
        )


def lines_for_next_year(db: Database, old_reference: str) -> list[tuple[int, int]]:
    """(id, version) of the grant's lines dated in the year after its end, oldest first: what
    starting the next year offers to move, before that grant exists."""
    with db.read() as session:
        old = get_grant(session, old_reference)
        rows = session.execute(
            select(SpendLine.id, SpendLine.version)
            .where(
                SpendLine.grant_id == old.id,
                SpendLine.date > old.end_date,
                SpendLine.date <= following_day(old.end_date),
            )
            .order_by(SpendLine.date, SpendLine.id)
        )
        return [(line_id, version) for line_id, version in rows]


def move_lines(
    db: Database, line_versions: list[tuple[int, int]], target_reference: str, reason: str = ""
) -> list[tuple[int, int]]:
    """Move lines (each at the version seen) to the target grant, all or none, keeping their
    project by code (unassigned when the target has no project of that code). A line dated
    after a grant's end is not in that grant's figures, so it may leave (or, on undo, come back
    to) a closed grant; any other line obeys the closed year; both obey the submission lock.
    Returns (id, new version)."""
    moved: list[tuple[int, int]] = []
    with db.unit_of_work(reason or f"move lines to {target_reference}") as session:
        target = get_grant(session, target_reference)
        codes = {a.code: a.id for a in target.allocations}
        for line_id, version in line_versions:
            line = _line_at(session, line_id, version)
            source = session.get_one(Grant, line.grant_id)
            for grant in (source, target):
                if line.date <= grant.end_date:
                    refuse_closed(grant)
            refuse_locked_date(session, source, line.counted_on, f"spend line {line.id}")
            refuse_locked_date(session, target, line.date, f"spend line {line.id}")
            code = line.allocation.code if line.allocation else None
            line.grant_id = target.id
            line.allocation_id = codes.get(code) if code else None
            line.counted_on = line.date
            session.flush()
            moved.append((line.id, line.version))
    return moved


def _line_at(session: Session, line_id: int, version: int) -> SpendLine:
    line = session.get(SpendLine, line_id)
    if line is None:
        raise NotFoundError(f"spend line {line_id} no longer exists; nothing was moved")
    if line.version != version:
        raise ValidationError(
            f"spend line {line_id} was changed by someone else since you saw it; nothing was moved"
        )
    return line


def grant_of_line(db: Database, line_id: int) -> str:
    with db.read() as session:
        line = session.get_one(SpendLine, line_id)
        return session.get_one(Grant, line.grant_id).reference
