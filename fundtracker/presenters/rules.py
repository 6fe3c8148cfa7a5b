"""The Rules panel: the rows of a grant's rules table, the preview of the unassigned lines a
rule being typed would assign, and the rule *Make a rule from this line…* starts from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from fundtracker.errors import FundtrackerError
from fundtracker.ledger import rules
from fundtracker.models import RULE_FIELDS, AssignmentRule, SpendLine
from fundtracker.money import ZERO, format_money
from fundtracker.operations import RowState, plural, row_state
from fundtracker.services.grants import get_grant
from fundtracker.storage import Database

# How the panel names a rule's parts (the spend line fields a rule may test, and its tests).
FIELD_LABELS = {
    "supplier": "Supplier",
    "description": "Description",
    "reference": "Reference",
    "cost_centre": "Cost centre",
    "account_code": "Account code",
}
OPERATOR_LABELS = {
    "equals": "equals",
    "contains": "contains",
    "regex": "matches the pattern",
}
assert set(FIELD_LABELS) == set(RULE_FIELDS)
PREVIEW_LIMIT = 200  # lines listed; the count and total cover them all


@dataclass(frozen=True)
class RuleRow:
    """One row of the rules table."""

    id: int
    place: int  # 1 applies first
    field: str
    op: str
    value: str
    allocation: str  # the project code
    project: str  # as the panel shows it: "A01 — Youth diversion"
    state: RowState  # what an edit of it expects to find

    @property
    def text(self) -> str:
        """The rule in words: "Supplier equals 'Kent Fire' → A01"."""
        field, op = FIELD_LABELS[self.field], OPERATOR_LABELS[self.op]
        return f"{field} {op} '{self.value}' → {self.allocation}"


def rule_rows(db: Database, grant_reference: str) -> list[RuleRow]:
    """The grant's rules in the order they apply."""
    with db.read() as session:
        grant = get_grant(session, grant_reference)
        found = session.scalars(
            select(AssignmentRule)
            .where(AssignmentRule.grant_id == grant.id)
            .order_by(AssignmentRule.position, AssignmentRule.id)
        )
        return [
            RuleRow(
                rule.id,
                place,
                rule.field,
                rule.operator,
                rule.value,
                rule.allocation.code,
                f"{rule.allocation.code} — {rule.allocation.name}",
                row_state(rule),
            )
            for place, rule in enumerate(found, start=1)
        ]


@dataclass(frozen=True)
class PreviewLine:
    id: int
    date: date
    supplier: str
    description: str
    net: Decimal


@dataclass(frozen=True)
class Preview:
    """The unassigned lines a rule would assign, or why the rule cannot be tested yet."""

    lines: tuple[PreviewLine, ...]
    count: int
    total: Decimal
    problem: str = ""
    taken_earlier: int = 0  # lines it matches that a rule before it assigns first

    @property
    def text(self) -> str:
        if self.problem:
            return self.problem
        earlier = (
            f" {plural(self.taken_earlier, 'more line')} it matches "
            f"{'goes' if self.taken_earlier == 1 else 'go'} to an earlier rule."
            if self.taken_earlier
            else ""
        )
        if not self.count:
            return "No unassigned line would be assigned by this rule." + earlier
        shown = f" (the first {len(self.lines)} are listed)" if self.count > len(self.lines) else ""
        return (
            f"Would assign {plural(self.count, 'unassigned line')}, net "
            f"{format_money(self.total)}{shown}.{earlier}"
        )


def preview(
    db: Database, grant_reference: str, field: str, op: str, value: str, place: int | None = None
) -> Preview:
    """What the rule would assign among the grant's unassigned lines, standing at ``place``
    in the order (a new rule: after every rule): a line a rule before it matches goes there."""
    try:
        rules.check_rule(field, op, value)
    except FundtrackerError as error:
        return Preview((), 0, ZERO, f"Not a rule yet: {error}")
    test = rules.CompiledRule(field, op, value.strip().casefold(), 0, _pattern(op, value))
    matched: list[PreviewLine] = []
    count, total, taken = 0, ZERO, 0
    with db.read() as session:
        grant = get_grant(session, grant_reference)
        earlier = rules.grant_rules(session, grant.id)
        earlier = earlier if place is None else earlier[: place - 1]
        for line in session.scalars(
            select(SpendLine)
            .where(SpendLine.grant_id == grant.id, SpendLine.allocation_id.is_(None))
            .order_by(SpendLine.id)
        ):
            if not test.matches(str(getattr(line, field))):
                continue
            fields = {name: str(getattr(line, name)) for name in RULE_FIELDS}
            if rules.first_match(earlier, fields) is not None:
                taken += 1
            else:
                count, total = count + 1, total + line.net
                if len(matched) < PREVIEW_LIMIT:
                    matched.append(
                        PreviewLine(line.id, line.date, line.supplier, line.description, line.net)
                    )
    return Preview(tuple(matched), count, total, taken_earlier=taken)


def _pattern(op: str, value: str) -> re.Pattern[str] | None:
    return re.compile(value, re.IGNORECASE) if op == "regex" else None


def rule_from_line(supplier: str, description: str, reference: str) -> tuple[str, str, str]:
    """The rule *Make a rule from this line…* starts with: (field, op, value). The supplier
    when the line has one (the usual way to recognise spend), else its description."""
    if supplier.strip():
        return "supplier", "equals", supplier.strip()
    if description.strip():
        return "description", "contains", description.strip()
    return "reference", "equals", reference.strip()
