"""Spend line operations: add, edit, delete, assign, split and rejoin, each all or nothing with
an inverse that checks the versions it leaves behind."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fundtracker.models import Grant, SpendLine
from fundtracker.operations import (
    Changes,
    Expected,
    Kind,
    Operation,
    changes,
    expect_version,
    plural,
    row_state,
)
from fundtracker.services.spend import (
    DeletedSpend,
    add_spend,
    delete_spend,
    parse_fields,
    rejoin_spend,
    restore_spend,
    split_spend,
    update_spend,
)
from fundtracker.storage import Database

SPEND = (Kind.SPEND,)


def _grant_of(db: Database, line: SpendLine) -> str:
    return _reference(db, line.grant_id)


def _field_value(line: SpendLine, name: str) -> object:
    """A field of a line as ``parse_fields`` takes it back."""
    if name == "allocation":
        return line.allocation.code if line.allocation else None
    return getattr(line, name)


@dataclass(frozen=True)
class AddLine(Operation):
    grant: str
    values: Mapping[str, object]

    @property
    def description(self) -> str:
        return "Add spend line"

    def run(self, db: Database) -> Changes:
        line = add_spend(db, self.grant, self.values)
        inverse = DeleteLines(((line.id, row_state(line)),))
        return changes(self.description, self.grant, SPEND, inverse, line)


@dataclass(frozen=True)
class EditLine(Operation):
    """Change some fields of one line, refused if it moved on from what was seen."""

    line_id: int
    values: Mapping[str, object]
    version: Expected

    @property
    def description(self) -> str:
        names = ", ".join(name.replace("_", " ") for name in self.values)
        return f"Change {names} of line {self.line_id}"

    def run(self, db: Database) -> Changes:
        parse_fields(self.values)  # refuse bad input before reading anything
        with db.unit_of_work() as session:
            line = expect_version(
                session, SpendLine, self.line_id, self.version, f"spend line {self.line_id}"
            )
            before = {name: _field_value(line, name) for name in self.values}
        line = update_spend(db, self.line_id, self.values)
        inverse = EditLine(self.line_id, before, row_state(line))
        return changes(self.description, _grant_of(db, line), SPEND, inverse, line)


@dataclass(frozen=True)
class DeleteLines(Operation):
    """Delete lines, each at the version the person saw: all of them or none."""

    versions: Sequence[tuple[int, Expected]]  # (line id, as it was seen)

    @property
    def description(self) -> str:
        return f"Delete {plural(len(self.versions), 'spend line')}"

    def run(self, db: Database) -> Changes:
        grant = ""
        deleted: list[DeletedSpend] = []
        for line_id, version in self.versions:
            with db.unit_of_work() as session:
                expect_version(session, SpendLine, line_id, version, f"spend line {line_id}")
            record = delete_spend(db, line_id)
            grant = grant or _reference(db, record.columns["grant_id"])
            deleted.append(record)
        return changes(self.description, grant or None, SPEND, RestoreLines(tuple(deleted)))


@dataclass(frozen=True)
class RestoreLines(Operation):
    """Put deleted lines back exactly as they were (the same ids, batches and evidence)."""

    records: Sequence[DeletedSpend]

    @property
    def description(self) -> str:
        return f"Restore {plural(len(self.records), 'spend line')}"

    def run(self, db: Database) -> Changes:
        restored = [restore_spend(db, record) for record in self.records]
        grant = _reference(db, restored[0].grant_id) if restored else None
        inverse = DeleteLines(tuple((line.id, row_state(line)) for line in restored))
        return changes(self.description, grant, SPEND, inverse, restored)


@dataclass(frozen=True)
class AssignLines(Operation):
    """Give each line a project (a code, or None for unassigned) at the version seen."""

    targets: Sequence[tuple[int, Expected, str | None]]  # (line id, as seen, project code)

    @property
    def description(self) -> str:
        codes = {code for _, _, code in self.targets}
        to = (codes.pop() or "no project") if len(codes) == 1 else "their projects"
        return f"Assign {plural(len(self.targets), 'line')} to {to}"

    def run(self, db: Database) -> Changes:
        before: list[tuple[int, Expected, str | None]] = []
        grant = None
        for line_id, version, code in self.targets:
            with db.unit_of_work() as session:
                line = expect_version(session, SpendLine, line_id, version, f"spend line {line_id}")
                old = _field_value(line, "allocation")
            line = update_spend(db, line_id, {"allocation": code})
            before.append((line_id, row_state(line), old if isinstance(old, str) else None))
            grant = grant or _grant_of(db, line)
        return changes(self.description, grant, SPEND, AssignLines(tuple(before)))


@dataclass(frozen=True)
class SplitLine(Operation):
    """Split a line across projects: ``parts`` are (code or None, net) adding up to its net."""

    line_id: int
    version: Expected
    parts: Sequence[tuple[str | None, Decimal]]

    @property
    def description(self) -> str:
        return f"Split line {self.line_id}"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            line = expect_version(
                session, SpendLine, self.line_id, self.version, f"spend line {self.line_id}"
            )
            allocation = _field_value(line, "allocation")
        lines = split_spend(db, self.line_id, list(self.parts))
        inverse = RejoinLine(
            self.line_id,
            row_state(lines[0]),
            tuple((part.id, row_state(part)) for part in lines[1:]),
            allocation if isinstance(allocation, str) else None,
        )
        return changes(self.description, _grant_of(db, lines[0]), SPEND, inverse, lines)


@dataclass(frozen=True)
class RejoinLine(Operation):
    """Undo a split: the line takes back its parts' amounts and its project."""

    line_id: int
    version: Expected
    parts: Sequence[tuple[int, Expected]]  # (part line id, as the split left it)
    allocation: str | None

    @property
    def description(self) -> str:
        return f"Rejoin line {self.line_id}"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            line = expect_version(
                session, SpendLine, self.line_id, self.version, f"spend line {self.line_id}"
            )
            parts: list[tuple[str | None, Decimal]] = [
                (_code(line), line.net),
            ]
            for part_id, version in self.parts:
                part = expect_version(session, SpendLine, part_id, version, f"spend line {part_id}")
                parts.append((_code(part), part.net))
        joined = rejoin_spend(db, self.line_id, [p for p, _ in self.parts], self.allocation)
        inverse = SplitLine(self.line_id, row_state(joined), tuple(parts))
        return changes(self.description, _grant_of(db, joined), SPEND, inverse, joined)


def _code(line: SpendLine) -> str | None:
    return line.allocation.code if line.allocation else None


def _reference(db: Database, grant_id: Any) -> str:
    with db.read() as session:
        return session.get_one(Grant, grant_id).reference
