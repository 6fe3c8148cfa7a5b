"""Figures and checks over a million spend lines against a raw SQL GROUP BY baseline.

Run: ``.venv/bin/python -m benchmarks.bench_figures [LINES]`` (default 1,000,000). The demo
grant is loaded through the services, then LINES lines are bulk-inserted with sqlite3
(indexes dropped during the insert and rebuilt after, as the schema defines them). Timed in
the same run on the same file: ``build_report`` + ``run_checks`` (target: under 1 s and at
most 2× the baseline) and, for reference, ``burn_up``; the baseline is one
``SELECT allocation_id, SUM(net) FROM spend_lines GROUP BY allocation_id``. ``--plan`` also
prints SQLite's query plans for the engine's queries.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from benchmarks.common import Row, demo_with_lines, measure, print_rows, process_peak_rss_mib
from fundtracker import checks
from fundtracker.demo import GRANT_REFERENCE
from fundtracker.figures import build_report, burn_up
from fundtracker.periods import Period
from fundtracker.storage import Database, open_database

PERIOD = Period.parse("2025/26-Q3")


def _rows(lines: int, grant_id: int, allocation_ids: list[int]) -> Iterator[tuple[object, ...]]:
    """Lines across the demo year (a few outside it), 1% unassigned, 5% committed, 10% with
    VAT not recoverable, some credit notes, and one line in 5,000 entered twice."""
    rng = random.Random(1)
    start = date(2025, 3, 25)
    row: tuple[object, ...] = ()
    for n in range(lines):
        if n % 5000 == 1:
            yield row  # the same invoice again
            continue
        allocation = None if n % 100 == 0 else allocation_ids[n % len(allocation_ids)]
        day = start + timedelta(days=rng.randrange(380))
        net = rng.randrange(-5_000, 200_000)
        row = (
            grant_id,
            allocation,
            day.isoformat(),
            f"Supplier {n % 499}",
            "Goods and services",
            f"INV{n:08d}",
            "CS101",
            "4100",
            net,
            net // 5,
            0 if n % 10 == 0 else 1,
            "committed" if n % 20 == 0 else "paid",
            "",
            "bench",
            1,
        )
        yield row


def build(path: Path, lines: int) -> None:
    demo_with_lines(path, lambda grant_id, ids: _rows(lines, grant_id, ids), rebuild_indexes=True)


def report_and_checks(db: Database) -> None:
    report = build_report(db, GRANT_REFERENCE, PERIOD)
    findings = checks.run_checks(db, GRANT_REFERENCE, PERIOD, report=report)
    assert findings, "the benchmark data should give findings"


def own_checks_only(db: Database) -> None:
    """The same, without checks other modules added (the returns' checks)."""
    everything = checks.CHECKS
    checks.CHECKS = [c for c in everything if c.__module__ == checks.__name__]
    try:
        report_and_checks(db)
    finally:
        checks.CHECKS = everything


def baseline(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute(
        "SELECT allocation_id, SUM(net) FROM spend_lines GROUP BY allocation_id"
    ).fetchall()
    connection.close()


def print_plans(db: Database) -> None:
    """SQLite's plan for each statement the report and checks run."""
    from sqlalchemy import event

    statements: list[tuple[str, object]] = []

    def remember(conn: object, cursor: object, sql: str, params: object, *_: object) -> None:
        if "spend_lines" in sql and not sql.startswith("EXPLAIN"):
            statements.append((sql, params))

    event.listen(db.engine, "before_cursor_execute", remember)
    report_and_checks(db)
    event.remove(db.engine, "before_cursor_execute", remember)
    with db.engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        for sql, params in statements:
            print(" ".join(sql.split())[:160])
            for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params):  # type: ignore[arg-type]
                print("    ", row[-1])


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    lines = int(args[0]) if args else 1_000_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        print(f"building {lines:,} spend lines ...", flush=True)
        build(path, lines)
        db = open_database(str(path))
        try:
            if "--plan" in sys.argv:
                print_plans(db)
            report_and_checks(db)  # warm the page cache for both sides alike
            base = measure(lambda: baseline(path), repeat=5)
            ours = measure(lambda: report_and_checks(db), repeat=5)
            own = measure(lambda: own_checks_only(db), repeat=5)
            only_report = measure(lambda: build_report(db, GRANT_REFERENCE, PERIOD), repeat=5)
            chart = measure(lambda: burn_up(db, GRANT_REFERENCE, PERIOD), repeat=5)
        finally:
            db.dispose()
    print_rows(
        [
            Row(f"build_report + run_checks, {lines:,} lines", ours, base, "< 1 s and ≤ 2×"),
            Row("  the same without the returns' checks", own, base, "—"),
            Row("build_report alone", only_report, base, "—"),
            Row("burn_up (monthly chart)", chart, base, "—"),
        ]
    )
    print(f"process peak RSS: {process_peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
