"""Receiving returns at the OPCC (issue 16) against reading the same workbooks with openpyxl's
read-only mode and nothing else; then the county figures over as many received returns.

Run: ``.venv/bin/python -m benchmarks.bench_receive [RETURNS] [LINES] [COUNTY]`` (default 400
returns of 2,000 transactions; COUNTY, by default RETURNS, is how many the county figures are
taken over). One submitted Q2 return of the demo grant with LINES lines is exported and copied
RETURNS times. Timed in the same run: ``received add`` of every copy (each read, its snapshot
checked against its checksum and every figure compared; the first stored, the rest found
``already``), and the baseline, every cell of every sheet of each copy read with
``load_workbook(read_only=True)``; target: at most 3× the baseline, in wall time and (steadier
on a machine other work shares) in this process's CPU time. Then COUNTY received
returns (the same snapshot under COUNTY grant references, written straight to the
database) and ``county_figures`` over them; target: under 1 second.
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from benchmarks.common import Measurement, Row, demo_with_lines, measure, print_rows
from fundtracker.demo import GRANT_REFERENCE
from fundtracker.models import ReceivedReturn
from fundtracker.opcc.county import county_figures
from fundtracker.opcc.operations import ReceiveReturns
from fundtracker.operations import run_operation
from fundtracker.periods import Period
from fundtracker.returns.submission import export_return
from fundtracker.storage import Database, open_database

Q2 = Period.parse("2025/26-Q2")


def _lines(count: int) -> Any:
    """``count`` Q1–Q2 lines spread over the demo grant's projects (a few unassigned)."""

    def make(grant_id: int, allocation_ids: list[int]) -> Iterator[tuple[object, ...]]:
        rng = random.Random(16)
        start = date(2025, 4, 1)
        for n in range(count):
            net = rng.randrange(100, 90_000)
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
                1,
                "paid",
                "",
                "bench",
                1,
            )

    return make


def _read_only(paths: list[Path]) -> None:
    for path in paths:
        book = load_workbook(path, read_only=True, data_only=True)
        for sheet in book.worksheets:
            for _row in sheet.iter_rows(values_only=True):
                pass
        book.close()


def _timed(action: Callable[[], object]) -> tuple[Measurement, Measurement]:
    """Wall time, and this process's CPU time: other processes on the same cores inflate the
    first far more than the second."""
    start = time.process_time()
    wall = measure(action, trace_memory=False)
    return wall, Measurement(time.process_time() - start, 0.0)


def _many_received(db: Database, snapshot: str, count: int) -> None:
    with db.unit_of_work("benchmark") as session:
        for n in range(count):
            session.add(
                ReceivedReturn(
                    recipient=f"CSP {n}",
                    grant_reference=f"G-{n:04d}",
                    period=str(Q2),
                    version_number=1,
                    received_at=datetime(2025, 10, 20, tzinfo=UTC),
                    file_name=f"g{n}.xlsx",
                    file_sha256=f"{n:064d}",
                    checksum="0" * 64,
                    snapshot=snapshot,
                )
            )


def main(returns: int = 400, lines: int = 2_000, county_returns: int | None = None) -> None:
    county_returns = county_returns or returns
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        demo_with_lines(root / "csp.sqlite3", _lines(lines))
        partnership = open_database(str(root / "csp.sqlite3"))
        source = root / "return.xlsx"
        export_return(partnership, GRANT_REFERENCE, Q2, source, prepared_by="Jo", submit=True)
        partnership.dispose()
        paths = []
        for n in range(returns):
            paths.append(root / f"return-{n}.xlsx")
            shutil.copy(source, paths[-1])
        baseline, baseline_cpu = _timed(lambda: _read_only(paths))
        opcc = open_database(str(root / "opcc.sqlite3"))
        received, received_cpu = _timed(
            lambda: run_operation(opcc, ReceiveReturns(tuple(map(str, paths))))
        )
        with opcc.read() as session:
            snapshot = session.query(ReceivedReturn.snapshot).scalar()
        county_db = open_database(str(root / "county.sqlite3"))
        _many_received(county_db, snapshot, county_returns)
        county = measure(lambda: county_figures(county_db, Q2), trace_memory=False)
        opcc.dispose()
        county_db.dispose()
    print_rows(
        [
            Row(f"received add, {returns} returns of {lines:,} lines", received, baseline, "≤ 3×"),
            Row("  the same, CPU time", received_cpu, baseline_cpu, "≤ 3×"),
            Row(f"county figures over {county_returns} returns", county, None, "< 1 s"),
        ]
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))
