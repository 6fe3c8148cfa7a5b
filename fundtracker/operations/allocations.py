"""Project (allocation) operations: add, update, weights for one plan, profile, remove and
restore. Each checks the version (or, for weights and profiles, the values) the person saw,
honours the submission lock, and returns an inverse built from the rows as they were."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from fundtracker.errors import ConflictError, FieldError, MoneyError, NotFoundError, ValidationError
from fundtracker.models import (
    ALLOCATION_STATUSES,
    Allocation,
    AssignmentRule,
    Grant,
    Narrative,
    Plan,
    ProfileAmount,
    SpendLine,
    Virement,
    Weight,
)
from fundtracker.money import ZERO, format_money, parse_money
from fundtracker.operations import (
    Changes,
    Expected,
    Kind,
    Operation,
    changes,
    expect_version,
    row_state,
)
from fundtracker.operations.outcomes import restored_measure
from fundtracker.periods import quarters_between
from fundtracker.services.grants import find_grant, find_project
from fundtracker.services.locks import refuse_locked_allocation
from fundtracker.setup_files import PercentageError, format_percentage, parse_percentage
from fundtracker.storage import Database
from fundtracker.year_end import refuse_closed

PROJECT_FIELDS = ("code", "name", "description", "lead", "cost_centre", "status", "budget")
# The longest text each field may hold (its column's length, which PostgreSQL enforces).
_TEXT_LIMITS: dict[str, int | None] = {
    "code": 40,
    "name": 300,
    "lead": 300,
    "cost_centre": 60,
    "description": None,
}


# --- Reading what the person typed -----------------------------------------------------


def parse_project_fields(values: Mapping[str, object]) -> dict[str, Any]:
    """The project fields in ``values`` as stored, or a ValidationError naming each bad one."""
    errors: list[FieldError] = []
    parsed: dict[str, Any] = {}
    for name, value in values.items():
        try:
            parsed[name] = _parse_field(name, value)
        except (ValueError, MoneyError) as exc:
            errors.append(FieldError(name.replace("_", " "), str(exc)))
    if errors:
        raise ValidationError(errors)
    return parsed


def _parse_field(name: str, value: object) -> Any:
    if name not in PROJECT_FIELDS:
        raise ValueError(f"is not a project field (fields: {', '.join(PROJECT_FIELDS)})")
    if name == "budget":
        budget = parse_money(value)
        if budget < 0:
            raise ValueError("must be at least £0.00")
        return budget
    if name == "status":
        if value not in ALLOCATION_STATUSES:
            raise ValueError(f"must be one of {', '.join(ALLOCATION_STATUSES)} (got {value!r})")
        return value
    text = "" if value is None else str(value).strip()
    if name in ("code", "name") and not text:
        raise ValueError("is required")
    limit = _TEXT_LIMITS[name]
    if limit is not None and len(text) > limit:
        raise ValueError(f"is {len(text)} characters long; at most {limit}")
    if name == "cost_centre":
        return text or None  # no cost centre is stored as none, as a setup file does
    return text


def parse_weights(plan: str, code: str, weights: Mapping[str, object]) -> dict[str, int]:
    """Weights as typed (priority code -> percentage) in basis points. Empty cells and zeros
    are left out; what is left must total exactly 100 (or be nothing: no weights)."""
    errors: list[FieldError] = []
    points: dict[str, int] = {}
    for priority, value in weights.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        try:
            basis_points = parse_percentage(value, allow_zero=True)
        except PercentageError as exc:
            errors.append(FieldError(f"project {code}: weight {plan}.{priority}", str(exc)))
            continue
        if basis_points:
            points[priority] = basis_points
    total = sum(points.values())
    if not errors and points and total != 10_000:
        errors.append(
            FieldError(
                f"project {code}",
                f"weights for {plan} total {format_percentage(total)}, must be 100",
            )
        )
    if errors:
        raise ValidationError(errors)
    return points


def parse_profile(code: str, amounts: Sequence[object]) -> list[Decimal]:
    errors: list[FieldError] = []
    parsed: list[Decimal] = []
    for number, value in enumerate(amounts, start=1):
        place = f"project {code}: profile quarter {number}"
        try:
            amount = parse_money(value)
        except MoneyError as exc:
            errors.append(FieldError(place, str(exc)))
            continue
        if amount < 0:
            errors.append(FieldError(place, "must be at least £0.00"))
        parsed.append(amount)
    if errors:
        raise ValidationError(errors)
    return parsed


# --- Finding things ----------------------------------------------------------------------


def _refuse_duplicate_code(session: Session, grant: Grant, code: str) -> None:
    taken = session.scalar(
        select(Allocation.id).where(Allocation.grant_id == grant.id, Allocation.code == code)
    )
    if taken is not None:
        raise ValidationError(
            FieldError("code", f"grant {grant.reference} already has a project {code}")
        )


def current_version(db: Database, grant: str, code: str) -> int:
    """The version of a project now (for a command line, which saw nothing before)."""
    with db.read() as session:
        return find_project(session, find_grant(session, grant), code).version


def _load(project: Allocation) -> Allocation:
    """Touch what callers read of a project after its session closes."""
    _ = project.weights, project.profile
    for weight in project.weights:
        _ = weight.priority.plan
    return project


# --- Add and update ----------------------------------------------------------------------

ALLOCATION_KINDS = (Kind.ALLOCATIONS,)


@dataclass(frozen=True)
class AddProject(Operation):
    """A new project of ``grant``: ``values`` hold code and name, and any of the other fields."""

    grant: str
    values: Mapping[str, object]

    @property
    def description(self) -> str:
        return f"Add project {self.values.get('code', '')}".rstrip()

    def run(self, db: Database) -> Changes:
        missing = [
            FieldError(name, "is required") for name in ("code", "name") if name not in self.values
        ]
        if missing:
            raise ValidationError(missing)
        fields = parse_project_fields(self.values)
        with db.unit_of_work() as session:
            grant = find_grant(session, self.grant)
            refuse_closed(grant, "projects")  # a closed year is read-only
            _refuse_duplicate_code(session, grant, fields["code"])
            last = session.scalar(
                select(func.max(Allocation.position)).where(Allocation.grant_id == grant.id)
            )
            project = Allocation(grant_id=grant.id, budget=ZERO, position=(last or 0) + 1)
            for name, value in fields.items():
                setattr(project, name, value)
            session.add(project)
            session.flush()
            inverse = RemoveProject(self.grant, project.code, row_state(project))
            return changes(self.description, self.grant, ALLOCATION_KINDS, inverse, _load(project))


@dataclass(frozen=True)
class UpdateProject(Operation):
    """Change some fields of a project (``values`` may rename it with ``code``, and change its
    budget with the ``profile`` that totals it), refused if it moved on from ``version``; a
    budget change is refused while a return is submitted."""

    grant: str
    code: str
    values: Mapping[str, object]
    version: Expected

    @property
    def description(self) -> str:
        names = ", ".join(name.replace("_", " ") for name in self.values)
        return f"Change {names} of project {self.code}"

    def run(self, db: Database) -> Changes:
        # A new budget and the profile that totals it may change together: "profile" is a
        # list of amounts, one per quarter, or None for even.
        values = {k: v for k, v in self.values.items() if k != "profile"}
        fields = parse_project_fields(values)  # refuse bad input before reading anything
        with_profile = "profile" in self.values
        profile = self.values.get("profile")
        amounts = None if profile is None else parse_profile(self.code, _listed(profile))
        with db.unit_of_work() as session:
            grant = find_grant(session, self.grant)
            refuse_closed(grant, "projects")  # a closed year is read-only
            found = find_project(session, grant, self.code)
            project = expect_version(
                session, Allocation, found.id, self.version, f"project {self.code}"
            )
            before: dict[str, object] = {name: getattr(project, name) for name in fields}
            if with_profile:
                before["profile"] = [p.amount for p in project.profile] or None
            if fields.get("code", project.code) != project.code:
                _refuse_duplicate_code(session, grant, fields["code"])
            if fields.get("budget", project.budget) != project.budget:
                refuse_locked_allocation(session, grant, project.code, "budget")
                if not with_profile:
                    _refuse_budget_off_profile(project, fields["budget"])
            for name, value in fields.items():
                setattr(project, name, value)
            if with_profile:
                if amounts is not None:
                    _refuse_profile(grant, project, amounts)
                _apply_profile(session, project, amounts or [])
            session.flush()
            inverse = UpdateProject(self.grant, project.code, before, row_state(project))
            return changes(self.description, self.grant, ALLOCATION_KINDS, inverse, _load(project))


def _listed(profile: object) -> list[object]:
    if not isinstance(profile, list | tuple):
        raise ValidationError(FieldError("profile", "must be a list of amounts, one a quarter"))
    return list(profile)


def _refuse_budget_off_profile(project: Allocation, budget: Decimal) -> None:
    """A quarterly profile totals its budget: a new budget would leave it wrong."""
    profiled = sum((p.amount for p in project.profile), ZERO)
    if project.profile and profiled != budget:
        raise ValidationError(
            FieldError(
                "budget",
                f"project {project.code}'s quarterly profile totals {format_money(profiled)}; "
                "reset the profile to even, or change it to the new budget, first",
            )
        )


# --- Weights and profile -----------------------------------------------------------------


@dataclass(frozen=True)
class SetWeights(Operation):
    """Set a project's weights in one plan (priority code -> percentage, totalling 100; none
    at all removes them). ``expected`` is what the person saw (priority code -> basis
    points): if the weights differ from it now, someone changed them and this is refused."""

    grant: str
    code: str
    plan: str
    weights: Mapping[str, object]
    expected: Mapping[str, int] | None = None

    @property
    def description(self) -> str:
        return f"Set weights of project {self.code} for {self.plan}"

    def run(self, db: Database) -> Changes:
        wanted = parse_weights(self.plan, self.code, self.weights)
        with db.unit_of_work() as session:
            grant = find_grant(session, self.grant)
            refuse_closed(grant, "projects")  # a closed year is read-only
            project = find_project(session, grant, self.code)
            plan = session.scalar(select(Plan).where(Plan.key == self.plan))
            if plan is None:
                raise NotFoundError(f"no plan with key '{self.plan}'")
            mine = {w.priority.code: w for w in project.weights if w.priority.plan_id == plan.id}
            now = {code: weight.basis_points for code, weight in mine.items()}
            if self.expected is not None and dict(self.expected) != now:
                raise ConflictError(
                    f"the weights of project {self.code} for {plan.name} were changed by "
                    "someone else since you saw them; nothing was changed: look at them again"
                )
            if wanted != now:
                _refuse_priorities(plan, self.code, wanted, now)
                refuse_locked_allocation(session, grant, project.code, "priority weights")
                _apply_weights(session, project, plan, mine, wanted)
                session.flush()
            before = {code: format_percentage(points) for code, points in now.items()}
            inverse = SetWeights(self.grant, self.code, self.plan, before, wanted)
            return changes(self.description, self.grant, (Kind.WEIGHTS,), inverse, _load(project))


def _refuse_priorities(plan: Plan, code: str, wanted: dict[str, int], now: dict[str, int]) -> None:
    """Every weighted priority must be the plan's; a retired one keeps only what it had."""
    by_code = {p.code: p for p in plan.priorities}
    errors: list[FieldError] = []
    for priority, points in wanted.items():
        place = f"project {code}: weight {plan.key}.{priority}"
        if priority not in by_code:
            known = ", ".join(by_code) or "none"
            errors.append(FieldError(place, f"{plan.name} has no priority {priority} ({known})"))
        elif by_code[priority].retired and now.get(priority) != points:
            errors.append(FieldError(place, f"priority {priority} of {plan.name} is retired"))
    if errors:
        raise ValidationError(errors)


