"""Operations: every change a person can make, as a value that runs in one unit of work and says
what it changed (after Anki's ``CollectionOp`` and ``OpChanges``).

An ``Operation`` is a small frozen dataclass holding what the person asked for. ``run_operation``
runs it in one unit of work (every service call inside joins that transaction, so a multi-row
action is all or nothing) and returns ``Changes``: the grant it touched, the kinds of thing it
touched, and its *inverse* — another operation, built here in the core from the rows as they
were and the versions they have now. Undo runs the inverse; the inverse's own ``Changes`` carry
the redo. An inverse that meets a row someone changed since refuses whole with a
``ConflictError``, like any other edit, and is audited like any other change.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from fundtracker.errors import ConflictError, NotFoundError
from fundtracker.models import Base
from fundtracker.storage import Database


class Kind(StrEnum):
    """What an operation may have changed; each view refreshes on the kinds it shows."""

    GRANTS = "grants"  # the list of grants: one created, renamed or removed
    GRANT = "grant"  # a grant's details, payments and conditions
    ALLOCATIONS = "allocations"  # projects: budgets, profiles, leads, codes
    WEIGHTS = "weights"
    SPEND = "spend"
    PLANS = "plans"
    RULES = "rules"
    RETURNS = "returns"  # narratives, submissions, reopenings
    SETTINGS = "settings"
    ATTACHMENTS = "attachments"
    IMPORTS = "imports"


EVERY_KIND = frozenset(Kind)


@dataclass(frozen=True)
class Changes:
    """What one operation did. ``description`` names it as the Edit menu does ("Delete 2 spend
    lines"); ``grant`` is the reference of the grant it touched, which becomes the current
    grant; ``inverse`` undoes it (None when nothing can); ``result`` is what the caller asked
    for (a new line, an import's counts)."""

    description: str
    grant: str | None
    kinds: frozenset[Kind]
    inverse: Operation | None
    result: Any = field(default=None, compare=False)


class Operation(ABC):
    """One change a person asked for. Subclasses are frozen dataclasses; ``run`` does the work
    through the services, inside the unit of work ``run_operation`` opened."""

    # A few services must commit before they do something outside the database (a submitted
    # return's workbook is renamed into place only once its submission is committed); their
    # operation runs them in their own unit of work instead of inside an outer one.
    own_unit_of_work: ClassVar[bool] = False

    @property
    @abstractmethod
    def description(self) -> str:
        """What the person did, in their words."""

    @abstractmethod
    def run(self, db: Database) -> Changes:
        """Make the change (inside an open unit of work) and say what changed."""


def run_operation(db: Database, operation: Operation, reason: str = "") -> Changes:
    """Run ``operation`` in one unit of work, audited with ``reason`` (its description by
    default). Refusals raise a ``FundtrackerError`` with nothing changed."""
    if operation.own_unit_of_work:
        return operation.run(db)
    with db.unit_of_work(reason or operation.description):
        return operation.run(db)


def undo(db: Database, changes: Changes, word: str = "undo") -> Changes:
    """Run the inverse of ``changes``; its result carries the redo as its own inverse.
    ``word`` goes into the audit log's reason ("undo: Delete 2 spend lines")."""
    if changes.inverse is None:
        raise NotFoundError(f"{changes.description} cannot be undone")
    result = run_operation(db, changes.inverse, f"{word}: {changes.description}")
    # The person still thinks of it as the same action: keep its name for the next step.
    return Changes(changes.description, result.grant, result.kinds, result.inverse, result.result)


def changes(
    description: str,
    grant: str | None,
    kinds: Iterable[Kind],
    inverse: Operation | None,
    result: Any = None,
) -> Changes:
    return Changes(description, grant, frozenset(kinds), inverse, result)


# What an operation expects a row to be: the version the person saw (an edit from a page), or
# the whole row as an operation left it (an inverse). An inverse cannot hold a version: undoing
# a later step changes the row back but gives it a new version, and the earlier undo must
# still go ahead, since nothing it would overwrite has changed.
RowState = tuple[tuple[str, Any], ...]
Expected = int | RowState


def row_state(row: Base) -> RowState:
    """A row's stored values, all but its version: what an undo expects to find."""
    columns = inspect(row).mapper.column_attrs
    return tuple((c.key, getattr(row, c.key)) for c in columns if c.key not in row.audit_ignore)


def expect_version(
    session: Session, model: type[Base], row_id: int, expected: Expected, what: str
) -> Any:
    """The row, refusing when it is gone or someone changed it since it was ``expected``."""
    row = session.get(model, row_id)
    if row is None:
        raise ConflictError(f"{what} no longer exists (someone removed it); nothing was changed")
    now = getattr(row, "version") if isinstance(expected, int) else row_state(row)  # noqa: B009
    if now != expected:
        raise ConflictError(
            f"{what} was changed by someone else since you saw it; nothing was changed: "
            "look at it again and make your change again"
        )
    return row


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class Together(Operation):
    """Several operations as one step: one Save, one undo (its inverse undoes them in reverse
    order, also as one step). Refused as a whole when any part is."""

    name: str
    parts: tuple[Operation, ...]

    @property
    def description(self) -> str:
        return self.name

    def run(self, db: Database) -> Changes:
        done = [part.run(db) for part in self.parts]
        inverses = [step.inverse for step in reversed(done)]
        inverse = (
            None
            if any(i is None for i in inverses)
            else Together(self.name, tuple(i for i in inverses if i is not None))
        )
        kinds = frozenset().union(*(step.kinds for step in done))
        grant = next((step.grant for step in done if step.grant), None)
        return Changes(self.name, grant, kinds, inverse, [step.result for step in done])
