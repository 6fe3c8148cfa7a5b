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
    try:
        return re.compile(value, re.IGNORECASE)
    except re.error as exc:
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


def rule_to_dict(rule: AssignmentRule) -> dict[str, object]:
    return {
        "id": rule.id,
        "priority": rule.position,
        "field": rule.field,
        "op": rule.operator,
        "value": rule.value,
        "allocation": rule.allocation.code,
    }
