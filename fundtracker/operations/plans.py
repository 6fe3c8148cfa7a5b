"""Plan operations: a new plan, its name and owner, its priorities (add, retitle, retire, with
sub-priorities under a parent), and a new version of a plan from a date.

Plans are versioned; priorities are not, so a priority operation carries what the person saw
(the title, whether it was retired) and refuses with a ConflictError when it differs now. A
plan's new version is a plan of its own, linked to the one it replaces: projects keep their
weights against the version they were set on, so past figures never move.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fundtracker.dates import DateError
from fundtracker.errors import ConflictError, FieldError, NotFoundError, ValidationError
from fundtracker.models import PLAN_KINDS, Grant, Plan, Priority, Weight
from fundtracker.operations import Changes, Kind, Operation, changes, expect_version
from fundtracker.operations.grants import parse_day
from fundtracker.services.locks import refuse_locked_priority
from fundtracker.storage import Database

PLANS = (Kind.PLANS,)
PLAN_FIELDS = ("name", "owner")
_LIMITS = {"key": 100, "name": 300, "owner": 300, "code": 40, "title": 300}


def _text(errors: list[FieldError], values: Mapping[str, object], name: str, required: bool) -> str:
    value = values.get(name)
    text = "" if value is None else str(value).strip()
    if required and not text:
        errors.append(FieldError(name, "is required"))
    elif len(text) > _LIMITS[name]:
        errors.append(FieldError(name, f"is {len(text)} characters long; at most {_LIMITS[name]}"))
    return text


def _day(errors: list[FieldError], value: object, name: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return parse_day(value)
    except DateError as exc:
        errors.append(FieldError(name, str(exc)))
        return None


def _plan(session: Session, key: str) -> Plan:
    plan = session.scalar(select(Plan).where(Plan.key == key))
    if plan is None:
        raise NotFoundError(f"no plan with key '{key}'")
    return plan


def _priority(plan: Plan, code: str) -> Priority:
    for priority in plan.priorities:
        if priority.code == code:
            return priority
    codes = ", ".join(p.code for p in plan.priorities) or "none yet"
    raise NotFoundError(f"{plan.name} has no priority {code} (its priorities: {codes})")


def _named(plan: Plan, priority: Priority) -> str:
    return f"priority {priority.code} of plan {plan.key}"


def current_plan_version(db: Database, key: str) -> int:
    with db.read() as session:
        return _plan(session, key).version


def _refuse_in_use(session: Session, plan: Plan, what: str) -> None:
    """Refuse removing a plan that a grant or a project's weights use."""
    grants = session.scalar(
        select(func.count())
        .select_from(Grant)
        .where(or_(Grant.aligned_plan_id == plan.id, Grant.local_plan_id == plan.id))
    )
    weights = session.scalar(
        select(func.count())
        .select_from(Weight)
        .join(Priority, Weight.priority_id == Priority.id)
        .where(Priority.plan_id == plan.id)
    )
    if grants or weights:
        raise ConflictError(
            f"{what}: plan {plan.name} is now used by a grant or a project's weights; "
            "nothing was changed"
        )


# --- New plan, name and owner ----------------------------------------------------------


@dataclass(frozen=True)
class NewPlan(Operation):
    """A plan with no priorities yet: ``values`` hold key, name, owner, kind, effective_from
    and optionally effective_to (dates UK-style or ISO)."""

    values: Mapping[str, object]

    @property
    def description(self) -> str:
        return f"New plan {self.values.get('key', '')}".rstrip()

    def run(self, db: Database) -> Changes:
        errors: list[FieldError] = []
        key = _text(errors, self.values, "key", required=True)
        name = _text(errors, self.values, "name", required=True)
        owner = _text(errors, self.values, "owner", required=False)
        kind = self.values.get("kind")
        if kind not in PLAN_KINDS:
            errors.append(
                FieldError("kind", f"must be one of {', '.join(PLAN_KINDS)} (got {kind!r})")
            )
        start = _day(errors, self.values.get("effective_from"), "from")
        if start is None and not any(e.field == "from" for e in errors):
            errors.append(FieldError("from", "is required"))
        end = _day(errors, self.values.get("effective_to"), "to")
        if start and end and end < start:
            errors.append(FieldError("to", f"{end:%d/%m/%Y} is before the start"))
        if errors:
            raise ValidationError(errors)
        assert start is not None
        with db.unit_of_work() as session:
            if session.scalar(select(Plan.id).where(Plan.key == key)) is not None:
                raise ValidationError(FieldError("key", f"a plan with key {key} already exists"))
            plan = Plan(
                key=key,
                name=name,
                owner=owner,
                kind=str(kind),
                effective_from=start,
                effective_to=end,
            )
            session.add(plan)
            session.flush()
            inverse = RemovePlan(key, plan.version, dict(self.values))
            return changes(self.description, None, PLANS, inverse, plan)