def _apply_weights(
    session: Session,
    project: Allocation,
    plan: Plan,
    mine: dict[str, Weight],
    wanted: dict[str, int],
) -> None:
    by_code = {p.code: p for p in plan.priorities}
    kept = [w for w in project.weights if w.priority.plan_id != plan.id]
    for priority, points in wanted.items():
        weight = mine.get(priority) or Weight(priority=by_code[priority])
        weight.basis_points = points
        kept.append(weight)
    for priority in set(mine) - set(wanted):
        session.delete(mine[priority])  # by name: the audit log does not see orphans
    session.flush()  # deleted while still the project's, so the audit log names them
    project.weights = kept


@dataclass(frozen=True)
class SetProfile(Operation):
    """Set a project's quarterly profile: one amount per quarter of the grant, totalling the
    budget; ``amounts=None`` resets it to even (the budget spread evenly, as figures do for a
    project without one). ``expected`` is the profile the person saw (``()`` for even)."""

    grant: str
    code: str
    amounts: Sequence[object] | None
    expected: Sequence[Decimal] | None = None

    @property
    def description(self) -> str:
        if self.amounts is None:
            return f"Reset profile of project {self.code} to even"
        return f"Set profile of project {self.code}"

    def run(self, db: Database) -> Changes:
        wanted = None if self.amounts is None else parse_profile(self.code, self.amounts)
        with db.unit_of_work() as session:
            grant = find_grant(session, self.grant)
            refuse_closed(grant, "projects")  # a closed year is read-only
            project = find_project(session, grant, self.code)
            now = tuple(p.amount for p in project.profile)
            if self.expected is not None and tuple(self.expected) != now:
                raise ConflictError(
                    f"the profile of project {self.code} was changed by someone else since "
                    "you saw it; nothing was changed: look at it again"
                )
            if wanted is not None:
                _refuse_profile(grant, project, wanted)
            if tuple(wanted or ()) != now:
                refuse_locked_allocation(session, grant, project.code, "quarterly profile")
            _apply_profile(session, project, wanted or [])
            session.flush()
            inverse = SetProfile(self.grant, self.code, list(now) or None, tuple(wanted or ()))
            return changes(self.description, self.grant, ALLOCATION_KINDS, inverse, _load(project))


