"""Plans and their priorities."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from fundtracker.errors import FieldError, NotFoundError, ValidationError
from fundtracker.models import Plan, Priority, Weight
from fundtracker.services.locks import refuse_locked_priority
from fundtracker.setup_files import PlanSpec, PrioritySpec
from fundtracker.storage import Database


def import_plan(db: Database, spec: PlanSpec, reason: str = "") -> tuple[Plan, bool]:
    """Create or update a plan (by key) to match ``spec``. Returns the plan and whether it is new.

    Priorities are matched by code; ones missing from the spec are removed.
    """
    with db.unit_of_work(reason) as session:
        plan = session.scalar(select(Plan).where(Plan.key == spec.key))
        created = plan is None
        if plan is None:
            plan = Plan(key=spec.key)
            session.add(plan)
        plan.name, plan.owner, plan.kind = spec.name, spec.owner, spec.kind
        plan.effective_from, plan.effective_to = spec.effective_from, spec.effective_to
        _refuse_dropping_weighted(session, plan, spec)
        _apply_priorities(session, plan, spec.priorities)
        session.flush()
        return plan, created


def _refuse_dropping_weighted(session: Session, plan: Plan, spec: PlanSpec) -> None:
    """A priority that projects weigh on stays: dropping it would delete their weights (and
    change submitted figures) without a trace. Retire it instead."""
    kept = {p.code for p in spec.priorities}
    dropped = [p for p in plan.priorities if p.code not in kept]
    if not dropped:
        return
    weighted = session.scalars(
        select(Priority.code)
        .join(Weight, Weight.priority_id == Priority.id)
        .where(Priority.id.in_([p.id for p in dropped]))
        .distinct()
    ).all()
    if weighted:
        raise ValidationError(
            [
                FieldError(
                    f"priority {code}",
                    f"is missing from the file but projects have weights on it in plan "
                    f"{plan.key}; keep it in the file (retire it to stop new weights)",
                )
                for code in sorted(weighted)
            ]
        )


def _apply_priorities(session: Session, plan: Plan, specs: list[PrioritySpec]) -> None:
    existing = {p.code: p for p in plan.priorities}
    ordered: list[Priority] = []
    for position, spec in enumerate(specs):
        priority = existing.pop(spec.code, None) or Priority(code=spec.code)
        if priority.id is not None and priority.title != spec.title:
            name = f"priority {spec.code} of plan {plan.key}"
            refuse_locked_priority(session, priority.id, name, "title")
        priority.title, priority.description = spec.title, spec.description
        priority.parent_code, priority.position = spec.parent, position
        ordered.append(priority)
    plan.priorities = ordered


def list_plans(db: Database) -> list[Plan]:
    with db.read() as session:
        return list(
            session.scalars(
                select(Plan)
                .options(selectinload(Plan.priorities))
                .order_by(Plan.effective_from, Plan.key)
            )
        )


def get_plan(session: Session, key: str) -> Plan:
    plan = session.scalar(select(Plan).where(Plan.key == key))
    if plan is None:
        raise NotFoundError(f"no plan with key '{key}'")
    return plan


def plan_spec(plan: Plan) -> PlanSpec:
    return PlanSpec(
        plan.key,
        plan.name,
        plan.owner,
        plan.kind,
        plan.effective_from,
        plan.effective_to,
        [PrioritySpec(p.code, p.title, p.description, p.parent_code) for p in plan.priorities],
    )
