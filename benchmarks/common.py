"""Timing, memory and reporting shared by the benchmark cases."""

from __future__ import annotations

import gc
import resource
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
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