@dataclass(frozen=True)
class RemovePlan(Operation):
    """The undo of a new plan: refused once a priority was added or anything uses it."""

    key: str
    version: int
    values: Mapping[str, object]  # the plan as made, for the redo

    @property
    def description(self) -> str:
        return f"Remove plan {self.key}"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            found = _plan(session, self.key)
            plan = expect_version(session, Plan, found.id, self.version, f"plan {self.key}")
            _refuse_in_use(session, plan, f"plan {self.key} cannot be removed")
            if plan.priorities:
                raise ConflictError(
                    f"plan {self.key} cannot be removed: priorities were added to it; "
                    "nothing was changed"
                )
            session.delete(plan)
        return changes(self.description, None, PLANS, NewPlan(self.values))


@dataclass(frozen=True)
class UpdatePlan(Operation):
    """Rename a plan or change its owner, refused if it moved on from ``version``."""

    key: str
    values: Mapping[str, object]
    version: int

    @property
    def description(self) -> str:
        names = " and ".join(self.values)
        return f"Change {names} of plan {self.key}"

    def run(self, db: Database) -> Changes:
        errors: list[FieldError] = []
        unknown = [name for name in self.values if name not in PLAN_FIELDS]
        errors += [FieldError(name, "is not a plan field (name, owner)") for name in unknown]
        fields = {
            name: _text(errors, self.values, name, required=name == "name")
            for name in self.values
            if name in PLAN_FIELDS
        }
        if errors:
            raise ValidationError(errors)
        with db.unit_of_work() as session:
            found = _plan(session, self.key)
            plan = expect_version(session, Plan, found.id, self.version, f"plan {self.key}")
            before = {name: getattr(plan, name) for name in fields}
            for name, value in fields.items():
                setattr(plan, name, value)
            session.flush()
            inverse = UpdatePlan(self.key, before, plan.version)
            return changes(self.description, None, PLANS, inverse, plan)


# --- Priorities ------------------------------------------------------------------------


@dataclass(frozen=True)
class AddPriority(Operation):
    """A priority of a plan, or with ``under`` a sub-priority placed after its parent's."""

    plan: str
    code: str
    title: str
    under: str | None = None

    @property
    def description(self) -> str:
        return f"Add priority {self.code} to plan {self.plan}"

    def run(self, db: Database) -> Changes:
        errors: list[FieldError] = []
        code = _text(errors, {"code": self.code}, "code", required=True)
        title = _text(errors, {"title": self.title}, "title", required=True)
        if errors:
            raise ValidationError(errors)
        with db.unit_of_work() as session:
            plan = _plan(session, self.plan)
            if any(p.code == code for p in plan.priorities):
                raise ValidationError(
                    FieldError("code", f"{plan.name} already has a priority {code}")
                )
            position = _position_for(plan, self.under)
            for later in plan.priorities[position:]:
                later.position += 1
            priority = Priority(code=code, title=title, parent_code=self.under, position=position)
            plan.priorities.insert(position, priority)
            session.flush()
            inverse = RemovePriority(self.plan, code, title)
            return changes(self.description, None, PLANS, inverse, priority)


def _position_for(plan: Plan, under: str | None) -> int:
    """The end of the plan, or just after the parent's last sub-priority."""
    if under is None:
        return len(plan.priorities)
    parent = _parent(plan, under)
    family = {parent.code}
    last = plan.priorities.index(parent)
    for index, priority in enumerate(plan.priorities):
        if priority.parent_code in family:
            family.add(priority.code)
            last = index
    return last + 1


def _parent(plan: Plan, code: str) -> Priority:
    try:
        parent = _priority(plan, code)
    except NotFoundError as exc:
        raise ValidationError(FieldError("under", str(exc))) from None
    if parent.retired:
        raise ValidationError(FieldError("under", f"priority {code} of {plan.name} is retired"))
    return parent


