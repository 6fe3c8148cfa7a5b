"""Outcome measures and their quarterly actuals (issue 15) as operations: add, update and
remove a measure, and set (or clear) a quarter's actual. Each checks the version the person
saw, honours the submission lock and returns an inverse built from the rows as they were.

A measure's targets stand under a submitted return as a project's weights do; a quarter's
actual is part of every return whose period ends on or after the quarter, so it is locked
while such a return stands submitted (fundtracker/outcomes.py has the rules for the values).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from fundtracker.errors import (
    ConflictError,
    FieldError,
    LockedError,
    NotFoundError,
    ValidationError,
)
from fundtracker.models import OUTCOME_UNITS, Allocation, Grant, OutcomeActual, OutcomeMeasure
from fundtracker.operations import (
    Changes,
    Expected,
    Kind,
    Operation,
    changes,
    expect_version,
    row_state,
)
from fundtracker.outcomes import (
    COUNT,
    PERCENT,
    OutcomeError,
    check_quarter_targets,
    file_target,
    listed_targets,
    parse_count,
    parse_target,
    stored_targets,
)
from fundtracker.periods import Period, quarters_between
from fundtracker.services.grants import find_grant, find_project
from fundtracker.services.locks import locked_until, refuse_locked_allocation
from fundtracker.storage import Database
from fundtracker.year_end import refuse_closed

MEASURE_FIELDS = ("code", "title", "unit", "priority", "target", "targets")
MEASURE_KINDS = (Kind.ALLOCATIONS,)  # the Projects page shows measures and targets
ACTUAL_KINDS = (Kind.RETURNS,)  # the Returns page shows the quarter's actuals
NOTE_LIMIT = 2_000
_TEXT_LIMITS = {"code": 40, "title": 300}


# --- Finding things ----------------------------------------------------------------------------


def _measure(session: Session, project: Allocation, code: str) -> OutcomeMeasure:
    for measure in project.outcomes:
        if measure.code == code:
            return measure
    known = ", ".join(m.code for m in project.outcomes) or "none yet"
    raise NotFoundError(f"project {project.code} has no outcome {code!r} (its outcomes: {known})")


def _writable_project(session: Session, reference: str, code: str) -> tuple[Grant, Allocation]:
    grant = find_grant(session, reference)
    refuse_closed(grant, "outcome measures")
    project = find_project(session, grant, code)
    refuse_locked_allocation(session, grant, code, "outcome measures")
    return grant, project


def measure_version(db: Database, grant: str, allocation: str, outcome: str) -> int:
    """A measure's version now (for a command line, which saw nothing before)."""
    with db.read() as session:
        project = find_project(session, find_grant(session, grant), allocation)
        return _measure(session, project, outcome).version


# --- Reading what the person typed --------------------------------------------------------------


def parse_measure(grant: Grant, values: Mapping[str, object], quarters: int) -> dict[str, Any]:
    """A measure's fields as stored (``targets`` as the stored text), every problem together.
    ``values`` must hold ``unit`` and ``target``; an empty ``targets`` spreads the target."""
    errors: list[FieldError] = []
    parsed: dict[str, Any] = {}
    for name in values:
        if name not in MEASURE_FIELDS:
            errors.append(
                FieldError(name, f"is not a field of an outcome ({', '.join(MEASURE_FIELDS)})")
            )
    for name in ("code", "title"):
        if name in values:
            text = str(values[name] or "").strip()
            if not text:
                errors.append(FieldError(name, "is required"))
            elif len(text) > _TEXT_LIMITS[name]:
                errors.append(
                    FieldError(
                        name, f"is {len(text)} characters long; at most {_TEXT_LIMITS[name]}"
                    )
                )
            parsed[name] = text
    unit = values.get("unit")
    if unit not in OUTCOME_UNITS:
        errors.append(FieldError("unit", f"must be count or percent (got {unit!r})"))
        raise ValidationError(errors)
    parsed["unit"] = unit
    if "priority" in values:
        parsed["priority"] = _priority(grant, values["priority"], errors)
    try:
        parsed["target"] = parse_target(str(unit), values.get("target"))
    except OutcomeError as exc:
        errors.append(FieldError("target", str(exc)))
    targets = _targets(str(unit), values.get("targets"), errors)
    if targets is not None and "target" in parsed:
        try:
            check_quarter_targets(str(unit), parsed["target"], targets, quarters)
        except OutcomeError as exc:
            errors.append(FieldError("targets", str(exc)))
    parsed["quarter_targets"] = stored_targets(targets)
    if errors:
        raise ValidationError(errors)
    return parsed


