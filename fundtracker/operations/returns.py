"""Submitting and reopening a return, and attaching evidence, as operations.

A submission is an immutable record: it has no undo (the way back is *Reopen*, with a reason,
which is itself audited and has none either). Attaching evidence is undone by detaching the
link; the file stays in the content-addressed evidence store, so a redo links it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from fundtracker.errors import ValidationError
from fundtracker.models import Attachment, Grant, SpendLine
from fundtracker.operations import (
    Changes,
    Kind,
    Operation,
    RowState,
    changes,
    expect_version,
    row_state,
)
from fundtracker.periods import Period
from fundtracker.returns.evidence import attach
from fundtracker.returns.submission import export_return, reopen_return
from fundtracker.storage import Database

_ATTACHMENT_COLUMNS = tuple(c.key for c in inspect(Attachment).column_attrs)


@dataclass(frozen=True)
class SubmitReturn(Operation):
    """Write the period's return to ``path`` and record it as submitted (no undo)."""

    grant: str
    period: Period
    path: Path
    prepared_by: str | None = None
    own_unit_of_work: ClassVar[bool] = True  # committed before the workbook is put in place

    @property
    def description(self) -> str:
        return f"Submit the return for {self.period}"

    def run(self, db: Database) -> Changes:
        result = export_return(
            db, self.grant, self.period, self.path, prepared_by=self.prepared_by, submit=True
        )
        return changes(self.description, self.grant, (Kind.RETURNS,), None, result)


@dataclass(frozen=True)
class ReopenReturn(Operation):
    grant: str
    period: Period
    reason: str

    @property
    def description(self) -> str:
        return f"Reopen the return for {self.period}"

    def run(self, db: Database) -> Changes:
        info = reopen_return(db, self.grant, self.period, self.reason)
        return changes(self.description, self.grant, (Kind.RETURNS,), None, info)


@dataclass(frozen=True)
class AttachEvidence(Operation):
    line_id: int
    source: Path

    @property
    def description(self) -> str:
        return f"Attach {self.source.name} to line {self.line_id}"

    def run(self, db: Database) -> Changes:
        info = attach(db, self.line_id, self.source)
        if info.already_attached:
            raise ValidationError(f"{self.source.name} is already attached to line {self.line_id}")
        with db.unit_of_work() as session:
            attachment = session.get_one(Attachment, info.id)
            inverse = DetachEvidence(info.id, row_state(attachment))
            grant = _grant_of(session, self.line_id)
        return changes(self.description, grant, (Kind.ATTACHMENTS, Kind.SPEND), inverse, info)


@dataclass(frozen=True)
class DetachEvidence(Operation):
    """Remove the link between a line and a file (the file stays in the evidence store)."""

    attachment_id: int
    expected: RowState

    @property
    def description(self) -> str:
        return "Remove the evidence link"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            attachment = expect_version(
                session, Attachment, self.attachment_id, self.expected, "the evidence link"
            )
            columns = {name: getattr(attachment, name) for name in _ATTACHMENT_COLUMNS}
            grant = _grant_of(session, attachment.spend_line_id)
            session.delete(attachment)
        kinds = (Kind.ATTACHMENTS, Kind.SPEND)
        return changes(self.description, grant, kinds, RelinkEvidence(columns))


@dataclass(frozen=True)
class RelinkEvidence(Operation):
    columns: dict[str, Any]

    @property
    def description(self) -> str:
        return "Link the evidence again"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            attachment = Attachment(**self.columns)
            session.add(attachment)
            session.flush()
            inverse = DetachEvidence(attachment.id, row_state(attachment))
            grant = _grant_of(session, attachment.spend_line_id)
        return changes(self.description, grant, (Kind.ATTACHMENTS, Kind.SPEND), inverse)


def _grant_of(session: Session, line_id: int) -> str:
    line = session.get_one(SpendLine, line_id)
    return session.get_one(Grant, line.grant_id).reference
