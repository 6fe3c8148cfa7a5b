"""The OPCC's changes as operations (issue 11's rule): receiving a batch of returns (workbooks,
or the returns submitted in this same database), recording a funded partnership. Each one unit
of work with an inverse built from the rows it left."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fundtracker.errors import ConflictError
from fundtracker.models import FundedPartnership, ReceivedReturn
from fundtracker.opcc.receiving import (
    Outcome,
    RefusedReturn,
    Stored,
    VerifiedReturn,
    refused_file,
    standing_submissions,
    store,
    submitted_return,
    verify_workbook,
)
from fundtracker.opcc.template_receiving import verify_template_workbook
from fundtracker.operations import (
    Changes,
    Expected,
    Kind,
    Operation,
    RowState,
    changes,
    expect_version,
    plural,
    row_state,
)
from fundtracker.periods import Period
from fundtracker.returns.template import ReturnTemplate
from fundtracker.storage import Database

RECEIVED = (Kind.RETURNS,)
FUNDED = (Kind.GRANTS,)
StatusState = tuple[tuple[int, str, int | None], ...]  # (id, status, superseded_by)
FullRow = tuple[tuple[str, Any], ...]  # every column, the snapshot included


@dataclass(frozen=True)
class ReceiveReturns(Operation):
    """Receive a batch of workbooks: one step, whatever became of each file."""

    paths: tuple[str, ...]
    at: datetime | None = None  # when they arrived: now, unless recorded after the fact
    template: str | None = None  # the funder's template the files were filled into ...
    map: str | None = None  # ... by this map (issue 15); without them the files are ours

    @property
    def description(self) -> str:
        return f"Receive {plural(len(self.paths), 'return file')}"

    def run(self, db: Database) -> Changes:
        verify: Callable[[Path], VerifiedReturn]
        if self.template is not None and self.map is not None:
            funders = ReturnTemplate.load(Path(self.template), Path(self.map))
            verify = partial(verify_template_workbook, funders=funders)
        else:
            verify = verify_workbook
        done: list[Stored] = []
        for path in self.paths:
            try:
                verified = verify(Path(path))
            except RefusedReturn as exc:
                done.append(Stored(refused_file(Path(path), str(exc))))
                continue
            done.append(_store_once(db, verified, self.at))
        return _received(db, self.description, done)


@dataclass(frozen=True)
class ReceiveSubmitted(Operation):
    """Receive the returns submitted in this database (partnerships sharing the OPCC's
    server), as their workbooks would be: one step. Only standing submissions are taken; a
    reopened return is taken once it is submitted again."""

    period: str | None = None  # the returns for periods ending when this one does; or all
    at: datetime | None = None  # when they arrived: by default, when each was submitted

    @property
    def description(self) -> str:
        which = f"{self.period} returns" if self.period else "returns"
        return f"Receive the {which} submitted in this database"

    def run(self, db: Database) -> Changes:
        period = Period.parse(self.period) if self.period else None
        with db.read() as session:
            submissions = standing_submissions(session, period)
        done: list[Stored] = []
        for submission_id in submissions:  # one snapshot in memory at a time
            with db.read() as session:
                verified = submitted_return(session, submission_id)
            if isinstance(verified, Outcome):
                done.append(Stored(verified))
            else:
                done.append(_store_once(db, verified, self.at))
        return _received(db, self.description, done)


def _received(db: Database, description: str, done: list[Stored]) -> Changes:
    """The Changes of a batch received: undone by removing what it added."""
    with db.unit_of_work() as session:
        added = tuple(
            (s.added_id, row_state(session.get_one(ReceivedReturn, s.added_id)))
            for s in done
            if s.added_id is not None
        )
    # Only rows that were here before the batch get their status back; the batch's own rows
    # simply go.
    ids = {row_id for row_id, _ in added}
    before = tuple(state for s in done for state in s.superseded if state[0] not in ids)
    inverse = ForgetReceived(added, before) if added else None
    return changes(description, None, RECEIVED, inverse, [s.outcome for s in done])


def _store_once(db: Database, verified: VerifiedReturn, at: datetime | None) -> Stored:
    """Store one verified return. On a shared server another officer may receive the same
    file at the same moment: the second insert then waits for the first and breaks a unique
    key. Stored again, it finds the first one's row and gives the usual "already" answer."""
    try:
        with db.unit_of_work() as session:
            return store(session, verified, at)
    except IntegrityError:
        with db.unit_of_work() as session:
            return store(session, verified, at)


def _set_statuses(session: Session, statuses: StatusState) -> StatusState:
    """Put statuses back; returns what they were, for the way back."""
    was = []
    for row_id, status, superseded_by in statuses:
        row = session.get(ReceivedReturn, row_id)
        if row is None:
            raise ConflictError("a received return was removed by someone else; nothing changed")
        was.append((row.id, row.status, row.superseded_by_id))
        row.status, row.superseded_by_id = status, superseded_by
    return tuple(was)


