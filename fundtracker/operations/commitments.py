"""Commitments that clear, as operations: release a commitment, invoice it (a new actual line),
match it to an actual line already recorded, or carry it into next year's grant. A page's
request carries the version the person saw; an inverse carries the rows' values as the step
left them (``row_state``), so an undo still goes ahead after a later step was made and undone,
and refuses a real change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from fundtracker.models import Grant, SpendLine
from fundtracker.operations import (
    Changes,
    Expected,
    Kind,
    Operation,
    RowState,
    changes,
    expect_version,
    row_state,
)
from fundtracker.services.spend import (
    carry_forward_commitment,
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


def _expect(db: Database, line_id: int, expected: Expected, what: str) -> None:
    """Refuse, inside the operation's unit of work, a line changed since ``expected``."""
    with db.unit_of_work() as session:
        expect_version(session, SpendLine, line_id, expected, what)


def _state(db: Database, line_id: int) -> RowState:
    with db.read() as session:
        return row_state(session.get_one(SpendLine, line_id))


@dataclass(frozen=True)
class ReleaseCommitment(Operation):
    """Cancel a commitment on ``on`` (None: today)."""

    line_id: int
    version: Expected
    on: date | None = None

    @property
    def description(self) -> str:
        return f"Release commitment {self.line_id}"

    def run(self, db: Database) -> Changes:
        _expect(db, self.line_id, self.version, f"commitment {self.line_id}")
        line = release_commitment(db, self.line_id, self.on)
        inverse = Unrelease(self.line_id, _state(db, line.id), redo=self)
        return changes(self.description, _grant_of(db, line), SPEND, inverse, line)


@dataclass(frozen=True)
class InvoiceCommitment(Operation):
    """Replace a commitment by its invoice: ``values`` holds date, net and optionally vat and
    reference of the new actual line."""

    line_id: int
    version: Expected
    values: Mapping[str, object]

    @property
    def description(self) -> str:
        return f"Invoice commitment {self.line_id}"

    def run(self, db: Database) -> Changes:
        _expect(db, self.line_id, self.version, f"commitment {self.line_id}")
        commitment, actual = invoice_commitment(db, self.line_id, self.values)
        invoice_line = (actual.id, _state(db, actual.id))
        inverse = Unrelease(self.line_id, _state(db, commitment.id), invoice_line, redo=self)
        return changes(self.description, _grant_of(db, actual), SPEND, inverse, actual)


@dataclass(frozen=True)
class MatchCommitment(Operation):
    """Pair a commitment with an actual line already recorded."""

    line_id: int
    version: Expected
    actual_id: int

    @property
    def description(self) -> str:
        return f"Match commitment {self.line_id} to line {self.actual_id}"

    def run(self, db: Database) -> Changes:
        _expect(db, self.line_id, self.version, f"commitment {self.line_id}")
        commitment, actual = match_commitment(db, self.line_id, self.actual_id)
        inverse = Unrelease(self.line_id, _state(db, commitment.id), redo=self)
        return changes(self.description, _grant_of(db, actual), SPEND, inverse, actual)


@dataclass(frozen=True)
class CarryForwardCommitment(Operation):
    """Raise an open commitment again in a later year's grant; the old grant's periods keep it
    as committed and its year can close."""

    line_id: int
    version: Expected
    to_grant: str

    @property
    def description(self) -> str:
        return f"Carry commitment {self.line_id} forward to {self.to_grant}"

    def run(self, db: Database) -> Changes:
        _expect(db, self.line_id, self.version, f"commitment {self.line_id}")
        commitment, carried = carry_forward_commitment(db, self.line_id, self.to_grant)
        carried_line = (carried.id, _state(db, carried.id))
        inverse = Unrelease(self.line_id, _state(db, commitment.id), carried_line, redo=self)
        return changes(self.description, _grant_of(db, commitment), SPEND, inverse, carried)


@dataclass(frozen=True)
class Unrelease(Operation):
    """The undo of a release, invoice, match or carry forward: the commitment counts again,
    and the line the invoicing or carrying made is deleted. Its own inverse runs ``redo``
    again at the commitment's values as it leaves them."""

    line_id: int
    state: RowState  # the commitment as the release left it
    invoice_line: tuple[int, RowState] | None = None  # the line the step made, as made
    redo: Operation | None = None

    @property
    def description(self) -> str:
        return f"Undo the release of commitment {self.line_id}"

    def run(self, db: Database) -> Changes:
        _expect(db, self.line_id, self.state, f"commitment {self.line_id}")
        if self.invoice_line is not None:
            _expect(db, *self.invoice_line, f"spend line {self.invoice_line[0]}")
            delete_spend(db, self.invoice_line[0])
        line = unrelease_commitment(db, self.line_id)
        inverse = _redo_at(self.redo, _state(db, line.id))
        return changes(self.description, _grant_of(db, line), SPEND, inverse, line)


def _redo_at(redo: Operation | None, version: RowState) -> Operation | None:
    if isinstance(redo, ReleaseCommitment):
        return ReleaseCommitment(redo.line_id, version, redo.on)
    if isinstance(redo, InvoiceCommitment):
        return InvoiceCommitment(redo.line_id, version, redo.values)
    if isinstance(redo, MatchCommitment):
        return MatchCommitment(redo.line_id, version, redo.actual_id)
    if isinstance(redo, CarryForwardCommitment):
        return CarryForwardCommitment(redo.line_id, version, redo.to_grant)
    return None