def _priority(grant: Grant, value: object, errors: list[FieldError]) -> str | None:
    code = str(value or "").strip()
    if not code:
        return None
    codes = [p.code for p in grant.aligned_plan.priorities]
    if code not in codes:
        errors.append(
            FieldError(
                "priority",
                f"{code} is not a priority of {grant.aligned_plan.key} "
                f"(its priorities: {', '.join(codes)})",
            )
        )
    return code


def _targets(unit: str, values: object, errors: list[FieldError]) -> list[int] | None:
    if values is None or values == "" or values == []:
        return None
    if isinstance(values, str):
        values = values.replace(";", ",").split(",")
    if not isinstance(values, Sequence):
        errors.append(FieldError("targets", "must be a list of targets, one a quarter"))
        return None
    targets = []
    for number, value in enumerate(values, start=1):
        try:
            targets.append(parse_target(unit, value, f"quarter {number}'s target"))
        except OutcomeError as exc:
            errors.append(FieldError("targets", str(exc)))
    return targets


def measure_values(measure: OutcomeMeasure) -> dict[str, object]:
    """A measure's fields in the form ``parse_measure`` takes them back (for inverses)."""
    targets = listed_targets(measure.quarter_targets)
    return {
        "code": measure.code,
        "title": measure.title,
        "unit": measure.unit,
        "priority": measure.priority or "",
        "target": file_target(measure.unit, measure.target),
        "targets": [file_target(measure.unit, t) for t in targets] if targets else [],
    }


def _quarter_count(grant: Grant) -> int:
    return len(quarters_between(grant.start_date, grant.end_date))


# --- Measures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddOutcome(Operation):
    """A new measure of a project: ``values`` hold code, title, unit and target, and may hold
    priority and targets (one a quarter)."""

    grant: str
    allocation: str
    values: Mapping[str, object]

    @property
    def description(self) -> str:
        return f"Add outcome {self.values.get('code', '')} to {self.allocation}"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            grant, project = _writable_project(session, self.grant, self.allocation)
            fields = parse_measure(grant, {"priority": "", **self.values}, _quarter_count(grant))
            if "code" not in fields or "title" not in fields:
                raise ValidationError(
                    FieldError("code" if "code" not in fields else "title", "is required")
                )
            if any(m.code == fields["code"] for m in project.outcomes):
                raise ValidationError(
                    FieldError(
                        "code", f"project {project.code} already has an outcome {fields['code']}"
                    )
                )
            measure = OutcomeMeasure(**fields, position=len(project.outcomes))
            project.outcomes.append(measure)
            session.flush()
            inverse = RemoveOutcome(self.grant, self.allocation, measure.code, row_state(measure))
            return changes(self.description, self.grant, MEASURE_KINDS, inverse, measure)


@dataclass(frozen=True)
class UpdateOutcome(Operation):
    """Change some fields of a measure (its unit only while it has no actuals)."""

    grant: str
    allocation: str
    outcome: str
    values: Mapping[str, object]
    version: Expected

    @property
    def description(self) -> str:
        return f"Change outcome {self.outcome} of {self.allocation}"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            grant, project = _writable_project(session, self.grant, self.allocation)
            found = _measure(session, project, self.outcome)
            what = f"outcome {self.allocation}/{self.outcome}"
            measure = expect_version(session, OutcomeMeasure, found.id, self.version, what)
            before = measure_values(measure)
            wanted = {**before, **self.values}
            fields = parse_measure(grant, wanted, _quarter_count(grant))
            if fields["unit"] != measure.unit and measure.actuals:
                raise ValidationError(
                    FieldError(
                        "unit", f"{what} has actuals entered as a {measure.unit}; clear them first"
                    )
                )
            if fields["code"] != measure.code and any(
                m.code == fields["code"] for m in project.outcomes
            ):
                raise ValidationError(
                    FieldError(
                        "code", f"project {project.code} already has an outcome {fields['code']}"
                    )
                )
            for name, value in fields.items():
                setattr(measure, name, value)
            session.flush()
            restore = {name: before[name] for name in self.values if name in before}
            inverse = UpdateOutcome(
                self.grant, self.allocation, measure.code, restore, row_state(measure)
            )
            return changes(self.description, self.grant, MEASURE_KINDS, inverse, measure)


