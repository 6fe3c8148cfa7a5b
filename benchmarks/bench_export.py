"""Exporting a monitoring return with 100,000 transaction lines against a bare openpyxl
write-only dump of the same cells.

Run: ``.venv/bin/python -m benchmarks.bench_export [LINES]`` (default 100,000). The demo grant
is loaded through the services, then LINES lines dated in Q1 and Q2 are bulk-inserted with
sqlite3. Timed in the same run: ``export_return`` for 2025/26-Q2 (figures, checks, the return
document, five styled sheets; target: at most 1.3× the baseline) and two baselines, one
write-only sheet receiving the Transactions cells (already in memory) as plain values, and the
same with the dates and amounts formatted as a return needs them.
Each is the best of three runs taken in turns, timed without tracemalloc (it slows
Python several times over); ``--memory`` adds one traced export for its peak Python heap.
"""

from __future__ import annotations

import random
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from benchmarks.common import (
    Measurement,
    Row,
    demo_with_lines,
    measure,
    print_rows,
    process_peak_rss_mib,
)
from fundtracker.demo import GRANT_REFERENCE
from fundtracker.periods import Period
from fundtracker.returns.snapshot import transactions
from fundtracker.returns.submission import export_return
from fundtracker.returns.workbook import DATE_FORMAT, MONEY_FORMAT
from fundtracker.services.grants import get_grant
from fundtracker.storage import Database, open_database

PERIOD = Period.parse("2025/26-Q2")
TARGET = 1.3


def _rows(lines: int, grant_id: int, allocation_ids: list[int]) -> Iterator[tuple[object, ...]]:
    rng = random.Random(5)
    start = date(2025, 4, 1)
    for n in range(lines):
        net = rng.randrange(-2_000, 90_000)
        yield (
            grant_id,
            None if n % 200 == 0 else allocation_ids[n % len(allocation_ids)],
            (start + timedelta(days=rng.randrange(183))).isoformat(),
            f"Supplier {n % 499} Ltd",
            f"Goods and services, order {n}",
            f"INV{n:08d}",
            "CS101",
            "4100",
            net,
            net // 5,
            0 if n % 10 == 0 else 1,
            "committed" if n % 25 == 0 else "paid",
            "",
            "bench",
            1,
        )


def build(path: Path, lines: int) -> None:
    demo_with_lines(path, lambda grant_id, ids: _rows(lines, grant_id, ids), rebuild_indexes=False)


def same_cells(db: Database) -> list[list[Any]]:
    """The Transactions sheet's cells as plain Python values, fetched before timing."""
    with db.read() as session:
        lines = transactions(session, get_grant(session, GRANT_REFERENCE), PERIOD)
    return [
        [
            date.fromisoformat(line["date"]),
            line["reference"],
            line["supplier"],
            line["description"],
            line["project"],
            Decimal(line["net"]),
            Decimal(line["vat"]),
            Decimal(line["claimable"]),
            line["status"],
            line["quarter"],
            line["id"],
        ]
        for line in lines
    ]


def bare_dump(cells: list[list[Any]], out: Path) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Transactions")
    for row in cells:
        sheet.append(row)
    workbook.save(out)


def formatted_dump(cells: list[list[Any]], out: Path) -> None:
    """The same cells with the formats a return needs (dates dd/mm/yyyy, money £#,##0.00),
    written the way openpyxl's documentation shows: a formatted cell per value."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Transactions")
    for row in cells:
        values: list[Any] = list(row)
        for column, number_format in FORMATS:
            cell = WriteOnlyCell(sheet, row[column])
            cell.number_format = number_format
            values[column] = cell
        sheet.append(values)
    workbook.save(out)


FORMATS = ((0, DATE_FORMAT), (5, MONEY_FORMAT), (6, MONEY_FORMAT), (7, MONEY_FORMAT))


def alternate(actions: list[Callable[[], None]], repeat: int) -> list[Measurement]:
    """Best of ``repeat`` runs each, taken in turns so a busy machine slows all alike."""
    best = [float("inf")] * len(actions)
    for _ in range(repeat):
        for index, action in enumerate(actions):
            best[index] = min(best[index], measure(action, trace_memory=False).seconds)
    return [Measurement(seconds, 0.0) for seconds in best]


def main(lines: int, trace: bool, repeat: int = 3) -> int:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        build(base / "bench.sqlite3", lines)
        db = open_database(str(base / "bench.sqlite3"))
        cells = same_cells(db)
        print(f"{len(cells):,} transaction lines up to {PERIOD.end:%d/%m/%Y}")

        def export() -> None:
            export_return(db, GRANT_REFERENCE, PERIOD, base / "return.xlsx")

        ours, baseline, formatted = alternate(
            [
                export,
                lambda: bare_dump(cells, base / "bare.xlsx"),
                lambda: formatted_dump(cells, base / "formatted.xlsx"),
            ],
            repeat,
        )
        if trace:
            ours.peak_mib = measure(export).peak_mib
        db.dispose()
        row = Row(
            f"export-return, {len(cells):,} lines vs bare write-only dump",
            ours,
            baseline,
            f"≤ {TARGET}×",
        )
        same_formats = Row(
            "  the same, vs a dump of the cells with their number formats",
            ours,
            formatted,
            f"≤ {TARGET}×",
        )
        print_rows([row, same_formats])
        print(
            f"workbook {(base / 'return.xlsx').stat().st_size / 2**20:.1f} MiB; "
            f"bare {(base / 'bare.xlsx').stat().st_size / 2**20:.1f} MiB; "
            f"process peak RSS {process_peak_rss_mib():.0f} MiB"
        )
        for compared in (row, same_formats):
            ratio = compared.ratio or 0.0
            verdict = "within target" if ratio <= TARGET else f"OVER TARGET ({ratio:.2f}×)"
            print(f"{compared.case.strip()}: {verdict}")
        return 0


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--memory"]
    sys.exit(main(int(arguments[0]) if arguments else 100_000, "--memory" in sys.argv))
