"""The undo stack holds what core operations did (``Changes``); undo and redo run the inverse
the core built, which checks versions like any edit, so an undo never overwrites someone
else's later change.

An operation runs once before it is pushed (``Workspace.run``), so a refused change never
reaches the stack; pushing calls ``redo`` once more, which is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QWidget

from fundtracker.errors import FundtrackerError
from fundtracker.operations import Changes, undo
from ui.errors import show_error

if TYPE_CHECKING:
    from ui.workspace import Workspace

ErrorHandler = Callable[[FundtrackerError], None]


class OperationCommand(QUndoCommand):
    """One step on the stack: ``changes`` is what the last run did; its inverse is the next
    step back (undo) or forward again (redo)."""

    def __init__(self, workspace: Workspace, changes: Changes, parent: QWidget | None) -> None:
        super().__init__(changes.description)
        self.workspace = workspace
        self.changes = changes
        self.parent_widget = parent
        self._pushed = False
        if changes.inverse is None:
            self.setObsolete(True)  # nothing to undo: the stack drops it

    def redo(self) -> None:
        if not self._pushed:  # the operation already ran in Workspace.run
            self._pushed = True
            return
        self._step("redo")

    def undo(self) -> None:
        self._step("undo")

    def _step(self, word: str) -> None:
        try:
            self.changes = undo(self.workspace.db, self.changes, word)
        except FundtrackerError as error:
            # The data moved on (a lock, someone else's change): drop this step, say why.
            self.setObsolete(True)
            self.workspace.notify(*self.changes.kinds)
            show_error(self.parent_widget, error)
            return
        self.workspace.follow(self.changes)


def report(error: FundtrackerError, parent: QWidget | None, on_error: ErrorHandler | None) -> None:
    if on_error is not None:
        on_error(error)
    else:
        show_error(parent, error)
