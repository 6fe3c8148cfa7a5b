"""Grants, their payment tranches and allocations (projects), set from a spec so the database
matches a setup file exactly."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from fundtracker.errors import FieldError, NotFoundError, ValidationError
from fundtracker.models import (
    Allocation,
    AssignmentRule,
    Grant,
    Narrative,
    OutcomeMeasure,
    Payment,
    Plan,
    Priority,
    ProfileAmount,
    SpendLine,
    Weight,
)
from fundtracker.outcomes import listed_targets, stored_targets
from fundtracker.periods import quarters_between
from fundtracker.services.locks import refuse_locked_allocation
from fundtracker.setup_files import AllocationSpec, GrantSpec, OutcomeSpec, PaymentSpec
from fundtracker.storage import Database


def find_grant(session: Session, reference: str) -> Grant:
    """The grant row alone (what an operation changes or checks), nothing loaded with it."""
    grant = session.scalar(select(Grant).where(Grant.reference == reference))
    if grant is None:
        raise NotFoundError(f"no grant with reference '{reference}'")
    return grant


def find_project(session: Session, grant: Grant, code: str) -> Allocation:
    """The grant's project of ``code``; refused naming the grant's projects."""
    project = session.scalar(
        select(Allocation).where(Allocation.grant_id == grant.id, Allocation.code == code)
    )
    if project is None:
        codes = session.scalars(
            select(Allocation.code)
            .where(Allocation.grant_id == grant.id)
            .order_by(Allocation.position)
        )
        known = ", ".join(codes) or "none yet"
        raise NotFoundError(
            f"project {code!r} is not a project of grant {grant.reference} (its projects: {known})"
        )
    return project


def get_grant(session: Session, reference: str) -> Grant:
    grant = session.scalar(
        select(Grant)
        .where(Grant.reference == reference)
        .options(
            selectinload(Grant.payments),
            selectinload(Grant.allocations)
            .selectinload(Allocation.weights)
            .selectinload(Weight.priority)
            .selectinload(Priority.plan),
            selectinload(Grant.allocations).selectinload(Allocation.profile),
            selectinload(Grant.allocations).selectinload(Allocation.outcomes),
            selectinload(Grant.aligned_plan).selectinload(Plan.priorities),
            selectinload(Grant.local_plan).selectinload(Plan.priorities),
        )
    )
    if grant is None:
        raise NotFoundError(f"no grant with reference '{reference}'")
    return grant


def load_grant(db: Database, reference: str) -> Grant:
    """A detached grant with its payments, allocations, weights and plans, for reading."""
    with db.read() as session:
        return get_grant(session, reference)


def list_grants(db: Database) -> list[Grant]:
    with db.read() as session:
        return list(
            session.scalars(select(Grant).order_by(Grant.start_date.desc(), Grant.reference))
        )


def import_grant(db: Database, spec: GrantSpec, reason: str = "") -> tuple[Grant, bool]:
    """Create or update the grant named by ``spec.reference`` so it matches the spec.

    Allocations, payments and weights missing from the spec are removed (audited), unless
    spend lines still refer to an allocation. Refused as a whole on any problem.
    """
    with db.unit_of_work(reason) as session:
        plans = _plans_for(session, spec)
        existing = session.scalar(select(Grant.id).where(Grant.reference == spec.reference))
        grant = get_grant(session, spec.reference) if existing else Grant(reference=spec.reference)
        created = existing is None
        if created:
            session.add(grant)
        _apply_grant_fields(grant, spec, plans)
        _apply_payments(grant, spec.payments)
        session.flush()
        _apply_allocations(session, grant, spec.allocations, plans)
        session.flush()
        return grant, created


def _plans_for(session: Session, spec: GrantSpec) -> dict[str, Plan]:
    """The plans the spec names, with every unknown plan or priority code reported."""
    wanted = {spec.aligned_plan} | ({spec.local_plan} if spec.local_plan else set())
    for allocation in spec.allocations:
        wanted |= set(allocation.weights)
    plans = {
        p.key: p
        for p in session.scalars(
            select(Plan).where(Plan.key.in_(wanted)).options(selectinload(Plan.priorities))
        )
    }
    errors = []
    for key, place in [
        (spec.aligned_plan, "grant.aligned_plan"),
        (spec.local_plan, "grant.local_plan"),
    ]:
        if key and key not in plans:
            errors.append(FieldError(place, f"unknown plan '{key}' (import the plan file first)"))
    for allocation in spec.allocations:
        for plan_key, weights in allocation.weights.items():
            plan = plans.get(plan_key)
            place = f"allocation {allocation.code}"
            if plan is None:
                errors.append(FieldError(place, f"unknown plan '{plan_key}' (import it first)"))
                continue
            codes = {p.code for p in plan.priorities}
            unknown = sorted(set(weights) - codes)
            if unknown:
                errors.append(
                    FieldError(place, f"unknown priority {', '.join(unknown)} in plan {plan_key}")
                )
    aligned = plans.get(spec.aligned_plan)
    codes = {p.code for p in aligned.priorities} if aligned else set()
    for allocation in spec.allocations:
        for outcome in allocation.outcomes:
            if aligned and outcome.priority and outcome.priority not in codes:
                errors.append(
                    FieldError(
                        f"allocation {allocation.code}: outcome {outcome.code}",
                        f"priority {outcome.priority} is not a priority of {spec.aligned_plan}",
                    )
                )
    if errors:
        raise ValidationError(errors)
    return plans


def _apply_grant_fields(grant: Grant, spec: GrantSpec, plans: dict[str, Plan]) -> None:
    grant.name, grant.funder, grant.recipient = spec.name, spec.funder, spec.recipient
    grant.award, grant.start_date, grant.end_date = spec.award, spec.start, spec.end
    grant.return_frequency, grant.conditions = spec.return_frequency, spec.conditions
    grant.aligned_plan = plans[spec.aligned_plan]
    grant.local_plan = plans[spec.local_plan] if spec.local_plan else None


def _apply_payments(grant: Grant, specs: list[PaymentSpec]) -> None:
    """Payments have no key of their own: match them by their place in the list."""
    payments = list(grant.payments)
    for position, spec in enumerate(specs):
        payment = payments[position] if position < len(payments) else Payment()
        payment.date, payment.amount, payment.received = spec.date, spec.amount, spec.received
        payment.received_on = spec.received_on
        payment.position = position
        if position >= len(payments):
            payments.append(payment)
    grant.payments = payments[: len(specs)]


def _apply_allocations(
    session: Session, grant: Grant, specs: list[AllocationSpec], plans: dict[str, Plan]
) -> None:
    current = {a.code: a for a in grant.allocations}
    quarters = len(quarters_between(grant.start_date, grant.end_date))
    errors: list[FieldError] = []
    ordered = []
    for position, spec in enumerate(specs):
        if spec.profile is not None and len(spec.profile) != quarters:
            errors.append(
                FieldError(
                    f"allocation {spec.code}",
                    f"profile has {len(spec.profile)} amounts; the grant has {quarters} quarters",
                )
            )
            continue
        allocation = current.pop(spec.code, None)
        if allocation is None:
            allocation = Allocation(code=spec.code, grant=grant)
            session.add(allocation)
        elif allocation.budget != spec.budget:
            refuse_locked_allocation(session, grant, spec.code, "budget")
        _apply_allocation(session, grant, allocation, spec, plans, position)
        ordered.append(allocation)
    for code, allocation in current.items():
        if _has_spend(session, allocation):
            errors.append(
                FieldError(
                    f"allocation {code}",
                    "is missing from the file but spend lines refer to it; reassign them first",
                )
            )
        else:
            refuse_locked_allocation(session, grant, code, "removal")
            _delete_project_records(session, allocation)
            session.delete(allocation)
    if errors:
        raise ValidationError(errors)
    grant.allocations = ordered


def _delete_project_records(session: Session, allocation: Allocation) -> None:
    """A removed project's narratives and assignment rules, deleted by name so each is in the
    audit log (the database would otherwise drop them by cascade, unseen)."""
    for model in (Narrative, AssignmentRule):
        for row in session.scalars(select(model).where(model.allocation_id == allocation.id)):
            session.delete(row)


def _has_spend(session: Session, allocation: Allocation) -> bool:
    count = session.scalar(
        select(func.count()).select_from(SpendLine).where(SpendLine.allocation_id == allocation.id)
    )
    return bool(count)


def _apply_allocation(
    session: Session,
    grant: Grant,
    allocation: Allocation,
    spec: AllocationSpec,
    plans: dict[str, Plan],
    position: int,
) -> None:
    allocation.name, allocation.lead, allocation.description = (
        spec.name,
        spec.lead,
        spec.description,
    )
    allocation.budget, allocation.cost_centre = spec.budget, spec.cost_centre
    allocation.status, allocation.position = spec.status, position
    if allocation.id is not None and _profile_of(allocation) != (spec.profile or []):
        refuse_locked_allocation(session, grant, spec.code, "quarterly profile")
    _apply_profile(allocation, spec.profile)
    wanted = {
        plans[plan_key].priorities[_index(plans[plan_key], code)].id: points
        for plan_key, weights in spec.weights.items()
        for code, points in weights.items()
    }
    have = {w.priority_id: w.basis_points for w in allocation.weights}
    if have != wanted and allocation.id is not None:
        refuse_locked_allocation(session, grant, spec.code, "priority weights")
    by_priority = {w.priority_id: w for w in allocation.weights}
    kept = []
    for priority_id, points in wanted.items():
        weight = by_priority.pop(priority_id, None) or Weight(priority_id=priority_id)
        weight.basis_points = points
        kept.append(weight)
    allocation.weights = kept
    _apply_outcomes(session, grant, allocation, spec.outcomes)


def _apply_outcomes(
    session: Session, grant: Grant, allocation: Allocation, specs: list[OutcomeSpec]
) -> None:
    """Measures matched by code; one missing from the file goes with its actuals (audited,
    by the ORM). Targets stand under a submitted return, like weights."""
    if [_outcome_spec(m) for m in allocation.outcomes] != specs and allocation.id is not None:
        refuse_locked_allocation(session, grant, allocation.code, "outcome measures")
    by_code = {m.code: m for m in allocation.outcomes}
    kept = []
    for position, spec in enumerate(specs):
        measure = by_code.pop(spec.code, None) or OutcomeMeasure(code=spec.code)
        measure.title, measure.unit, measure.priority = spec.title, spec.unit, spec.priority
        measure.target, measure.quarter_targets = spec.target, stored_targets(spec.targets)
        measure.position = position
        kept.append(measure)
    for measure in by_code.values():  # dropped from the file: deleted by name, so the audit
        session.delete(measure)  # log names each, and its actuals, with its project
    session.flush()
    session.expire(allocation, ["outcomes"])
    allocation.outcomes = kept


def _index(plan: Plan, code: str) -> int:
    return next(i for i, p in enumerate(plan.priorities) if p.code == code)


def _profile_of(allocation: Allocation) -> list[Decimal]:
    return [p.amount for p in sorted(allocation.profile, key=lambda p: p.quarter_index)]


def _apply_profile(allocation: Allocation, profile: list[Decimal] | None) -> None:
    if profile is None:
        allocation.profile = []
        return
    by_quarter = {p.quarter_index: p for p in allocation.profile}
    amounts = []
    for index, amount in enumerate(profile):
        item = by_quarter.get(index) or ProfileAmount(quarter_index=index)
        item.amount = amount
        amounts.append(item)
    allocation.profile = amounts


def grant_spec(grant: Grant) -> GrantSpec:
    """The setup-file form of a stored grant (export writes it; import reads it back)."""
    return GrantSpec(
        reference=grant.reference,
        name=grant.name,
        funder=grant.funder,
        recipient=grant.recipient,
        award=grant.award,
        start=grant.start_date,
        end=grant.end_date,
        return_frequency=grant.return_frequency,
        aligned_plan=grant.aligned_plan.key,
        local_plan=grant.local_plan.key if grant.local_plan else None,
        conditions=grant.conditions,
        payments=[PaymentSpec(p.date, p.amount, p.received, p.received_on) for p in grant.payments],
        allocations=[_allocation_spec(a) for a in grant.allocations],
    )


def _allocation_spec(allocation: Allocation) -> AllocationSpec:
    weights: dict[str, dict[str, int]] = {}
    ordered = sorted(allocation.weights, key=lambda w: (w.priority.plan.key, w.priority.position))
    for weight in ordered:
        weights.setdefault(weight.priority.plan.key, {})[weight.priority.code] = weight.basis_points
    return AllocationSpec(
        code=allocation.code,
        name=allocation.name,
        lead=allocation.lead,
        description=allocation.description,
        budget=allocation.budget,
        cost_centre=allocation.cost_centre,
        status=allocation.status,
        profile=[p.amount for p in allocation.profile] or None,
        weights=weights,
        outcomes=[_outcome_spec(m) for m in allocation.outcomes],
    )


def _outcome_spec(measure: OutcomeMeasure) -> OutcomeSpec:
    return OutcomeSpec(
        code=measure.code,
        title=measure.title,
        unit=measure.unit,
        target=measure.target,
        priority=measure.priority,
        targets=listed_targets(measure.quarter_targets),
    )
