"""Ledger import speed and memory against a raw ``csv`` + ``sqlite3.executemany`` baseline.

Run: ``.venv/bin/python -m benchmarks.bench_import [ROWS]`` (default 100,000). Both are timed
in the same run on the same file, so the ratio (target: at most 3×) means something on any
machine. Peak memory is Python's (tracemalloc), measured around our import alone.
"""

from __future__ import annotations

import csv
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

from fundtracker.ledger import ImportOptions, commit_import
from fundtracker.models import Allocation, Grant, Plan
from fundtracker.money import ZERO
from fundtracker.storage import Database, open_database

HEADER = ["Transaction Date", "Supplier Name", "Narrative", "Invoice No", "Net Amount", "VAT"]


def write_ledger(path: Path, rows: int) -> None:
    """A ledger export of ``rows`` distinct lines across one financial year."""
    start = date(2025, 4, 1)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            day = start + timedelta(days=n % 365)
            pence = 1000 + (n * 7919) % 500_000
            writer.writerow(
                [
                    day.strftime("%d/%m/%Y"),
                    f"Supplier {n % 997}",
                    f"Goods and services line {n}",
                    f"INV{n:08d}",
                    f"{pence // 100}.{pence % 100:02d}",
                    f"{pence // 500}.00",
                ]
            )


def make_grant(db: Database) -> None:
    with db.unit_of_work() as session:
        plan = Plan(key="bench", name="Bench plan", kind="pcc", effective_from=date(2025, 4, 1))
        session.add(plan)
        session.flush()
        grant = Grant(
            reference="BENCH",
            name="Benchmark grant",
            award=ZERO,
            start_date=date(2025, 4, 1),
            end_date=date(2026, 3, 31),
            aligned_plan_id=plan.id,
        )
        grant.allocations.append(Allocation(code="A01", name="One", budget=ZERO))
        session.add(grant)


def time_ours(folder: Path, ledger: Path) -> tuple[float, int, int]:
    db = open_database(str(folder / "ours.sqlite3"))
    try:
        make_grant(db)
        tracemalloc.start()
        began = time.perf_counter()
        result = commit_import(db, "BENCH", ledger, ImportOptions())
        elapsed = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return elapsed, peak, result.imported
    finally:
        db.dispose()


def time_baseline(folder: Path, ledger: Path) -> float:
    """Read the same rows with ``csv`` and insert them with ``executemany``, no checks."""
    connection = sqlite3.connect(folder / "baseline.sqlite3")
    connection.execute(
        "CREATE TABLE spend_lines (id INTEGER PRIMARY KEY, grant_id INTEGER, date TEXT,"
        " supplier TEXT, description TEXT, reference TEXT, net INTEGER, vat INTEGER)"
    )
    began = time.perf_counter()
    with ledger.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = (
            (1, f"{r[0][6:]}-{r[0][3:5]}-{r[0][:2]}", r[1], r[2], r[3], r[4], r[5])
            for r in reader
        )
        connection.executemany(
            "INSERT INTO spend_lines (grant_id, date, supplier, description, reference, net, vat)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    connection.commit()
    elapsed = time.perf_counter() - began
    connection.close()
    return elapsed


def run(rows: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        ledger = folder / "ledger.csv"
        write_ledger(ledger, rows)
        baseline = time_baseline(folder, ledger)
        ours, peak, imported = time_ours(folder, ledger)
        assert imported == rows, f"imported {imported} of {rows}"
        return {"rows": rows, "ours": ours, "baseline": baseline, "peak": peak}


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    figures = run(rows)
    ratio = figures["ours"] / figures["baseline"]
    print(f"rows:      {rows:,}")
    print(f"ours:      {figures['ours']:.2f} s")
    print(f"baseline:  {figures['baseline']:.2f} s (csv + sqlite3.executemany)")
    print(f"ratio:     {ratio:.1f}x (target <= 3x)")
    print(f"peak:      {figures['peak'] / 1024**2:.1f} MiB (tracemalloc, our import)")


if __name__ == "__main__":
    main()
