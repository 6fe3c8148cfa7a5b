"""Setting up a grant in one step: the new-grant assistant's *Finish*.

``SetUpGrant`` creates the plans the officer made in the assistant (or picked from a template)
and the grant with its payments and projects, in one unit of work: one audit reason, one undo
step. Its inverse, ``RemoveSetUpGrant``, takes away exactly what it created, and refuses whole
when anything was changed or added since (a spend line, a rule, a payment, another grant using
one of the plans): undoing a setup must never throw away work done on top of it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Table, func, or_, select
from sqlalchemy.orm import Session

from fundtracker.checks import Finding, run_checks
from fundtracker.errors import ConflictError, FieldError, ValidationError
from fundtracker.models import Allocation, Base, Grant, Plan, Priority, Weight
from fundtracker.money import ZERO
from fundtracker.operations import Changes, Kind, Operation, changes
from fundtracker.periods import Period, quarters_between
from fundtracker.services.grants import get_grant, grant_spec, import_grant
from fundtracker.services.plans import import_plan, plan_spec
from fundtracker.setup_files import (
    GrantSpec,
    PlanSpec,
    grant_document,
    plan_to_toml,
    read_grant,
    read_plan,
)
from fundtracker.storage import Database

SETUP_KINDS = (Kind.GRANTS, Kind.GRANT, Kind.ALLOCATIONS, Kind.WEIGHTS, Kind.PLANS)
# Rows a setup creates itself; anything else pointing at the grant was added afterwards.
CREATED_BY_SETUP = frozenset({"grants", "payments", "allocations", "profile_amounts", "weights"})
NOT_DATA = frozenset({"audit_events"})  # the audit trail refers to grants but is not their data


def check_setup(plans: tuple[PlanSpec, ...], grant: GrantSpec) -> None:
    """Everything a setup file would be refused for, plus what only an assistant can get wrong
    (a profile not totalling its budget, a payment outside the grant). Needs no database."""
    for plan in plans:
        read_plan(tomllib.loads(plan_to_toml(plan)))  # the plan file's own checks
        if not plan.priorities:
            raise ValidationError(FieldError(f"plan {plan.name}", "needs at least one priority"))
    read_grant(grant_document(grant))  # weights total 100 per plan, exact amounts, dates...
    errors: list[FieldError] = []
    for number, payment in enumerate(grant.payments, start=1):
        if not grant.start <= payment.date <= grant.end:
            errors.append(
                FieldError(
                    f"payment {number}",
                    f"date {payment.date:%d/%m/%Y} is outside the grant "
                    f"({grant.start:%d/%m/%Y} to {grant.end:%d/%m/%Y})",
                )
            )
    quarters = len(quarters_between(grant.start, grant.end))
    for allocation in grant.allocations:
        if allocation.profile is None:
            continue
        place = f"project {allocation.code}"
        if len(allocation.profile) != quarters:
            errors.append(
                FieldError(place, f"profile has {len(allocation.profile)} quarters, not {quarters}")
            )
        elif sum(allocation.profile, ZERO) != allocation.budget:
            total = sum(allocation.profile, ZERO)
            errors.append(
                FieldError(
                    place, f"profile totals £{total:,.2f}; the budget is £{allocation.budget:,.2f}"
                )
            )
    if errors:
        raise ValidationError(errors)


def _refuse_existing(session: Session, plans: tuple[PlanSpec, ...], grant: GrantSpec) -> None:
    errors = []
    if session.scalar(select(Grant.id).where(Grant.reference == grant.reference)) is not None:
        errors.append(
            FieldError("reference", f"a grant with reference {grant.reference} already exists")
        )
    for plan in plans:
        if session.scalar(select(Plan.id).where(Plan.key == plan.key)) is not None:
            errors.append(FieldError(f"plan {plan.name}", f"a plan keyed {plan.key} exists"))
    if errors:
        raise ValidationError(errors)


@dataclass(frozen=True)
class SetUpGrant(Operation):
    """Create ``plans`` (new ones only) and then ``grant``, which may use them."""

    plans: tuple[PlanSpec, ...]
    grant: GrantSpec

    @property
    def description(self) -> str:
        return f"Set up grant {self.grant.reference}"

    def run(self, db: Database) -> Changes:
        check_setup(self.plans, self.grant)
        with db.read() as session:  # inside run_operation: the operation's own session
            _refuse_existing(session, self.plans, self.grant)
        for plan in self.plans:
            import_plan(db, plan)
        created, _new = import_grant(db, self.grant)
        with db.read() as session:
            grant = get_grant(session, created.reference)
            inverse = RemoveSetUpGrant(grant.reference, grant_spec(grant), self.plans)
        return changes(self.description, self.grant.reference, SETUP_KINDS, inverse, grant)


@dataclass(frozen=True)
class RemoveSetUpGrant(Operation):
    """Take away a grant set up by ``SetUpGrant`` and the plans it made, as they were made."""

    reference: str
    spec: GrantSpec  # the grant as set up: any difference now means someone changed it
    plans: tuple[PlanSpec, ...]  # the plans it made, as made (and for redo)

    @property
    def description(self) -> str:
        return f"Remove grant {self.reference}"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            grant = self._unchanged_grant(session)
            self._refuse_added(session, grant)
            plans = [self._unused_plan(session, made) for made in self.plans]
            session.delete(grant)
            session.flush()
            for plan in plans:
                session.delete(plan)
        redo = SetUpGrant(self.plans, self.spec)
        return changes(self.description, None, SETUP_KINDS, redo)

    def _changed(self, what: str) -> ConflictError:
        return ConflictError(
            f"grant {self.reference} cannot be removed: {what} since it was set up; "
            "nothing was changed"
        )

    def _unchanged_grant(self, session: Session) -> Grant:
        if session.scalar(select(Grant.id).where(Grant.reference == self.reference)) is None:
            raise ConflictError(f"grant {self.reference} no longer exists; nothing was changed")
        grant = get_grant(session, self.reference)
        # Values, not versions: a change made and undone since leaves the grant as set up.
        if grant_spec(grant) != self.spec:
            raise self._changed("its details, payments or projects were changed")
        return grant

    def _refuse_added(self, session: Session, grant: Grant) -> None:
        """Refuse when any row other than those the setup made belongs to the grant."""
        allocation_ids = [a.id for a in grant.allocations]
        for table in Base.metadata.sorted_tables:
            if table.name in CREATED_BY_SETUP | NOT_DATA:
                continue
            if _count_rows(session, table, grant.id, allocation_ids):
                raise self._changed(f"{table.name.replace('_', ' ')} were added to it")

    def _unused_plan(self, session: Session, made: PlanSpec) -> Plan:
        plan = session.scalar(select(Plan).where(Plan.key == made.key))
        if plan is None:
            raise ConflictError(f"plan {made.key} no longer exists; nothing was changed")
        if plan_spec(plan) != made:
            raise self._changed(f"plan {plan.name} was changed")
        other_grant = session.scalar(
            select(func.count())
            .select_from(Grant)
            .where(Grant.reference != self.reference)
            .where(or_(Grant.aligned_plan_id == plan.id, Grant.local_plan_id == plan.id))
        )
        other_weights = session.scalar(
            select(func.count())
            .select_from(Weight)
            .join(Priority, Weight.priority_id == Priority.id)
            .join(Allocation, Weight.allocation_id == Allocation.id)
            .join(Grant, Allocation.grant_id == Grant.id)
            .where(Priority.plan_id == plan.id, Grant.reference != self.reference)
        )
        if other_grant or other_weights:
            raise self._changed(f"another grant now uses plan {plan.name}")
        return plan


def _count_rows(session: Session, table: Table, grant_id: int, allocation_ids: list[int]) -> int:
    """Rows of ``table`` that belong to the grant or to one of its projects."""
    if "grant_id" in table.c:
        condition = table.c.grant_id == grant_id
    elif "allocation_id" in table.c and allocation_ids:
        condition = table.c.allocation_id.in_(allocation_ids)
    else:
        return 0
    return int(session.scalar(select(func.count()).select_from(table).where(condition)) or 0)


class _Preview(Exception):
    """Raised to roll back a setup tried only to see what the checks would say."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("preview")
        self.findings = findings


def preview_period(grant: GrantSpec, today: date) -> Period:
    """The period the checks look at by default: the quarter containing ``today``, kept
    within the grant (as ``figures.default_period`` does for a stored grant)."""
    quarters = quarters_between(grant.start, grant.end)
    if today > grant.end:
        return quarters[-1]
    if today < grant.start:
        return quarters[0]
    return Period.quarter_of(today)


def preview_findings(
    db: Database, operation: SetUpGrant, today: date | None = None
) -> list[Finding]:
    """What the checks would say about the grant once set up, without writing anything: the
    setup runs in a unit of work that is always rolled back. Refusals raise as ``run`` would."""
    try:
        with db.unit_of_work("preview (rolled back)"):
            operation.run(db)
            raise _Preview(run_checks(db, operation.grant.reference, today=today))
    except _Preview as preview:
        return preview.findings
