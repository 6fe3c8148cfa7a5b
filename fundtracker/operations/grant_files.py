"""A grant file imported as one operation: it creates the grant or makes it match the file, and
its inverse puts back the grant as it was (or removes the grant it created) — refused when
anything in the grant changed after the import."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundtracker.errors import ConflictError, ValidationError
from fundtracker.models import (
    AssignmentRule,
    Grant,
    ImportBatch,
    Narrative,
    SpendLine,
    Submission,
)
from fundtracker.operations import EVERY_KIND, Changes, Kind, Operation, changes
from fundtracker.services.grants import get_grant, grant_spec, import_grant
from fundtracker.setup_files import GrantSpec
from fundtracker.storage import Database

# A grant file can change the grant, its payments, projects, weights and profiles.
GRANT_FILE_KINDS = (Kind.GRANTS, Kind.GRANT, Kind.ALLOCATIONS, Kind.WEIGHTS)


def current_spec(db: Database, reference: str) -> GrantSpec | None:
    """The grant as its setup file would say it is now, or None when there is no such grant."""
    with db.read() as session:
        found = session.scalar(select(Grant.id).where(Grant.reference == reference))
        return grant_spec(get_grant(session, reference)) if found else None


def refuse_if_changed(db: Database, reference: str, expected: GrantSpec) -> None:
    if current_spec(db, reference) != expected:
        raise ConflictError(
            f"grant {reference} was changed after the grant file was imported; nothing was "
            "changed: undo those changes first, or edit the grant instead"
        )


@dataclass(frozen=True)
class ImportGrantFile(Operation):
    """Create the grant the file describes, or make the stored one match it."""

    spec: GrantSpec
    file_name: str = "grant file"
    expected: GrantSpec | None = None  # as an undo: what the grant must still be

    @property
    def description(self) -> str:
        return self.file_name if self.expected else f"Import {self.file_name}"

    def run(self, db: Database) -> Changes:
        reference = self.spec.reference
        if self.expected is not None:
            refuse_if_changed(db, reference, self.expected)
        before = current_spec(db, reference)
        import_grant(db, self.spec)
        after = current_spec(db, reference)
        assert after is not None
        inverse: Operation = (
            RemoveGrant(reference, after)
            if before is None
            else ImportGrantFile(before, self.file_name, after)
        )
        return changes(self.description, reference, GRANT_FILE_KINDS, inverse, after)


@dataclass(frozen=True)
class RemoveGrant(Operation):
    """Remove a grant that holds no records of its own yet (the undo of creating it)."""

    reference: str
    expected: GrantSpec

    @property
    def description(self) -> str:
        return f"Remove grant {self.reference}"

    def run(self, db: Database) -> Changes:
        refuse_if_changed(db, self.reference, self.expected)
        with db.unit_of_work() as session:
            grant = get_grant(session, self.reference)
            _refuse_records(session, grant)
            session.delete(grant)  # its payments, projects, weights and profiles go with it
        others = _any_grant(db)
        return changes(
            self.description,
            others,
            EVERY_KIND,
            ImportGrantFile(self.expected, f"grant {self.reference}"),
        )


def _refuse_records(session: Session, grant: Grant) -> None:
    held = []
    for model, noun in (
        (SpendLine, "spend lines"),
        (ImportBatch, "ledger imports"),
        (Submission, "submitted returns"),
        (Narrative, "narratives"),
        (AssignmentRule, "assignment rules"),
    ):
        count = session.scalar(
            select(func.count()).select_from(model).where(model.grant_id == grant.id)
        )
        if count:
            held.append(f"{count} {noun}")
    if held:
        raise ValidationError(
            f"grant {grant.reference} now holds {', '.join(held)}; it was not removed"
        )


def _any_grant(db: Database) -> str | None:
    """A grant to show once the current one is gone (the latest by start date)."""
    with db.read() as session:
        return session.scalar(
            select(Grant.reference).order_by(Grant.start_date.desc(), Grant.reference).limit(1)
        )