def _refuse_profile(grant: Grant, project: Allocation, amounts: list[Decimal]) -> None:
    quarters = len(quarters_between(grant.start_date, grant.end_date))
    place = f"project {project.code}: profile"
    if len(amounts) != quarters:
        raise ValidationError(
            FieldError(place, f"has {len(amounts)} quarters; the grant has {quarters}")
        )
    total = sum(amounts, ZERO)
    if total != project.budget:
        raise ValidationError(
            FieldError(
                place,
                f"totals {format_money(total)}; it must total the budget, "
                f"{format_money(project.budget)} (or reset it to even)",
            )
        )


def _apply_profile(session: Session, project: Allocation, amounts: list[Decimal]) -> None:
    by_quarter = {p.quarter_index: p for p in project.profile}
    kept = []
    for index, amount in enumerate(amounts):
        item = by_quarter.pop(index, None) or ProfileAmount(quarter_index=index)
        item.amount = amount
        kept.append(item)
    for item in by_quarter.values():
        session.delete(item)  # by name: the audit log does not see orphans
    session.flush()
    project.profile = kept


# --- Remove and restore ------------------------------------------------------------------


def _columns(row: Any, leave_out: tuple[str, ...] = ("version",)) -> dict[str, Any]:
    return {
        c.key: getattr(row, c.key)
        for c in inspect(type(row)).column_attrs
        if c.key not in leave_out
    }


