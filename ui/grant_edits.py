"""Undoable changes to a grant's projects, weights and profile.

The grant's setup-file document is the one editable form of a grant: a change edits that
document with the officer's text, the core's setup-file reader validates it (weights must total
100 for each plan, amounts exact, ...) and ``import_grant`` applies it in one unit of work.
Undo imports the grant as it was before.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from PySide6.QtWidgets import QWidget

from fundtracker.errors import FundtrackerError
from fundtracker.operations.grant_files import ImportGrantFile
from fundtracker.services.grants import grant_spec, load_grant
from fundtracker.setup_files import GrantSpec, grant_document, read_grant
from ui.undo import report
from ui.workspace import Workspace

Document = dict[str, Any]


def editable_document(spec: GrantSpec) -> Document:
    """The grant file as plain data, with weights as text (as the officer types them)."""
    document = grant_document(spec)
    for allocation in document["allocations"]:
        allocation["priorities"] = {
            plan: {code: str(value) for code, value in weights.items()}
            for plan, weights in allocation["priorities"].items()
        }
    return document


def allocation_in(document: Document, code: str) -> Document:
    return next(a for a in document["allocations"] if a["code"] == code)


def change_grant(
    ws: Workspace,
    text: str,
    change: Callable[[Document], None],
    parent: QWidget | None = None,
    on_error: Callable[[FundtrackerError], None] | None = None,
) -> bool:
    """Apply ``change`` to the current grant's document, validated and undoable; refused if
    the grant changed since it was read."""
    try:
        before = grant_spec(load_grant(ws.db, ws.grant))
        document = editable_document(before)
        change(document)
        after = read_grant(document)
    except FundtrackerError as error:
        report(error, parent, on_error)
        return False
    operation = ImportGrantFile(after, text, expected=before)
    return ws.run(operation, parent, on_error) is not None


def percent_total(texts: list[str]) -> Decimal | None:
    """The running total of typed percentages (None while one is not a number)."""
    total = Decimal(0)
    for text in texts:
        if not text.strip():
            continue
        try:
            total += Decimal(text.strip().rstrip("%"))
        except ArithmeticError:
            return None
    return total