def _columns(row: Any, leave_out: tuple[str, ...] = ("version",)) -> dict[str, Any]:
    return {
        c.key: getattr(row, c.key) for c in row.__mapper__.column_attrs if c.key not in leave_out
    }


@dataclass(frozen=True)
class RemoveOutcome(Operation):
    """Remove a measure with its actuals, each an audited delete."""

    grant: str
    allocation: str
    outcome: str
    version: Expected

    @property
    def description(self) -> str:
        return f"Remove outcome {self.outcome} of {self.allocation}"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            _, project = _writable_project(session, self.grant, self.allocation)
            found = _measure(session, project, self.outcome)
            what = f"outcome {self.allocation}/{self.outcome}"
            measure = expect_version(session, OutcomeMeasure, found.id, self.version, what)
            record = (_columns(measure), tuple(_columns(a) for a in measure.actuals))
            session.delete(measure)  # with its actuals: each an audited delete
            session.flush()
            session.expire(project, ["outcomes"])
            inverse = RestoreOutcome(self.grant, self.allocation, record[0], record[1])
            return changes(self.description, self.grant, (*MEASURE_KINDS, Kind.RETURNS), inverse)


@dataclass(frozen=True)
class RestoreOutcome(Operation):
    """Put a removed measure back with its actuals (the undo of a removal)."""

    grant: str
    allocation: str
    measure: Mapping[str, Any]
    actuals: tuple[Mapping[str, Any], ...]

    @property
    def description(self) -> str:
        return f"Restore outcome {self.measure['code']} of {self.allocation}"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            _grant_row, project = _writable_project(session, self.grant, self.allocation)
            if any(m.code == self.measure["code"] for m in project.outcomes):
                raise ConflictError(
                    f"project {project.code} has an outcome {self.measure['code']} again; "
                    "nothing was changed"
                )
            measure = restored_measure(session, self.measure, self.actuals)
            project.outcomes.insert(min(measure.position, len(project.outcomes)), measure)
            session.flush()
            inverse = RemoveOutcome(self.grant, self.allocation, measure.code, row_state(measure))
            return changes(
                self.description, self.grant, (*MEASURE_KINDS, Kind.RETURNS), inverse, measure
            )


def restored_measure(
    session: Session, measure: Mapping[str, Any], actuals: Sequence[Mapping[str, Any]]
) -> OutcomeMeasure:
    """A removed measure and its actuals made again, with their old ids where still free (so
    an earlier step's undo, which expects those rows, still finds them)."""

    def values(row: Mapping[str, Any], model: type[Any], parent: str) -> dict[str, Any]:
        kept = {k: v for k, v in row.items() if k != parent}
        if session.get(model, kept.get("id")) is not None:
            del kept["id"]  # given to a newer row since
        return kept

    restored = OutcomeMeasure(**values(measure, OutcomeMeasure, "allocation_id"))
    restored.actuals = [OutcomeActual(**values(a, OutcomeActual, "measure_id")) for a in actuals]
    return restored


# --- A quarter's actual -------------------------------------------------------------------------