def _full_row(row: ReceivedReturn) -> FullRow:
    return tuple((c.key, getattr(row, c.key)) for c in inspect(row).mapper.column_attrs)


@dataclass(frozen=True)
class ForgetReceived(Operation):
    """Remove received returns (the undo of receiving them), putting back the statuses of the
    versions they superseded."""

    rows: tuple[tuple[int, RowState], ...]
    statuses: StatusState = ()

    @property
    def description(self) -> str:
        return f"Remove {plural(len(self.rows), 'received return')}"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            removed = []
            for row_id, state in self.rows:
                row = expect_version(session, ReceivedReturn, row_id, state, "a received return")
                removed.append(_full_row(row))
                session.delete(row)
            session.flush()
            was = _set_statuses(session, self.statuses)
        inverse = RestoreReceived(tuple(removed), was)
        return changes(self.description, None, RECEIVED, inverse)


@dataclass(frozen=True)
class RestoreReceived(Operation):
    """Put removed received returns back as they were (the redo of receiving them)."""

    rows: tuple[FullRow, ...]
    statuses: StatusState = ()

    @property
    def description(self) -> str:
        return f"Receive {plural(len(self.rows), 'return')} again"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            restored = []
            for values in self.rows:
                fields = dict(values)
                _refuse_taken(session, fields)
                row = ReceivedReturn(**fields)
                session.add(row)
                restored.append(row)
            session.flush()
            was = _set_statuses(session, self.statuses)
            states = tuple((row.id, row_state(row)) for row in restored)
        return changes(self.description, None, RECEIVED, ForgetReceived(states, was))


def _refuse_taken(session: Session, fields: dict[str, Any]) -> None:
    clash = session.scalar(
        select(ReceivedReturn.id).where(
            or_(
                ReceivedReturn.file_sha256 == fields["file_sha256"],
                (ReceivedReturn.grant_reference == fields["grant_reference"])
                & (ReceivedReturn.period == fields["period"])
                & (ReceivedReturn.version_number == fields["version_number"]),
            )
        )
    )
    if clash is not None:
        raise ConflictError(
            f"{fields['grant_reference']} {fields['period']} version "
            f"{fields['version_number']} was received again since; nothing was changed"
        )


@dataclass(frozen=True)
class AddFunded(Operation):
    """Record a partnership the OPCC funds, whose returns it then expects."""

    values: tuple[tuple[str, Any], ...]  # FundedPartnership fields, checked by the caller

    @property
    def description(self) -> str:
        return f"Record funded partnership {dict(self.values)['grant_reference']}"

    def run(self, db: Database) -> Changes:
        from fundtracker.opcc.funded import add_funded

        with db.unit_of_work() as session:
            row = add_funded(session, dict(self.values))
            inverse = RemoveFunded(row.id, row_state(row))
        return changes(self.description, None, FUNDED, inverse, row)


@dataclass(frozen=True)
class RemoveFunded(Operation):
    row_id: int
    state: RowState

    @property
    def description(self) -> str:
        return "Remove funded partnership"

    def run(self, db: Database) -> Changes:
        with db.unit_of_work() as session:
            row = expect_version(
                session, FundedPartnership, self.row_id, self.state, "the funded partnership"
            )
            values = tuple(
                (c.key, getattr(row, c.key))
                for c in inspect(row).mapper.column_attrs
                if c.key not in ("id", "version")
            )
            session.delete(row)
        return changes(self.description, None, FUNDED, AddFunded(values))


@dataclass(frozen=True)
class UpdateFunded(Operation):
    """Change a funded partnership's details (its award, dates, how often it reports)."""

    row_id: int
    expected: Expected  # the version the officer saw, or the row an undo left
    values: tuple[tuple[str, Any], ...]  # every FundedPartnership field, checked by the caller

    @property
    def description(self) -> str:
        return f"Edit funded partnership {dict(self.values)['grant_reference']}"

    def run(self, db: Database) -> Changes:
        from fundtracker.opcc.funded import refuse_taken_reference

        with db.unit_of_work() as session:
            row = expect_version(
                session, FundedPartnership, self.row_id, self.expected, "the funded partnership"
            )
            fields = dict(self.values)
            refuse_taken_reference(session, fields["grant_reference"], row.id)
            was = tuple((key, getattr(row, key)) for key in fields)
            for key, value in fields.items():
                setattr(row, key, value)
            session.flush()
            inverse = UpdateFunded(row.id, row_state(row), was)
        return changes(self.description, None, FUNDED, inverse, row)
