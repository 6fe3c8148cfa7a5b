"""The real Oxford City Council "expenditure over £500" files, imported as published: three
quarters with different header spellings, padded supplier names, credits and CRLF/LF endings.
Expected figures are worked out here independently, with csv and Decimal."""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fundtracker.ledger import ImportOptions, commit_import, inspect_file
from fundtracker.models import Grant, Plan, SpendLine
from fundtracker.money import ZERO
from fundtracker.storage import Database

FILES = [
    "expenditure-over-500-jul-sep-2014.csv",
    "expenditure-over-500-jan-mar-2016.csv",
    "expenditure-over-500-jul-sep-2016.csv",
]


def _expected(path: Path) -> tuple[int, int, Decimal, tuple[date, str, str, Decimal]]:
    """(data rows, distinct lines, sum of amounts of distinct lines, first line), by hand."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    seen: set[tuple[str, str, str, Decimal]] = set()
    total = Decimal("0")
    for row in rows:
        # Columns as published: 4 = paid date, 5 = transaction number, 6 = amount, 9 = supplier.
        key = (row[4], row[5].strip(), row[9].strip(), Decimal(row[6]))
        if key not in seen:
            seen.add(key)
            total += Decimal(row[6])
    first = rows[0]
    day = datetime.strptime(first[4], "%d/%m/%Y").date()
    return len(rows), len(seen), total, (day, first[5], first[9].strip(), Decimal(first[6]))


@pytest.fixture
def oxford(db: Database) -> Database:
    with db.unit_of_work() as session:
        plan = Plan(
            key="occ", name="Illustrative plan", kind="other", effective_from=date(2014, 4, 1)
        )
        session.add(plan)
        session.flush()
        session.add(
            Grant(
                reference="OCC-TEST",
                name="Test grant covering the Oxford files",
                award=ZERO,
                start_date=date(2014, 4, 1),
                end_date=date(2017, 3, 31),
                aligned_plan_id=plan.id,
            )
        )
    return db


@pytest.mark.parametrize("name", FILES)
def test_real_oxford_files_import_exactly(oxford: Database, real_data: Path, name: str) -> None:
    path = real_data / "oxford-city-council" / name
    rows, distinct, total, (day, reference, supplier, amount) = _expected(path)
    layout = inspect_file(path, ImportOptions())
    names = layout.mapping.names()
    assert {
        k: names[k].strip().lower().replace(" ", "_")
        for k in ("date", "reference", "net", "supplier")
    } == {
        "date": "paid_date",
        "reference": "trans_no",
        "net": "amount",
        "supplier": "supplier_name",
    }
    result = commit_import(oxford, "OCC-TEST", path, ImportOptions())
    assert (result.rows_read, result.imported, result.bad_rows) == (rows, distinct, 0)
    assert result.duplicates == rows - distinct and result.skipped == 0
    with oxford.read() as session:
        stored = session.scalar(select(func.sum(SpendLine.net)))
        first = session.scalars(select(SpendLine).order_by(SpendLine.id).limit(1)).one()
    assert stored == total
    assert (first.date, first.reference, first.supplier, first.net) == (
        day,
        reference,
        supplier,
        amount,
    )
    assert first.source_row == 2
    again = commit_import(oxford, "OCC-TEST", path, ImportOptions())
    assert (again.imported, again.duplicates) == (0, rows)


def test_real_files_hand_checked_figures(oxford: Database, real_data: Path) -> None:
    """Totals of each published quarter, summed with Decimal from the files (see the test
    above) and written here so a change in reading shows: 15,146,736.80; 12,705,491.15;
    12,937,883.62."""
    folder = real_data / "oxford-city-council"
    totals = []
    for name in FILES:
        result = commit_import(oxford, "OCC-TEST", folder / name, ImportOptions())
        assert result.bad_rows == 0
        with oxford.read() as session:
            total = session.scalar(
                select(func.sum(SpendLine.net)).where(SpendLine.batch_id == result.batch)
            )
        totals.append(total)
    assert totals == [Decimal("15146736.80"), Decimal("12705491.15"), Decimal("12937883.62")]
