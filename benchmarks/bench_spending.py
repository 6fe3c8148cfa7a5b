"""The Spending page on a very large ledger: opening it, typing into its find box, memory.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.bench_spending [LINES]

The parent builds two databases (the demo year plus LINES lines, default 1,000,000; and the
demo year alone plus 100 lines); each measurement runs in a fresh child process showing the
real main window at 1280×800:

- open: from asking for the Spending page until its first rows are painted; the 1,000,000-line
  ledger against the 100-line one (target: at most 2×);
- keystrokes: "supplier 12" typed into the find box one key at a time; for each key the time
  the window was busy answering it, and, after the find box's pause, the time to show the
  filtered rows (target: each keystroke answered under 100 ms);
- memory: the process's peak resident memory with the large ledger open and scrolled
  (target: under 400 MB).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIND_TEXT = "supplier 12"


def child(database: str) -> None:
    """Runs in a fresh process: open the window, measure, print one JSON line."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from benchmarks.common import process_peak_rss_mib
    from fundtracker.storage import open_database
    from ui.app import Session, application

    app = application()
    window = Session().open(open_database(database), ask=False)
    assert window is not None
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    started = time.perf_counter()
    page = window.show_page("spending")
    app.processEvents()
    page.table.viewport().grab()  # the first rows, painted
    opened = time.perf_counter() - started

    applies: list[float] = []
    original_apply = page.apply_filter

    def timed_apply() -> None:
        begun = time.perf_counter()
        original_apply()
        app.processEvents()
        page.table.viewport().grab()
        applies.append(time.perf_counter() - begun)

    page.apply_filter = timed_apply  # type: ignore[method-assign]
    page._filter_timer.timeout.disconnect()
    page._filter_timer.timeout.connect(page.apply_filter)
    page.search.setFocus()
    keys = []
    for character in FIND_TEXT:
        begun = time.perf_counter()
        QTest.keyClick(page.search, character)
        app.processEvents()
        keys.append(time.perf_counter() - begun)
        QTest.qWait(120)  # a quick typist
    QTest.qWait(400)  # the pause after typing: the filter applies
    results = page.model.rowCount()
    for _ in range(20):  # scroll through some pages
        QTest.keyClick(page.table, Qt.Key.Key_PageDown)
    app.processEvents()
    print(
        json.dumps(
            {
                "open_s": opened,
                "max_key_s": max(keys),
                "max_apply_s": max(applies) if applies else None,
                "rows_after_find": results,
                "peak_rss_mib": process_peak_rss_mib(),
            }
        )
    )


def _run_child(database: Path, scratch: str) -> dict[str, float]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "FUNDTRACKER_DATA_DIR": scratch,
        "XDG_CONFIG_HOME": scratch,
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_spending", "--child", str(database)],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def main() -> None:
    from benchmarks.bench_figures import build

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    lines = int(args[0]) if args else 1_000_000
    with tempfile.TemporaryDirectory() as scratch:
        large, small = Path(scratch) / "large.sqlite3", Path(scratch) / "small.sqlite3"
        print(f"building {lines:,} and 100 spend lines ...", flush=True)
        build(large, lines)
        build(small, 100)
        small_runs = [_run_child(small, scratch) for _ in range(3)]
        large_runs = [_run_child(large, scratch) for _ in range(3)]
    small_open = min(r["open_s"] for r in small_runs)
    large_open = min(r["open_s"] for r in large_runs)
    print(f"open Spending, 100 lines:            {small_open:.3f} s (best of 3)")
    print(f"open Spending, {lines:,} lines:    {large_open:.3f} s (best of 3)")
    print(f"ratio: {large_open / small_open:.2f} (target <= 2)")
    worst_key = max(r["max_key_s"] for r in large_runs)
    worst_apply = max(r["max_apply_s"] or 0.0 for r in large_runs)
    print(
        f"typing '{FIND_TEXT}' on {lines:,} lines: slowest keystroke answered in "
        f"{worst_key * 1000:.0f} ms (target < 100 ms)"
    )
    print(
        f"  filtered rows shown {worst_apply * 1000:.0f} ms after the find box's pause "
        f"(totals follow from a background thread)"
    )
    print(
        f"peak memory with {lines:,} lines open: "
        f"{max(r['peak_rss_mib'] for r in large_runs):.0f} MiB (target < 400 MB)"
    )


if __name__ == "__main__":
    if "--child" in sys.argv:
        child(sys.argv[sys.argv.index("--child") + 1])
    else:
        main()
