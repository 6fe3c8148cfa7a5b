"""Timing, memory and reporting shared by the benchmark cases."""

from __future__ import annotations

import gc
import resource
import sqlite3
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


@dataclass
class Measurement:
    seconds: float
    peak_mib: float  # peak Python heap while it ran (tracemalloc)


def measure(action: Callable[[], T], repeat: int = 1, trace_memory: bool = True) -> Measurement:
    """Best time of ``repeat`` runs; peak Python heap of the first run."""
    best = float("inf")
    peak = 0.0
    for attempt in range(repeat):
        gc.collect()
        if trace_memory and attempt == 0:
            tracemalloc.start()
        start = time.perf_counter()
        action()
        elapsed = time.perf_counter() - start
        if trace_memory and attempt == 0:
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        best = min(best, elapsed)
    return Measurement(best, peak)


def process_peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Row:
    case: str
    ours: Measurement
    baseline: Measurement | None
    target: str

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline.seconds == 0:
            return None
        return self.ours.seconds / self.baseline.seconds


def print_rows(rows: list[Row]) -> None:
    header = f"{'case':58} {'ours s':>8} {'base s':>8} {'ratio':>6} {'peak MiB':>9}  target"
    print(header)
    print("-" * len(header))
    for row in rows:
        base = f"{row.baseline.seconds:8.3f}" if row.baseline else f"{'—':>8}"
        ratio = f"{row.ratio:6.2f}" if row.ratio is not None else f"{'—':>6}"
        print(
            f"{row.case:58} {row.ours.seconds:8.3f} {base} {ratio} "
            f"{row.ours.peak_mib:9.1f}  {row.target}"
        )


# The spend_lines columns a benchmark's generated rows fill, in this order.
LINE_COLUMNS = (
    "grant_id, allocation_id, date, supplier, description, reference, cost_centre,"
    " account_code, net, vat, vat_recoverable, status, notes, source, version"
)
LineRows = Callable[[int, list[int]], Iterator[tuple[object, ...]]]


def demo_with_lines(path: Path, make_rows: LineRows, rebuild_indexes: bool = False) -> None:
    """The demo year in a new database at ``path``, plus the lines ``make_rows(grant_id,
    allocation_ids)`` yields, inserted in bulk with sqlite3 (the fast way to build test data,
    not what is measured). ``rebuild_indexes`` drops spend_lines' indexes for the insert and
    builds them again after, which is quicker for millions of lines."""
    from fundtracker.demo import GRANT_REFERENCE, load_demo
    from fundtracker.storage import open_database

    db = open_database(str(path))
    load_demo(db)
    db.dispose()
    connection = sqlite3.connect(path)
    grant_id = connection.execute(
        "SELECT id FROM grants WHERE reference = ?", (GRANT_REFERENCE,)
    ).fetchone()[0]
    allocation_ids = [
        row[0]
        for row in connection.execute("SELECT id FROM allocations WHERE grant_id = ?", (grant_id,))
    ]
    indexes = (
        connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'spend_lines'"
            " AND sql IS NOT NULL"
        ).fetchall()
        if rebuild_indexes
        else []
    )
    for name, _ in indexes:
        connection.execute(f"DROP INDEX {name}")
    placeholders = ", ".join("?" * len(LINE_COLUMNS.split(",")))
    connection.executemany(
        # counted_on (issue 13) is each line's date (the third column): no line is late.
        f"INSERT INTO spend_lines ({LINE_COLUMNS}, counted_on) VALUES ({placeholders}, ?3)",
        make_rows(grant_id, allocation_ids),
    )
    for _, sql in indexes:
        connection.execute(sql)
    connection.commit()
    connection.close()
