"""Ledger imports as operations: import, undo (its batch), redo (the very same lines back), and
an undo that refuses when a line of the batch changed since it was imported."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from fundtracker.errors import ConflictError
from fundtracker.ledger.importer import ImportOptions
from fundtracker.models import ImportBatch, SpendLine
from fundtracker.operations import run_operation, undo
from fundtracker.operations.imports import ImportLedger, UndoBatch
from fundtracker.services.spend import update_spend
from fundtracker.storage import Database
from tests.ledger_support import ledger

GRANT = "CRG-2025-26"


def _batch_lines(db: Database, batch: int) -> list[tuple[int, str, str]]:
    with db.read() as session:
        rows = session.execute(
            select(SpendLine.id, SpendLine.supplier, SpendLine.net)
            .where(SpendLine.batch_id == batch)
            .order_by(SpendLine.id)
        )
        return [(r.id, r.supplier, str(r.net)) for r in rows]


def _file(tmp_path: Path) -> Path:
    return ledger(
        tmp_path / "q3.csv",
        ["03/10/2025", "Print Co", "Leaflets", "P-1", "120.00", "24.00"],
        ["04/10/2025", "Hall Hire Ltd", "Room", "H-7", "£80.50", "0.00"],
        ["05/10/2025", "Print Co", "Credit", "P-1C", "(20.00)", "(4.00)"],
    )


def test_import_undo_and_redo_bring_back_the_same_lines(demo_db: Database, tmp_path: Path) -> None:
    imported = run_operation(demo_db, ImportLedger(GRANT, _file(tmp_path), ImportOptions()))
    batch = imported.result.batch
    before = _batch_lines(demo_db, batch)
    assert [(s, n) for _, s, n in before] == [
        ("Print Co", "120.00"),
        ("Hall Hire Ltd", "80.50"),
        ("Print Co", "-20.00"),
    ]
    undone = undo(demo_db, imported)
    assert _batch_lines(demo_db, batch) == []
    with demo_db.read() as session:
        assert session.get_one(ImportBatch, batch).undone_at is not None

    undo(demo_db, undone, "redo")
    assert _batch_lines(demo_db, batch) == before  # the same ids, so "line N" stays true
    with demo_db.read() as session:
        assert session.get_one(ImportBatch, batch).undone_at is None


def test_undo_of_an_import_refuses_when_a_line_changed_since(
    demo_db: Database, tmp_path: Path
) -> None:
    imported = run_operation(demo_db, ImportLedger(GRANT, _file(tmp_path), ImportOptions()))
    first_id = _batch_lines(demo_db, imported.result.batch)[0][0]
    update_spend(demo_db, first_id, {"allocation": "A02"})  # someone assigns it meanwhile
    with pytest.raises(ConflictError, match="changed or removed since it was imported"):
        undo(demo_db, imported)
    assert len(_batch_lines(demo_db, imported.result.batch)) == 3
    # Asked for on the Imports page, the batch undo goes ahead (it says what it removes).
    run_operation(demo_db, UndoBatch(imported.result.batch))
    assert _batch_lines(demo_db, imported.result.batch) == []


def test_a_refused_file_is_no_step_at_all(demo_db: Database, tmp_path: Path) -> None:
    bad = ledger(tmp_path / "bad.csv", ["31/02/2025", "X", "Y", "Z", "1.00", "0"])
    with demo_db.read() as session:
        lines = session.scalar(select(func.count()).select_from(SpendLine))
    result = run_operation(demo_db, ImportLedger(GRANT, bad, ImportOptions()))
    assert result.inverse is None and result.result.refused
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(SpendLine)) == lines
        assert (
            session.scalar(
                select(func.count())
                .select_from(ImportBatch)
                .where(ImportBatch.file_name == "bad.csv")
            )
            == 0
        )
