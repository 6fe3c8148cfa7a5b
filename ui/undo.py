"""Undoable edits: each command calls core services to do, and calls them again to undo.

A command runs once *before* it is pushed, so a refused change (a validation error, a lock)
never reaches the stack; afterwards Ctrl+Z / Ctrl+Shift+Z replay it through the services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QWidget

from fundtracker.errors import ConflictError, FundtrackerError
from ui.errors import show_error
from ui.workspace import Workspace

Action = Callable[[], object]


class ServiceCommand(QUndoCommand):
    """``do`` and ``undo`` are callables over services; ``kinds`` say what they change."""

    def __init__(
        self,
        workspace: Workspace,
        text: str,
        do: Action,
        undo: Action,
        kinds: Iterable[str],
        parent_widget: QWidget | None = None,
    ) -> None:
        super().__init__(text)
        self.workspace = workspace
        self.kinds = tuple(kinds)
        self.parent_widget = parent_widget
        self._do = do
        self._undo = undo
        self._first = True

    def do_first(self) -> None:
        """The change itself, before the command is pushed (a refusal raises here)."""
        self._do()

    def redo(self) -> None:
        if self._first:  # already done by run(); pushing calls redo once more
            self._first = False
            return
        self._replay(self._do)

    def undo(self) -> None:
        self._replay(self._undo)

    def _replay(self, action: Action) -> None:
        try:
            action()
        except FundtrackerError as error:
            # The data moved on (a lock, a conflict): drop this step rather than pretend.
            self.setObsolete(True)
            show_error(self.parent_widget, error)
        self.workspace.notify(*self.kinds)


def run(
    command: ServiceCommand, on_error: Callable[[FundtrackerError], None] | None = None
) -> bool:
    """Do the command now; push it when it worked. A refusal goes to ``on_error`` (to show it
    beside the field) or, by default, to a message."""
    workspace = command.workspace
    try:
        command.do_first()
    except FundtrackerError as error:
        if isinstance(error, ConflictError):  # show the current values before explaining
            workspace.notify(*command.kinds)
        if on_error is not None:
            on_error(error)
        else:
            show_error(command.parent_widget, error)
        return False
    workspace.undo_stack.push(command)
    workspace.notify(*command.kinds)
    return True
