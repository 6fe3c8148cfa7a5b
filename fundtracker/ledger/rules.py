"""Assignment rules: put an imported line on an allocation when one of its fields matches.

``equals`` and ``contains`` ignore case and surrounding spaces; ``regex`` is a Python regular
expression searched anywhere in the field, also ignoring case. Rules apply in priority order
(the order they were added unless moved); the first match wins.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from fundtracker.errors import FieldError, NotFoundError, ValidationError
from fundtracker.ledger.rule_patterns import pattern_cost_problem
from fundtracker.models import RULE_FIELDS, RULE_OPERATORS, Allocation, AssignmentRule, Grant
from fundtracker.services.grants import get_grant
from fundtracker.storage import Database


@dataclass(frozen=True)
class CompiledRule:
    """A rule ready to test lines against."""

    field: str
    operator: str
    value: str
    allocation_id: int
    pattern: re.Pattern[str] | None

    def matches(self, text: str) -> bool:
        if self.pattern is not None:
            return self.pattern.search(text) is not None
        folded = text.strip().casefold()
        if self.operator == "equals":
            return folded == self.value
        return self.value in folded


def compile_rule(rule: AssignmentRule) -> CompiledRule:
    pattern = _pattern(rule.value) if rule.operator == "regex" else None
    return CompiledRule(
        rule.field, rule.operator, rule.value.strip().casefold(), rule.allocation_id, pattern
    )


def _pattern(value: str) -> re.Pattern[str]:
    costly = pattern_cost_problem(value)
    if costly:
        raise ValidationError(FieldError("value", f"'{value}' {costly}"))
    try:
        return re.compile(value, re.IGNORECASE)
    except (re.error, OverflowError, RecursionError) as exc:
        message = f"'{value}' is not a regular expression: {exc}"
        raise ValidationError(FieldError("value", message)) from None


def grant_rules(session: Session, grant_id: int) -> list[CompiledRule]:
    """The grant's rules in the order they apply."""
    rules = session.scalars(
        select(AssignmentRule)
        .where(AssignmentRule.grant_id == grant_id)
        .order_by(AssignmentRule.position, AssignmentRule.id)
    )
    return [compile_rule(rule) for rule in rules]


def first_match(rules: Sequence[CompiledRule], fields: dict[str, str]) -> int | None:
    """The allocation id of the first rule a line's fields match, if any."""
    for rule in rules:
        if rule.matches(fields.get(rule.field, "")):
            return rule.allocation_id
    return None


def add_rule(
    db: Database,
    grant_reference: str,
    field: str,
    operator: str,
    value: str,
    allocation_code: str,
    reason: str = "",
) -> AssignmentRule:
    """Add a rule after the grant's existing ones (lowest priority)."""
    check_rule(field, operator, value)
    with db.unit_of_work(reason) as session:
        grant = get_grant(session, grant_reference)
        allocation = _allocation(grant, allocation_code)
        last = session.scalar(
            select(func.max(AssignmentRule.position)).where(AssignmentRule.grant_id == grant.id)
        )
        rule = AssignmentRule(
            grant_id=grant.id,
            field=field,
            operator=operator,
            value=value,
            allocation_id=allocation.id,
            position=(last or 0) + 1,
        )
        session.add(rule)
        session.flush()
        _ = rule.allocation
        return rule


def check_rule(field: str, operator: str, value: str) -> None:
    """Refuse a rule that could never be kept, naming every bad part at once."""
    errors = []
    if field not in RULE_FIELDS:
        errors.append(FieldError("field", f"must be one of {', '.join(RULE_FIELDS)}"))
    if operator not in RULE_OPERATORS:
        errors.append(FieldError("op", f"must be one of {', '.join(RULE_OPERATORS)}"))
    if not value.strip():
        errors.append(FieldError("value", "is required"))
    elif len(value) > 500:
        errors.append(FieldError("value", "is longer than 500 characters"))
    if errors:
        raise ValidationError(errors)
    if operator == "regex":
        _pattern(value)