@dataclass(frozen=True)
class RemovedProject:
    """Everything removing a project deleted, so its undo puts back the very same rows."""

    project: dict[str, Any]
    weights: tuple[dict[str, Any], ...]
    profile: tuple[dict[str, Any], ...]
    narratives: tuple[dict[str, Any], ...]
    rules: tuple[dict[str, Any], ...]
    # Each outcome measure with its actuals (the ORM deletes them with the project, audited).
    outcomes: tuple[tuple[dict[str, Any], tuple[dict[str, Any], ...]], ...] = ()


REMOVE_KINDS = (Kind.ALLOCATIONS, Kind.WEIGHTS, Kind.RULES, Kind.RETURNS)


@dataclass(frozen=True)
class RemoveProject(Operation):
    """Remove a project with its weights, profile, narratives and assignment rules, each as an
    audited delete. Refused while spend lines or virements refer to it, or a return is
    submitted."""

    grant: str
    code: str
    version: Expected

    @property
    def description(self) -> str:
        return f"Remove project {self.code}"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            grant = find_grant(session, self.grant)
            refuse_closed(grant, "projects")  # a closed year is read-only
            found = find_project(session, grant, self.code)
            project = expect_version(
                session, Allocation, found.id, self.version, f"project {self.code}"
            )
            _refuse_in_use(session, project)
            refuse_locked_allocation(session, grant, project.code, "removal")
            narratives = list(
                session.scalars(select(Narrative).where(Narrative.allocation_id == project.id))
            )
            rules = list(
                session.scalars(
                    select(AssignmentRule).where(AssignmentRule.allocation_id == project.id)
                )
            )
            record = RemovedProject(
                _columns(project),
                tuple(_columns(w) for w in project.weights),
                tuple(_columns(p) for p in project.profile),
                tuple(_columns(n) for n in narratives),
                tuple(_columns(r) for r in rules),
                tuple(
                    (_columns(m), tuple(_columns(a) for a in m.actuals)) for m in project.outcomes
                ),
            )
            # Each row deleted by name: the audit log sees session deletes, not orphans
            # or database cascades.
            for row in [*rules, *narratives, *project.weights, *project.profile]:
                session.delete(row)
            session.flush()
            session.expire(project, ["weights", "profile"])
            session.delete(project)
            session.flush()
        return changes(
            self.description, self.grant, REMOVE_KINDS, RestoreProject(self.grant, record)
        )


