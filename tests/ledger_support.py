"""Helpers for the ledger import tests: a grant to import into, and files built in the test."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from fundtracker.models import AuditEvent, ImportBatch, SpendLine
from fundtracker.storage import Database
from tests.helpers import CliResult, run_cli

DATA = Path(__file__).parent / "data"
GRANT = "CRG-2025-26"  # 2025-04-01..2026-03-31; A01 (cost centre CS101) and A02
HEADER = ["Transaction Date", "Supplier Name", "Narrative", "Invoice No", "Net Amount", "VAT"]


def set_up_grant(capsys: pytest.CaptureFixture[str], url: str) -> None:
    assert run_cli(capsys, url, "plan", "import", str(DATA / "plan.toml")).code == 0
    assert run_cli(capsys, url, "grant", "import", str(DATA / "grant.toml")).code == 0


def write_csv(
    path: Path,
    rows: Sequence[Sequence[Any]],
    encoding: str = "utf-8",
    delimiter: str = ",",
    newline: str = "\r\n",
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return path


def ledger(path: Path, *lines: Sequence[Any], header: Sequence[str] = HEADER) -> Path:
    """A plain ledger CSV with the usual header."""
    return write_csv(path, [list(header), *lines])


def import_json(
    capsys: pytest.CaptureFixture[str], url: str, file: Path, *args: str
) -> tuple[CliResult, dict[str, Any]]:
    result = run_cli(
        capsys, url, "import-ledger", str(file), "--grant", GRANT, "--format", "json", *args
    )
    return result, (result.json() if result.out.strip() else {})


def lines(db: Database) -> list[SpendLine]:
    with db.read() as session:
        found = session.scalars(select(SpendLine).order_by(SpendLine.id))
        result = list(found)
        for line in result:
            _ = line.allocation
        return result


def count(db: Database, model: Any) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def table_counts(db: Database) -> tuple[int, int, int]:
    """(spend lines, import batches, audit events): to prove nothing changed."""
    return count(db, SpendLine), count(db, ImportBatch), count(db, AuditEvent)
