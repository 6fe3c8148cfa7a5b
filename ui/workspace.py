"""What every page shares: the open database, the one current grant, the one undo stack, and
the signal that tells pages what changed so each refreshes only what it shows (Anki's OpChanges).

Every change the window makes is a core operation run through ``Workspace.run``: the core does
the work in one unit of work and says what it touched; the workspace pushes that on the undo
stack, makes the grant it touched the current one, and tells every page.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QWidget

from fundtracker.errors import ConflictError, FundtrackerError
from fundtracker.operations import EVERY_KIND, Changes, Kind, Operation, run_operation
from fundtracker.storage import Database
from ui.undo import ErrorHandler, OperationCommand, report

# What an operation may have changed (the core's kinds); pages refresh on the kinds they show.
SPEND = Kind.SPEND
PROJECTS = Kind.ALLOCATIONS
WEIGHTS = Kind.WEIGHTS
PLANS = Kind.PLANS
GRANTS = Kind.GRANTS
GRANT = Kind.GRANT
RETURNS = Kind.RETURNS
IMPORTS = Kind.IMPORTS
RULES = Kind.RULES
SETTINGS = Kind.SETTINGS
ATTACHMENTS = Kind.ATTACHMENTS
EVERYTHING = EVERY_KIND


class Workspace(QObject):
    grant_changed = Signal(str)
    changed = Signal(frozenset)  # of the kinds above

    def __init__(self, db: Database, read_only: bool = False) -> None:
        super().__init__()
        self.db = db
        self.read_only = read_only
        self.grant: str = ""
        self.undo_stack = QUndoStack(self)

    def set_grant(self, reference: str) -> None:
        """Make ``reference`` the current grant; every page follows."""
        if reference != self.grant:
            self.grant = reference
            self.grant_changed.emit(reference)

    def notify(self, *kinds: str) -> None:
        self.changed.emit(frozenset(kinds))

    def run(
        self,
        operation: Operation,
        parent: QWidget | None = None,
        on_error: ErrorHandler | None = None,
    ) -> Changes | None:
        """Run a core operation as one undoable step. A refusal goes to ``on_error`` (to show
        it beside the field) or to a message, and changes nothing; returns None then."""
        try:
            changes = run_operation(self.db, operation)
        except FundtrackerError as error:
            if isinstance(error, ConflictError):  # show the current values, then explain
                self.notify(*EVERYTHING)
            report(error, parent, on_error)
            return None
        self.record(changes, parent)
        return changes

    def record(self, changes: Changes, parent: QWidget | None = None) -> None:
        """Push what an operation did (run here, or off the GUI thread) and show it."""
        self.undo_stack.push(OperationCommand(self, changes, parent))
        self.follow(changes)

    def follow(self, changes: Changes) -> None:
        """Show what an operation (or its undo) did: the grant list first, then the grant it
        touched becomes current, then every page hears what changed."""
        if GRANTS in changes.kinds or GRANT in changes.kinds:
            self.notify(GRANTS)
        if changes.grant:
            self.set_grant(changes.grant)
        self.notify(*changes.kinds)
