"""Run every benchmark case, one fresh process each, and print their tables.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks

Each case builds its own data and measures its baseline in the same run (see each module's
docstring for what the baseline is). The whole suite takes a few minutes on two cores.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime

CASES = (
    ("Import a 100,000-line ledger CSV", "benchmarks.bench_import"),
    ("Export a return with 100,000 transactions", "benchmarks.bench_export"),
    ("Full report (figures + checks) over 1,000,000 lines", "benchmarks.bench_figures"),
    ("Spending page on 1,000,000 lines: open, filter, memory", "benchmarks.bench_spending"),
    ("Cold start to a usable main window", "benchmarks.bench_startup"),
    ("Receive 400 returns of 2,000 lines; county figures", "benchmarks.bench_receive"),
)


def main() -> int:
    only = set(sys.argv[1:])
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    print(f"Fundtracker benchmarks — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"{platform.platform()}; Python {platform.python_version()}; {os.cpu_count()} cores")
    failed = []
    for title, module in CASES:
        if only and module.rsplit(".", 1)[-1] not in only:
            continue
        print(f"\n## {title}  ({module})", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", module], env=env, check=False)
        print(f"(case took {time.perf_counter() - started:.0f} s)", flush=True)
        if result.returncode:
            failed.append(module)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