@dataclass(frozen=True)
class RemovePriority(Operation):
    """The undo of adding a priority: refused once weights or sub-priorities refer to it."""

    plan: str
    code: str
    title: str  # as added: a different title now means someone changed it

    @property
    def description(self) -> str:
        return f"Remove priority {self.code} from plan {self.plan}"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            plan = _plan(session, self.plan)
            priority = _priority(plan, self.code)
            if priority.title != self.title or priority.retired:
                raise ConflictError(
                    f"priority {self.code} of {plan.name} was changed since it was added; "
                    "nothing was changed"
                )
            used = session.scalar(
                select(func.count()).select_from(Weight).where(Weight.priority_id == priority.id)
            )
            children = [p.code for p in plan.priorities if p.parent_code == self.code]
            if used or children:
                raise ConflictError(
                    f"priority {self.code} of {plan.name} now has weights or sub-priorities; "
                    "retire it instead; nothing was changed"
                )
            position, parent = priority.position, priority.parent_code
            session.delete(priority)  # by name, while still the plan's: the audit log names it
            session.flush()
            session.expire(plan, ["priorities"])
            for later in plan.priorities:
                if later.position > position:
                    later.position -= 1
            session.flush()
        inverse = AddPriority(self.plan, self.code, self.title, parent)
        return changes(self.description, None, PLANS, inverse)


@dataclass(frozen=True)
class RetitlePriority(Operation):
    plan: str
    code: str
    title: str
    seen: str  # the title the person saw

    @property
    def description(self) -> str:
        return f"Retitle priority {self.code} of plan {self.plan}"

    def run(self, db: Database) -> Changes:
        errors: list[FieldError] = []
        title = _text(errors, {"title": self.title}, "title", required=True)
        if errors:
            raise ValidationError(errors)
        with db.unit_of_work() as session:
            plan = _plan(session, self.plan)
            priority = _priority(plan, self.code)
            if priority.title != self.seen:
                raise ConflictError(
                    f"priority {self.code} of {plan.name} was retitled by someone else since "
                    "you saw it; nothing was changed"
                )
            if title != priority.title:
                refuse_locked_priority(session, priority.id, _named(plan, priority), "title")
            priority.title = title
            session.flush()
            inverse = RetitlePriority(self.plan, self.code, self.seen, title)
            return changes(self.description, None, PLANS, inverse, priority)


@dataclass(frozen=True)
class RetirePriority(Operation):
    """Retire a priority and its sub-priorities: they keep their weights (past figures stay)
    but take no new ones. The undo brings back exactly those it retired."""

    plan: str
    code: str

    @property
    def description(self) -> str:
        return f"Retire priority {self.code} of plan {self.plan}"

    def run(self, db: Database) -> Changes:
        with db.read() as session:
            plan = _plan(session, self.plan)
            priority = _priority(plan, self.code)
            if priority.retired:
                raise ValidationError(
                    FieldError("code", f"priority {self.code} of {plan.name} is already retired")
                )
            codes = tuple(p.code for p in _family(plan, priority) if not p.retired)
        done = SetRetired(self.plan, codes, True).run(db)
        return changes(self.description, None, PLANS, done.inverse, done.result)


def _family(plan: Plan, priority: Priority) -> list[Priority]:
    """A priority and every sub-priority under it, at any depth."""
    family = [priority]
    for candidate in plan.priorities:
        if candidate.parent_code in {p.code for p in family} and candidate not in family:
            family.append(candidate)
    return family


@dataclass(frozen=True)
class SetRetired(Operation):
    """Retire (or bring back) the named priorities, each refused unless it is as seen."""

    plan: str
    codes: tuple[str, ...]
    retired: bool

    @property
    def description(self) -> str:
        verb = "Retire" if self.retired else "Bring back"
        return f"{verb} priorit{'y' if len(self.codes) == 1 else 'ies'} {', '.join(self.codes)}"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            plan = _plan(session, self.plan)
            changed: list[Priority] = []
            for code in self.codes:
                priority = _priority(plan, code)
                if priority.retired == self.retired:
                    raise ConflictError(
                        f"priority {code} of {plan.name} was changed by someone else since you "
                        "saw it; nothing was changed"
                    )
                priority.retired = self.retired
                changed.append(priority)
            session.flush()
            inverse = SetRetired(self.plan, self.codes, not self.retired)
            return changes(self.description, None, PLANS, inverse, changed)