def _allocation(grant: Grant, code: str) -> Allocation:
    for allocation in grant.allocations:
        if allocation.code == code:
            return allocation
    codes = ", ".join(a.code for a in grant.allocations) or "none yet"
    raise ValidationError(
        FieldError(
            "allocation",
            f"'{code}' is not a project of grant {grant.reference} (its projects: {codes})",
        )
    )


def list_rules(db: Database, grant_reference: str) -> list[AssignmentRule]:
    with db.read() as session:
        grant = get_grant(session, grant_reference)
        return list(
            session.scalars(
                select(AssignmentRule)
                .where(AssignmentRule.grant_id == grant.id)
                .order_by(AssignmentRule.position, AssignmentRule.id)
                .options(selectinload(AssignmentRule.allocation))
            )
        )


def delete_rule(db: Database, rule_id: int, reason: str = "") -> None:
    with db.unit_of_work(reason) as session:
        rule = session.get(AssignmentRule, rule_id)
        if rule is None:
            raise NotFoundError(f"no assignment rule with id {rule_id}")
        session.delete(rule)


def get_rule(session: Session, rule_id: int) -> AssignmentRule:
    rule = session.get(AssignmentRule, rule_id)
    if rule is None:
        raise NotFoundError(f"no assignment rule with id {rule_id}")
    return rule


def update_rule(
    db: Database, rule_id: int, changes: dict[str, str], reason: str = ""
) -> AssignmentRule:
    """Change a rule's field, op, value or allocation (a project code); its place stays."""
    unknown = sorted(set(changes) - {"field", "op", "value", "allocation"})
    if unknown:
        raise ValidationError([FieldError(name, "is not a part of a rule") for name in unknown])
    with db.unit_of_work(reason) as session:
        rule = get_rule(session, rule_id)
        field = changes.get("field", rule.field)
        operator = changes.get("op", rule.operator)
        value = changes.get("value", rule.value)
        check_rule(field, operator, value)
        rule.field, rule.operator, rule.value = field, operator, value
        if "allocation" in changes:
            grant = session.get_one(Grant, rule.grant_id)
            rule.allocation_id = _allocation(grant, changes["allocation"]).id
        session.flush()
        session.refresh(rule, ["allocation"])
        return rule


def _ordered(session: Session, grant_id: int) -> list[AssignmentRule]:
    return list(
        session.scalars(
            select(AssignmentRule)
            .where(AssignmentRule.grant_id == grant_id)
            .order_by(AssignmentRule.position, AssignmentRule.id)
        )
    )


def place_of(session: Session, rule: AssignmentRule) -> int:
    """A rule's place in the order its grant's rules apply, counting from 1."""
    return [r.id for r in _ordered(session, rule.grant_id)].index(rule.id) + 1


def move_rule(db: Database, rule_id: int, place: int, reason: str = "") -> AssignmentRule:
    """Put a rule at ``place`` (1 applies first) and number the grant's rules 1, 2, 3… again."""
    with db.unit_of_work(reason) as session:
        rule = get_rule(session, rule_id)
        others = [r for r in _ordered(session, rule.grant_id) if r.id != rule.id]
        if not 1 <= place <= len(others) + 1:
            raise ValidationError(
                FieldError("to", f"must be between 1 and {len(others) + 1} (got {place})")
            )
        others.insert(place - 1, rule)
        for number, each in enumerate(others, start=1):
            if each.position != number:  # only rules whose place changed are audited
                each.position = number
        session.flush()
        return rule


def restore_rule(
    db: Database, columns: dict[str, object], place: int, reason: str = ""
) -> AssignmentRule:
    """Put a deleted rule back with its id, at its place in the order."""
    with db.unit_of_work(reason) as session:
        rule = AssignmentRule(**columns)
        session.add(rule)
        session.flush()
        # Rules deleted meanwhile leave fewer places: it then goes last.
        return move_rule(db, rule.id, min(place, len(_ordered(session, rule.grant_id))), reason)


def rule_to_dict(rule: AssignmentRule) -> dict[str, object]:
    return {
        "id": rule.id,
        "priority": rule.position,
        "field": rule.field,
        "op": rule.operator,
        "value": rule.value,
        "allocation": rule.allocation.code,
    }
