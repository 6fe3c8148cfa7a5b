"""Assignment rule operations: add, change, move, delete, and apply the rules to a grant's
unassigned lines, each one undoable step.

A rule has no version column, so every operation expects the rule as a whole row
(``row_state``): what the person saw in the Rules panel, or what an earlier step left.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from fundtracker.errors import LockedError
from fundtracker.ledger import rules
from fundtracker.models import RULE_FIELDS, AssignmentRule, Grant, SpendLine
from fundtracker.operations import (
    Changes,
    Kind,
    Operation,
    RowState,
    changes,
    expect_version,
    plural,
    row_state,
)
from fundtracker.operations.spend import AssignLines
from fundtracker.services.grants import get_grant
from fundtracker.storage import Database

RULES = (Kind.RULES,)
RULE_PARTS = ("field", "op", "value", "allocation")


def _expect(db: Database, rule_id: int, expected: RowState) -> tuple[str, dict[str, str], int]:
    """The rule's grant, its parts as ``update_rule`` takes them, and its place; refused when
    it is gone or changed since it was seen."""
    with db.unit_of_work() as session:
        rule = expect_version(session, AssignmentRule, rule_id, expected, f"rule {rule_id}")
        grant = session.get_one(Grant, rule.grant_id).reference
        parts = {
            "field": rule.field,
            "op": rule.operator,
            "value": rule.value,
            "allocation": rule.allocation.code,
        }
        return grant, parts, rules.place_of(session, rule)


@dataclass(frozen=True)
class AddRule(Operation):
    grant: str
    field: str
    op: str
    value: str
    allocation: str

    @property
    def description(self) -> str:
        return f"Add rule: {self.field} {self.op} '{self.value}' → {self.allocation}"

    def run(self, db: Database) -> Changes:
        rule = rules.add_rule(db, self.grant, self.field, self.op, self.value, self.allocation)
        inverse = DeleteRule(rule.id, row_state(rule))
        return changes(self.description, self.grant, RULES, inverse, rule.id)


@dataclass(frozen=True)
class UpdateRule(Operation):
    """Change some parts of a rule (``field``, ``op``, ``value``, ``allocation``)."""

    rule_id: int
    values: Mapping[str, str]
    expected: RowState

    @property
    def description(self) -> str:
        return f"Change rule {self.rule_id}"

    def run(self, db: Database) -> Changes:
        grant, before, _ = _expect(db, self.rule_id, self.expected)
        rule = rules.update_rule(db, self.rule_id, dict(self.values))
        undo_values = {name: before[name] for name in self.values if name in before}
        inverse = UpdateRule(self.rule_id, undo_values, row_state(rule))
        return changes(self.description, grant, RULES, inverse, rule.id)


@dataclass(frozen=True)
class MoveRule(Operation):
    """Put a rule at ``place`` in the order the grant's rules apply (1 applies first)."""

    rule_id: int
    place: int
    expected: RowState

    @property
    def description(self) -> str:
        return f"Move rule {self.rule_id} to place {self.place}"

    def run(self, db: Database) -> Changes:
        grant, _, was = _expect(db, self.rule_id, self.expected)
        rule = rules.move_rule(db, self.rule_id, self.place)
        inverse = MoveRule(self.rule_id, was, row_state(rule))
        return changes(self.description, grant, RULES, inverse, rule.id)


@dataclass(frozen=True)
class DeleteRule(Operation):
    rule_id: int
    expected: RowState

    @property
    def description(self) -> str:
        return f"Delete rule {self.rule_id}"

    def run(self, db: Database) -> Changes:
        grant, _, place = _expect(db, self.rule_id, self.expected)
        columns = dict(self.expected)
        rules.delete_rule(db, self.rule_id)
        return changes(self.description, grant, RULES, RestoreRule(columns, place))


@dataclass(frozen=True)
class RestoreRule(Operation):
    """Put a deleted rule back, with its id, in its place."""

    columns: Mapping[str, Any]
    place: int

    @property
    def description(self) -> str:
        return f"Restore rule {self.columns['id']}"

    def run(self, db: Database) -> Changes:
        rule = rules.restore_rule(db, dict(self.columns), self.place)
        with db.read() as session:
            grant = session.get_one(Grant, rule.grant_id).reference
        return changes(self.description, grant, RULES, DeleteRule(rule.id, row_state(rule)))


def unassigned_matches(db: Database, grant_reference: str) -> list[tuple[int, str]]:
    """(line id, project code) for each unassigned line of the grant a rule matches, in line
    order; the first matching rule wins, as on import."""
    with db.read() as session:
        grant = get_grant(session, grant_reference)
        compiled = rules.grant_rules(session, grant.id)
        codes = {a.id: a.code for a in grant.allocations}
        lines = session.scalars(
            select(SpendLine)
            .where(SpendLine.grant_id == grant.id, SpendLine.allocation_id.is_(None))
            .order_by(SpendLine.id)
        )
        found = []
        for line in lines:
            fields = {name: str(getattr(line, name)) for name in RULE_FIELDS}
            allocation_id = rules.first_match(compiled, fields)
            if allocation_id is not None:
                found.append((line.id, codes[allocation_id]))
        return found


@dataclass(frozen=True)
class ApplyRulesToUnassigned(Operation):
    """Every unassigned line a rule matches gets that rule's project, as one step. Lines
    counted in a submitted return are left as they are (and counted in ``result``)."""

    grant: str

    @property
    def description(self) -> str:
        return "Apply rules to unassigned lines"

    def run(self, db: Database) -> Changes:
        assigned: list[tuple[int, str]] = []
        locked: list[int] = []
        undo_targets: list[tuple[int, Any, str | None]] = []
        for line_id, code in unassigned_matches(db, self.grant):
            try:
                step = AssignLines(((line_id, _state(db, line_id), code),)).run(db)
            except LockedError:
                locked.append(line_id)
                continue
            assert isinstance(step.inverse, AssignLines)
            undo_targets.extend(step.inverse.targets)
            assigned.append((line_id, code))
        inverse = AssignLines(tuple(undo_targets))  # of no lines, when none matched
        result = ApplyResult(tuple(assigned), tuple(locked))
        return changes(self.description, self.grant, (Kind.SPEND,), inverse, result)


@dataclass(frozen=True)
class ApplyResult:
    assigned: tuple[tuple[int, str], ...]  # (line id, project code)
    locked: tuple[int, ...]  # matched lines left alone: counted in a submitted return

    def summary(self) -> str:
        text = f"assigned {plural(len(self.assigned), 'line')}"
        if self.locked:
            text += f"; left {plural(len(self.locked), 'locked line')} as they were"
        return text


def _state(db: Database, line_id: int) -> RowState:
    with db.read() as session:
        return row_state(session.get_one(SpendLine, line_id))


__all__ = [
    "RULE_PARTS",
    "AddRule",
    "ApplyResult",
    "ApplyRulesToUnassigned",
    "DeleteRule",
    "MoveRule",
    "RestoreRule",
    "UpdateRule",
    "unassigned_matches",
]
