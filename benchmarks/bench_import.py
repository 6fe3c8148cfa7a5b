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

from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from fundtracker.ledger import ImportOptions, commit_import
from fundtracker.models import Allocation, Grant, Plan, SpendLine
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


def time_ours(folder: Path, ledger: Path, name: str = "ours") -> tuple[float, int]:
    db = open_database(str(folder / f"{name}.sqlite3"))
    try:
        make_grant(db)
        began = time.perf_counter()
        result = commit_import(db, "BENCH", ledger, ImportOptions())
        return time.perf_counter() - began, result.imported
    finally:
        db.dispose()


def peak_memory(folder: Path, ledger: Path) -> int:
    """Peak Python memory of a second import (tracemalloc slows it, so it is not timed)."""
    tracemalloc.start()
    try:
        time_ours(folder, ledger, "traced")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _same_shaped_table(connection: sqlite3.Connection, indexed: bool) -> None:
    """spend_lines as our schema declares it: same columns, and (if asked) same indexes."""
    dialect = sqlite.dialect()
    table = SpendLine.__table__
    connection.execute(str(CreateTable(table).compile(dialect=dialect)))
    for index in table.indexes if indexed else ():  # type: ignore[attr-defined]
        connection.execute(str(CreateIndex(index).compile(dialect=dialect)))


def time_baseline(folder: Path, ledger: Path, indexed: bool = True) -> float:
    """Read the same rows with ``csv`` and ``executemany`` them into a same-shaped table:
    no parsing beyond reordering the date and moving the decimal point, no checks."""
    connection = sqlite3.connect(folder / f"baseline-{indexed}.sqlite3")
    # The same settings as Fundtracker's own connections, so only the work differs.
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    _same_shaped_table(connection, indexed)
    began = time.perf_counter()
    with ledger.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = (
            (
                1,
                f"{r[0][6:]}-{r[0][3:5]}-{r[0][:2]}",
                r[1],
                r[2],
                r[3],
                int(r[4].replace(".", "")),
                int(r[5].replace(".", "")),
                n,
                # The search text as models.search_text_of makes it (supplier, description,
                # reference, then the empty cost centre, account code and notes), case-folded
                # in Python as our importer does since schema 0006.
                f"{r[1]} {r[2]} {r[3]}   ".casefold(),
            )
            for n, r in enumerate(reader, 2)
        )
        connection.executemany(
            # counted_on (issue 13) is the line's date, as our importer writes for a line that
            # is not late.
            "INSERT INTO spend_lines (grant_id, date, supplier, description, reference, net, vat,"
            " source_row, search_text, cost_centre, account_code, vat_recoverable, status,"
            " notes, source, version, counted_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', 1,"
            " 'paid', '', 'import', 1, ?2)",
            rows,
        )
    connection.commit()
    elapsed = time.perf_counter() - began
    connection.close()
    return elapsed


def run(rows: int, measure_memory: bool = True) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        ledger = folder / "ledger.csv"
        write_ledger(ledger, rows)
        baseline = time_baseline(folder, ledger)
        bare = time_baseline(folder, ledger, indexed=False)
        ours, imported = time_ours(folder, ledger)
        assert imported == rows, f"imported {imported} of {rows}"
        peak = peak_memory(folder, ledger) if measure_memory else 0
        return {"rows": rows, "ours": ours, "baseline": baseline, "bare": bare, "peak": peak}


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    figures = run(rows)
    small = run(rows // 10)
    ratio = figures["ours"] / figures["baseline"]
    print(f"rows:      {rows:,}")
    print(f"ours:      {figures['ours']:.2f} s")
    print(f"baseline:  {figures['baseline']:.2f} s (csv + sqlite3.executemany, same table)")
    print(f"ratio:     {ratio:.1f}x (target <= 3x)")
    bare_ratio = figures["ours"] / figures["bare"]
    print(f"bare:      {figures['bare']:.2f} s (the same without indexes: {bare_ratio:.1f}x)")
    print(f"peak:      {figures['peak'] / 1024**2:.1f} MiB (tracemalloc, our import)")
    print(f"peak at {rows // 10:,} rows: {small['peak'] / 1024**2:.1f} MiB (for comparison)")


if __name__ == "__main__":
    main()
