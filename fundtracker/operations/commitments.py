"""Commitments that clear, as operations: release a commitment, invoice it (a new actual line)
or match it to an actual line already recorded. Each inverse checks the versions it leaves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from fundtracker.models import Grant, SpendLine
from fundtracker.operations import Changes, Kind, Operation, changes, expect_version
from fundtracker.services.spend import (
    delete_spend,
    invoice_commitment,
    match_commitment,
    release_commitment,
    unrelease_commitment,
)
from fundtracker.storage import Database

SPEND = (Kind.SPEND,)


def _grant_of(db: Database, line: SpendLine) -> str:
    with db.read() as session:
        return session.get_one(Grant, line.grant_id).reference


@dataclass(frozen=True)
class ReleaseCommitment(Operation):
    """Cancel a commitment on ``on`` (None: today)."""

    line_id: int
    version: int
    on: date | None = None

    @property
    def description(self) -> str:
        return f"Release commitment {self.line_id}"

    def run(self, db: Database) -> Changes:
        line = release_commitment(db, self.line_id, self.on, expected_version=self.version)
        inverse = Unrelease(self.line_id, line.version, redo=self)
        return changes(self.description, _grant_of(db, line), SPEND, inverse, line)


@dataclass(frozen=True)
class InvoiceCommitment(Operation):
    """Replace a commitment by its invoice: ``values`` holds date, net and optionally vat and
    reference of the new actual line."""

    line_id: int
    version: int
    values: Mapping[str, object]

    @property
    def description(self) -> str:
        return f"Invoice commitment {self.line_id}"

    def run(self, db: Database) -> Changes:
        commitment, actual = invoice_commitment(
            db, self.line_id, self.values, expected_version=self.version
        )
        inverse = Unrelease(
            self.line_id, commitment.version, (actual.id, actual.version), redo=self
        )
        return changes(self.description, _grant_of(db, actual), SPEND, inverse, actual)


@dataclass(frozen=True)
class MatchCommitment(Operation):
    """Pair a commitment with an actual line already recorded."""

    line_id: int
    version: int
    actual_id: int

    @property
    def description(self) -> str:
        return f"Match commitment {self.line_id} to line {self.actual_id}"

    def run(self, db: Database) -> Changes:
        commitment, actual = match_commitment(
            db, self.line_id, self.actual_id, expected_version=self.version
        )
        inverse = Unrelease(self.line_id, commitment.version, redo=self)
        return changes(self.description, _grant_of(db, actual), SPEND, inverse, actual)


@dataclass(frozen=True)
class Unrelease(Operation):
    """The undo of a release, invoice or match: the commitment counts again, and an invoice
    line made by the invoicing is deleted. Its own inverse runs ``redo`` again at the
    commitment's new version."""

    line_id: int
    version: int
    invoice_line: tuple[int, int] | None = None  # (id, version) of the line the invoice made
    redo: Operation | None = None

    @property
    def description(self) -> str:
        return f"Undo the release of commitment {self.line_id}"

    def run(self, db: Database) -> Changes:
        if self.invoice_line is not None:
            with db.unit_of_work() as session:
                expect_version(session, SpendLine, *self.invoice_line, "the invoice line")
            delete_spend(db, self.invoice_line[0], expected_version=self.invoice_line[1])
        line = unrelease_commitment(db, self.line_id, expected_version=self.version)
        inverse = _redo_at(self.redo, line.version)
        return changes(self.description, _grant_of(db, line), SPEND, inverse, line)


def _redo_at(redo: Operation | None, version: int) -> Operation | None:
    if isinstance(redo, ReleaseCommitment):
        return ReleaseCommitment(redo.line_id, version, redo.on)
    if isinstance(redo, InvoiceCommitment):
        return InvoiceCommitment(redo.line_id, version, redo.values)
    if isinstance(redo, MatchCommitment):
        return MatchCommitment(redo.line_id, version, redo.actual_id)
    return None