def parse_actual(
    unit: str, actual: object, out_of: object, note: object
) -> tuple[int, int | None, str]:
    """A quarter's actual as stored: (actual, out_of, note). ``out_of`` is required for a
    percent measure (41 of 50) and refused for a count."""
    errors: list[FieldError] = []
    number, denominator = 0, None
    try:
        number = parse_count(actual, "actual")
    except OutcomeError as exc:
        errors.append(FieldError("actual", str(exc)))
    blank = out_of is None or (isinstance(out_of, str) and not out_of.strip())
    if unit == COUNT and not blank:
        errors.append(
            FieldError("of", "is only for a percent measure (41 of 50); this outcome is a count")
        )
    elif unit == PERCENT and blank:
        errors.append(
            FieldError(
                "of",
                "is required for a percent measure: the actual is a number of this many (41 of 50)",
            )
        )
    elif unit == PERCENT:
        try:
            denominator = parse_count(out_of, "of")
        except OutcomeError as exc:
            errors.append(FieldError("of", str(exc)))
        if denominator is not None and not errors and number > denominator:
            errors.append(
                FieldError("actual", f"{number} is more than the {denominator} it is out of")
            )
    text = "" if note is None else str(note).strip()
    if len(text) > NOTE_LIMIT:
        errors.append(FieldError("note", f"is {len(text)} characters long; at most {NOTE_LIMIT}"))
    if errors:
        raise ValidationError(errors)
    return number, denominator, text


def refuse_locked_quarter(session: Session, grant: Grant, quarter: Period, what: str) -> None:
    """A quarter's actual counts in every return to date from it: locked while one stands."""
    submission = locked_until(session, grant.id)
    if submission is not None and quarter.end <= submission.period_end:
        raise LockedError(
            f"cannot change {what}: the return for {submission.period} (version "
            f"{submission.version_number}), which reports it, was submitted on "
            f"{submission.submitted_at:%d/%m/%Y}; reopen it first"
        )


def _grant_quarter(grant: Grant, quarter: Period) -> Period:
    if quarter.kind != "Q":
        raise ValidationError(
            FieldError(
                "period", f"outcome actuals are entered by quarter: write e.g. {quarter.year}-Q2"
            )
        )
    if quarter not in quarters_between(grant.start_date, grant.end_date):
        raise ValidationError(
            FieldError("period", f"{quarter} is not a quarter of grant {grant.reference}")
        )
    return quarter


@dataclass(frozen=True)
class SetOutcomeActual(Operation):
    """Enter (or with ``actual`` None, clear) what a measure achieved in one quarter."""

    grant: str
    quarter: Period
    allocation: str
    outcome: str
    actual: object
    out_of: object = None
    note: object = ""
    version: Expected | None = None  # the actual as it was seen; None: not checked

    @property
    def description(self) -> str:
        verb = "Clear" if self.actual is None else "Enter"
        return f"{verb} {self.allocation}/{self.outcome} actual for {self.quarter}"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            grant = find_grant(session, self.grant)
            refuse_closed(grant, "outcome actuals")
            quarter = _grant_quarter(grant, self.quarter)
            project = find_project(session, grant, self.allocation)
            measure = _measure(session, project, self.outcome)
            what = f"the {self.allocation}/{self.outcome} actual for {quarter}"
            refuse_locked_quarter(session, grant, quarter, what)
            row = next((a for a in measure.actuals if a.quarter == str(quarter)), None)
            seen = (
                None
                if row is None
                else (row.version if isinstance(self.version, int) else row_state(row))
            )
            if self.version is not None and seen != self.version:
                raise ConflictError(
                    f"{what} was changed by someone else since you saw it; nothing was "
                    "changed: look at it again"
                )
            before = (None, None, "") if row is None else (row.actual, row.out_of, row.note)
            if self.actual is None:
                if row is not None:
                    session.delete(row)
                session.flush()
                session.expire(measure, ["actuals"])
                after: Expected | None = None
            else:
                number, denominator, note = parse_actual(
                    measure.unit, self.actual, self.out_of, self.note
                )
                if row is None:
                    row = OutcomeActual(grant_id=grant.id, quarter=str(quarter))
                    measure.actuals.append(row)
                row.actual, row.out_of, row.note = number, denominator, note
                session.flush()
                after = row_state(row)
            old_actual, old_out_of, old_note = before
            inverse = SetOutcomeActual(
                self.grant,
                quarter,
                self.allocation,
                self.outcome,
                old_actual,
                old_out_of,
                old_note,
                version=after,
            )
            return changes(self.description, self.grant, ACTUAL_KINDS, inverse, row)
