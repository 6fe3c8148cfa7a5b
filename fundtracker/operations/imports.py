"""Ledger imports as operations: importing a file is one step whose inverse undoes its batch, and
undoing a batch is one step whose inverse puts the very same lines (ids, evidence) back.

Undoing an import refuses when any of its lines changed or went since it was imported, so an
undo never throws away someone's later work on those lines without saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, cast

from sqlalchemy import Table, insert, inspect, select, update

from fundtracker import audit
from fundtracker.errors import ConflictError, NotFoundError, ValidationError
from fundtracker.ledger.importer import (
    ImportOptions,
    ImportProgress,
    ImportResult,
    commit_import,
    undo_batch,
)
from fundtracker.models import Attachment, Grant, ImportBatch, SpendLine
from fundtracker.operations import Changes, Kind, Operation, RowState, changes, plural, row_state
from fundtracker.services.locks import refuse_locked_date
from fundtracker.storage import Database

IMPORT_KINDS = (Kind.SPEND, Kind.IMPORTS)
# Every stored column of a line but the one the database computes itself.
_LINE_COLUMNS = tuple(c.key for c in inspect(SpendLine).column_attrs if c.key != "search_text")
_ATTACHMENT_COLUMNS = tuple(c.key for c in inspect(Attachment).column_attrs)
LINES, ATTACHMENTS = cast(Table, SpendLine.__table__), cast(Table, Attachment.__table__)


@dataclass(frozen=True)
class ImportLedger(Operation):
    grant: str
    path: Path
    options: ImportOptions
    progress: Callable[[ImportProgress], None] | None = field(default=None, compare=False)
    cancel: Callable[[], bool] | None = field(default=None, compare=False)
    # The importer reads the file before it opens its writing transaction (so a long file
    # holds no write lock while it is read): it must not run inside an outer one.
    own_unit_of_work: ClassVar[bool] = True

    @property
    def description(self) -> str:
        return f"Import {self.path.name}"

    def run(self, db: Database) -> Changes:
        result: ImportResult = commit_import(
            db, self.grant, self.path, self.options, self.progress, self.cancel,
            reason=self.description,
        )  # fmt: skip
        inverse = None
        if result.batch is not None and not result.refused:
            inverse = UndoBatch(result.batch, _batch_versions(db, result.batch))
        return changes(self.description, self.grant, IMPORT_KINDS, inverse, result)


@dataclass(frozen=True)
class UndoBatch(Operation):
    """Remove a batch's lines. ``versions`` (as an undo of the import) are the lines as they
    must still be; None when the officer asks for it on the Imports page."""

    batch_id: int
    versions: Sequence[tuple[int, RowState]] | None = None

    @property
    def description(self) -> str:
        return f"Undo import batch {self.batch_id}"

    def run(self, db: Database) -> Changes:
        if self.versions is not None and _batch_versions(db, self.batch_id) != tuple(self.versions):
            raise ConflictError(
                f"lines of import batch {self.batch_id} were changed or removed since it was "
                "imported; nothing was undone. Undo those changes first, or use Undo batch on "
                "the Imports page"
            )
        lines, attachments = _batch_rows(db, self.batch_id)
        undo_batch(db, self.batch_id)
        grant = _grant_of_batch(db, self.batch_id)
        inverse = RestoreBatch(self.batch_id, lines, attachments)
        return changes(self.description, grant, IMPORT_KINDS, inverse, len(lines))


@dataclass(frozen=True)
class RestoreBatch(Operation):
    """Put an undone batch's lines back exactly (the redo of an import, the undo of an undo)."""

    batch_id: int
    lines: Sequence[dict[str, Any]] = field(repr=False)
    attachments: Sequence[dict[str, Any]] = field(repr=False)

    @property
    def description(self) -> str:
        return f"Restore {plural(len(self.lines), 'line')} of import batch {self.batch_id}"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            batch = session.get(ImportBatch, self.batch_id)
            if batch is None:
                raise NotFoundError(f"no import batch with id {self.batch_id}")
            if batch.undone_at is None:
                raise ValidationError(f"import batch {self.batch_id} is not undone")
            grant = session.get_one(Grant, batch.grant_id)
            for day in {line["date"] for line in self.lines}:
                refuse_locked_date(session, grant, day, f"a line of batch {self.batch_id}")
            if self.lines:
                session.execute(insert(LINES), list(self.lines))
            if self.attachments:
                session.execute(insert(ATTACHMENTS), list(self.attachments))
            session.execute(
                update(ImportBatch).where(ImportBatch.id == self.batch_id).values(undone_at=None)
            )
            audit.record(
                session,
                "restore",
                "import batch",
                self.batch_id,
                batch.file_name,
                batch.grant_id,
                {"lines": [0, len(self.lines)]},
            )
            reference = grant.reference
        inverse = UndoBatch(self.batch_id, _batch_versions(db, self.batch_id))
        return changes(self.description, reference, IMPORT_KINDS, inverse, len(self.lines))


def _batch_versions(db: Database, batch_id: int) -> tuple[tuple[int, RowState], ...]:
    """Each line of the batch as it is now (what undoing the import expects to find)."""
    with db.read() as session:
        lines = session.scalars(
            select(SpendLine).where(SpendLine.batch_id == batch_id).order_by(SpendLine.id)
        )
        return tuple((line.id, row_state(line)) for line in lines)


def _batch_rows(
    db: Database, batch_id: int
) -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]:
    """The batch's lines and their evidence links, column by column, as stored."""
    lines_table, attachments_table = LINES, ATTACHMENTS
    with db.read() as session:
        lines = session.execute(
            select(*(lines_table.c[name] for name in _LINE_COLUMNS)).where(
                lines_table.c.batch_id == batch_id
            )
        )
        line_rows = tuple(dict(row._mapping) for row in lines)
        of_batch = select(lines_table.c.id).where(lines_table.c.batch_id == batch_id)
        links = session.execute(
            select(*(attachments_table.c[name] for name in _ATTACHMENT_COLUMNS)).where(
                attachments_table.c.spend_line_id.in_(of_batch)
            )
        )
        return line_rows, tuple(dict(row._mapping) for row in links)


def _grant_of_batch(db: Database, batch_id: int) -> str:
    with db.read() as session:
        return session.scalars(
            select(Grant.reference).join(ImportBatch).where(ImportBatch.id == batch_id)
        ).one()
