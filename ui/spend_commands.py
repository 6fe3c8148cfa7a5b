"""The Spending page's edits, each one core operation run through the workspace (so each is one
undo step whose inverse the core built from the lines' versions)."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtWidgets import QWidget

from fundtracker.operations.spend import AddLine, AssignLines, DeleteLines, EditLine, SplitLine
from fundtracker.services.ledger_view import LedgerRow
from ui.undo import ErrorHandler
from ui.workspace import Workspace


def add_line(
    ws: Workspace,
    values: dict[str, object],
    parent: QWidget | None = None,
    on_error: ErrorHandler | None = None,
) -> int | None:
    """Add a line to the current grant; returns its id (None when refused)."""
    changes = ws.run(AddLine(ws.grant, values), parent, on_error)
    return None if changes is None else int(changes.result.id)


def edit_line(
    ws: Workspace, row: LedgerRow, field: str, new: str, parent: QWidget | None = None
) -> bool:
    return ws.run(EditLine(row.id, {field: new}, row.version), parent) is not None


def delete_lines(ws: Workspace, rows: list[LedgerRow], parent: QWidget | None = None) -> bool:
    operation = DeleteLines(tuple((row.id, row.version) for row in rows))
    return ws.run(operation, parent) is not None


def assign_lines(
    ws: Workspace, rows: list[LedgerRow], code: str | None, parent: QWidget | None = None
) -> bool:
    operation = AssignLines(tuple((row.id, row.version, code) for row in rows))
    return ws.run(operation, parent) is not None


def split_line(
    ws: Workspace,
    row: LedgerRow,
    parts: list[tuple[str | None, Decimal]],
    parent: QWidget | None = None,
    on_error: ErrorHandler | None = None,
) -> bool:
    return ws.run(SplitLine(row.id, row.version, tuple(parts)), parent, on_error) is not None