def _refuse_in_use(session: Session, project: Allocation) -> None:
    lines = session.scalar(
        select(func.count()).select_from(SpendLine).where(SpendLine.allocation_id == project.id)
    )
    if lines:
        raise ValidationError(
            FieldError(
                f"project {project.code}",
                f"{lines} spend line{'s' if lines != 1 else ''} refer to it; "
                "assign them to another project first",
            )
        )
    virements = session.scalar(
        select(func.count())
        .select_from(Virement)
        .where(
            (Virement.from_allocation_id == project.id) | (Virement.to_allocation_id == project.id)
        )
    )
    if virements:
        raise ValidationError(
            FieldError(f"project {project.code}", "a virement moves budget to or from it")
        )


@dataclass(frozen=True)
class RestoreProject(Operation):
    """Put a removed project back as it was: the same ids, weights, profile, narratives and
    rules (the undo of a removal)."""

    grant: str
    record: RemovedProject

    @property
    def description(self) -> str:
        return f"Restore project {self.record.project['code']}"

    def run(self, db: Database) -> Changes:
        columns = dict(self.record.project)
        with db.unit_of_work() as session:
            grant = find_grant(session, self.grant)
            refuse_closed(grant, "projects")  # a closed year is read-only
            _refuse_duplicate_code(session, grant, columns["code"])
            refuse_locked_allocation(session, grant, columns["code"], "restoring")
            if session.get(Allocation, columns["id"]) is not None:
                del columns["id"]  # SQLite gave the id to a newer row: take a new one
            project = Allocation(**columns)
            project.weights = [Weight(**_without_ids(v)) for v in self.record.weights]
            project.profile = [ProfileAmount(**_without_ids(v)) for v in self.record.profile]
            project.outcomes = [restored_measure(session, *item) for item in self.record.outcomes]
            session.add(project)
            session.flush()
            for values in self.record.narratives:
                session.add(Narrative(**_without_ids(values), allocation_id=project.id))
            for values in self.record.rules:
                session.add(AssignmentRule(**_without_ids(values), allocation_id=project.id))
            session.flush()
            inverse = RemoveProject(self.grant, project.code, row_state(project))
            return changes(self.description, self.grant, REMOVE_KINDS, inverse, _load(project))


def _without_ids(values: dict[str, Any]) -> dict[str, Any]:
    """A removed row's values for a new row of the restored project (its old ids may have
    been reused since)."""
    return {k: v for k, v in values.items() if k not in ("id", "allocation_id")}
