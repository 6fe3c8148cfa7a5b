"""Year operations: close and reopen a grant's year, start the next year's grant from it, and
move lines dated in the new year to it. Each runs in one unit of work with an inverse."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from fundtracker.models import SpendLine
from fundtracker.next_year import discard_new_grant, move_lines, start_next_year
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
from fundtracker.services.grants import load_grant
from fundtracker.storage import Database
from fundtracker.year_end import close_grant, reopen_grant

GRANT = (Kind.GRANT, Kind.RETURNS)


@dataclass(frozen=True)
class CloseGrant(Operation):
    """Close the year; the result is the year-end statement."""

    grant: str
    reason: str = ""

    @property
    def description(self) -> str:
        return f"Close the year of {self.grant}"

    def run(self, db: Database) -> Changes:
        statement = close_grant(db, self.grant, self.reason)
        inverse = ReopenGrant(self.grant, f"undo: {self.description}")
        return changes(self.description, self.grant, GRANT, inverse, statement)


@dataclass(frozen=True)
class ReopenGrant(Operation):
    grant: str
    reason: str

    @property
    def description(self) -> str:
        return f"Reopen the year of {self.grant}"

    def run(self, db: Database) -> Changes:
        reopen_grant(db, self.grant, self.reason)
        return changes(self.description, self.grant, GRANT, CloseGrant(self.grant, self.reason))


@dataclass(frozen=True)
class StartNextYear(Operation):
    """Start the following financial year's grant; the result is a ``NextYear``."""

    grant: str
    new_reference: str
    award: Decimal | None = None
    local_plan: str | None = None

    @property
    def description(self) -> str:
        return f"Start {self.new_reference} from {self.grant}"

    def run(self, db: Database) -> Changes:
        started = start_next_year(db, self.grant, self.new_reference, self.award, self.local_plan)
        version = load_grant(db, started.reference).version
        inverse = DiscardNextYear(self, version)
        kinds = (Kind.GRANTS, Kind.GRANT, Kind.ALLOCATIONS, Kind.WEIGHTS, Kind.RULES)
        return changes(self.description, started.reference, kinds, inverse, started)


@dataclass(frozen=True)
class DiscardNextYear(Operation):
    """The undo of starting a grant: remove it while nothing has been added to it."""

    started: StartNextYear
    version: int

    @property
    def description(self) -> str:
        return f"Remove {self.started.new_reference}"

    def run(self, db: Database) -> Changes:
        discard_new_grant(db, self.started.new_reference, self.version)
        kinds = (Kind.GRANTS, Kind.GRANT, Kind.ALLOCATIONS, Kind.WEIGHTS, Kind.RULES)
        return changes(self.description, self.started.grant, kinds, self.started)


@dataclass(frozen=True)
class MoveLinesToGrant(Operation):
    """Move lines, each as seen, to another grant: all or none. A page passes the versions
    it saw; the inverse passes the lines' values as moved, so the undo still goes ahead after
    a later step on a line was made and undone."""

    versions: Sequence[tuple[int, Expected]]  # (line id, version or row state)
    source: str
    target: str

    @property
    def description(self) -> str:
        return f"Move {plural(len(self.versions), 'spend line')} to {self.target}"

    def run(self, db: Database) -> Changes:
        moved = move_lines(db, _versions_now(db, self.versions), self.target)
        with db.read() as session:
            states = tuple((i, row_state(session.get_one(SpendLine, i))) for i, _v in moved)
        inverse = MoveLinesToGrant(states, self.target, self.source)
        return changes(self.description, self.target, (Kind.SPEND,), inverse, moved)


def _versions_now(db: Database, seen: Sequence[tuple[int, Expected]]) -> list[tuple[int, int]]:
    """Each line's version now, refusing any changed since it was seen."""
    now: list[tuple[int, int]] = []
    with db.unit_of_work() as session:
        for line_id, expected in seen:
            line = expect_version(session, SpendLine, line_id, expected, f"spend line {line_id}")
            now.append((line_id, line.version))
    return now
