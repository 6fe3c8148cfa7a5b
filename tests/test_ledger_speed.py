"""A cheap guard on import speed: 10,000 lines against the raw csv + executemany baseline
measured in the same run (the full 100,000-line benchmark is benchmarks/bench_import.py)."""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.bench_import import make_grant, time_baseline, write_ledger
from fundtracker.ledger import ImportOptions, commit_import
from fundtracker.storage import open_database

ROWS = 10_000
# Against csv + executemany into a same-shaped table (same columns and indexes), measured about
# 2× at 100,000 lines and 4–5× at 10,000 on a busy two-core machine; this catches a blow-up.
GENEROUS_RATIO = 15


def test_import_speed_stays_within_a_ratio_of_the_raw_baseline(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.csv"
    write_ledger(ledger, ROWS)
    baseline = time_baseline(tmp_path, ledger)
    db = open_database(str(tmp_path / "ours.sqlite3"))
    try:
        make_grant(db)
        began = time.perf_counter()
        result = commit_import(db, "BENCH", ledger, ImportOptions())
        elapsed = time.perf_counter() - began
    finally:
        db.dispose()
    assert result.imported == ROWS
    assert elapsed <= GENEROUS_RATIO * max(baseline, 0.01), (elapsed, baseline)
