"""What every page shares: the open database, the current grant, the one undo stack, and the
signal that tells pages what changed so each refreshes only what it shows (Anki's OpChanges)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from fundtracker.storage import Database

# What an operation may have changed; pages refresh on the kinds they show.
SPEND = "spend"
PROJECTS = "projects"
PLANS = "plans"
GRANTS = "grants"
RETURNS = "returns"
IMPORTS = "imports"
EVERYTHING = frozenset({SPEND, PROJECTS, PLANS, GRANTS, RETURNS, IMPORTS})


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
        if reference != self.grant:
            self.grant = reference
            self.grant_changed.emit(reference)

    def notify(self, *kinds: str) -> None:
        self.changed.emit(frozenset(kinds))