# --- A new version of a plan -----------------------------------------------------------


@dataclass(frozen=True)
class NewPlanVersion(Operation):
    """Start a new version of a plan from ``starts``: a plan of its own (key ``new_key``) with
    the same name, owner, kind and priorities in use, linked to this one, which now ends the
    day before. Grants and weights stay with the version they were set on."""

    key: str
    starts: object
    version: int
    new_key: str | None = None

    @property
    def description(self) -> str:
        return f"New version of plan {self.key}"

    def run(self, db: Database) -> Changes:
        errors: list[FieldError] = []
        starts = _day(errors, self.starts, "from")
        if errors or starts is None:
            raise ValidationError(errors or [FieldError("from", "is required")])
        new_key = (self.new_key or f"{self.key}-{starts:%Y-%m-%d}").strip()
        with db.unit_of_work() as session:
            found = _plan(session, self.key)
            old = expect_version(session, Plan, found.id, self.version, f"plan {self.key}")
            _refuse_version_start(old, starts)
            if session.scalar(select(Plan.id).where(Plan.key == new_key)) is not None:
                raise ValidationError(
                    FieldError("key", f"a plan with key {new_key} already exists")
                )
            ended = old.effective_to
            new = Plan(
                key=new_key,
                name=old.name,
                owner=old.owner,
                kind=old.kind,
                effective_from=starts,
                effective_to=ended,
                previous_id=old.id,
            )
            new.priorities = [
                Priority(
                    code=p.code,
                    title=p.title,
                    description=p.description,
                    parent_code=p.parent_code,
                    position=position,
                )
                for position, p in enumerate(p for p in old.priorities if not p.retired)
            ]
            old.effective_to = starts - timedelta(days=1)
            session.add(new)
            session.flush()
            inverse = RemovePlanVersion(new_key, new.version, self.key, old.version, ended)
            return changes(self.description, None, PLANS, inverse, new)


def _refuse_version_start(old: Plan, starts: date) -> None:
    if starts <= old.effective_from:
        raise ValidationError(
            FieldError(
                "from", f"must be after {old.effective_from:%d/%m/%Y}, when {old.name} starts"
            )
        )
    if old.effective_to is not None and starts > old.effective_to:
        raise ValidationError(
            FieldError("from", f"must be on or before {old.effective_to:%d/%m/%Y}, when it ends")
        )


@dataclass(frozen=True)
class RemovePlanVersion(Operation):
    """The undo of a new version: refused once anything uses the new version."""

    new_key: str
    new_version: int
    key: str
    version: int
    ended: date | None  # the old version's end before the new one started

    @property
    def description(self) -> str:
        return f"Remove plan version {self.new_key}"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            found = _plan(session, self.new_key)
            new = expect_version(session, Plan, found.id, self.new_version, f"plan {self.new_key}")
            _refuse_in_use(session, new, f"plan version {self.new_key} cannot be removed")
            old_found = _plan(session, self.key)
            old = expect_version(session, Plan, old_found.id, self.version, f"plan {self.key}")
            starts = new.effective_from
            for priority in list(new.priorities):
                session.delete(priority)  # by name: the audit log does not see cascades
            session.flush()
            session.expire(new, ["priorities"])
            session.delete(new)
            old.effective_to = self.ended
            session.flush()
            inverse = NewPlanVersion(self.key, starts, old.version, self.new_key)
            return changes(self.description, None, PLANS, inverse)


def plan_record(plan: Plan) -> dict[str, Any]:
    """A plan as JSON output gives it."""
    return {
        "key": plan.key,
        "name": plan.name,
        "owner": plan.owner,
        "kind": plan.kind,
        "effective_from": plan.effective_from.isoformat(),
        "effective_to": plan.effective_to.isoformat() if plan.effective_to else None,
        "previous_id": plan.previous_id,
    }


def priority_record(plan_key: str, priority: Priority) -> dict[str, Any]:
    return {
        "plan": plan_key,
        "code": priority.code,
        "title": priority.title,
        "parent": priority.parent_code,
        "retired": priority.retired,
        "position": priority.position,
    }
