"""Undoable spend edits: each does through the spend services and undoes through them too,
carrying the line's version so an undo never overwrites someone else's later change."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from PySide6.QtWidgets import QWidget

from fundtracker.services.ledger_view import LedgerRow
from fundtracker.services.spend import (
    DeletedSpend,
    add_spend,
    assign_spend,
    delete_spend,
    rejoin_spend,
    restore_spend,
    split_spend,
    update_spend,
)
from ui.undo import ServiceCommand, run
from ui.workspace import SPEND, Workspace

REASON = "desktop app"


def add_line(
    ws: Workspace, values: dict[str, object], parent: QWidget | None = None, on_error: Any = None
) -> int | None:
    """Add a line; returns its id. ``on_error`` receives a refusal instead of a message box."""
    grant = ws.grant
    state: dict[str, int] = {}

    def do() -> None:
        state["id"] = add_spend(ws.db, grant, values, reason=REASON).id

    def undo() -> None:
        delete_spend(ws.db, state["id"], reason="undo add")

    command = ServiceCommand(ws, "Add spend line", do, undo, [SPEND], parent)
    if not run(command, on_error):
        return None
    return state["id"]


def edit_line(
    ws: Workspace, row: LedgerRow, field: str, new: str, old: str, parent: QWidget | None = None
) -> bool:
    state = {"version": row.version}

    def apply(text: str, reason: str) -> None:
        line = update_spend(
            ws.db, row.id, {field: text}, reason=reason, expected_version=state["version"]
        )
        state["version"] = line.version

    label = field.replace("_", " ")
    command = ServiceCommand(
        ws,
        f"Change {label} of line {row.id}",
        lambda: apply(new, REASON),
        lambda: apply(old, "undo edit"),
        [SPEND],
        parent,
    )
    return run(command)


def delete_lines(ws: Workspace, rows: list[LedgerRow], parent: QWidget | None = None) -> bool:
    deleted: list[DeletedSpend] = []
    versions: dict[int, int | None] = {row.id: row.version for row in rows}

    def do() -> None:
        # Undo restores the very same lines, so redo deletes them by the same ids; only the
        # first deletion checks the versions the officer saw.
        deleted.clear()
        for line_id in list(versions):
            expected = versions[line_id]
            versions[line_id] = None
            deleted.append(delete_spend(ws.db, line_id, reason=REASON, expected_version=expected))

    def undo() -> None:
        for record in deleted:
            restore_spend(ws.db, record, reason="undo delete")

    text = f"Delete {len(rows)} spend line{'s' if len(rows) != 1 else ''}"
    return run(ServiceCommand(ws, text, do, undo, [SPEND], parent))


def assign_lines(
    ws: Workspace, rows: list[LedgerRow], code: str | None, parent: QWidget | None = None
) -> bool:
    ids = [row.id for row in rows]
    before: dict[str | None, list[int]] = defaultdict(list)
    for row in rows:
        before[row.allocation].append(row.id)

    def undo() -> None:
        for old_code, group in before.items():
            assign_spend(ws.db, group, old_code, reason="undo assign")

    text = f"Assign {len(ids)} line{'s' if len(ids) != 1 else ''} to {code or 'no project'}"
    command = ServiceCommand(
        ws, text, lambda: assign_spend(ws.db, ids, code, reason=REASON), undo, [SPEND], parent
    )
    return run(command)


def split_line(
    ws: Workspace,
    row: LedgerRow,
    parts: list[tuple[str | None, Decimal]],
    parent: QWidget | None = None,
    on_error: Any = None,
) -> bool:
    state: dict[str, list[int]] = {"added": []}

    def do() -> None:
        lines = split_spend(ws.db, row.id, parts, reason=REASON)
        state["added"] = [line.id for line in lines[1:]]

    def undo() -> None:
        rejoin_spend(ws.db, row.id, state["added"], row.allocation, reason="undo split")

    command = ServiceCommand(ws, f"Split line {row.id}", do, undo, [SPEND], parent)
    return run(command, on_error)
