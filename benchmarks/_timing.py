"""Timing helper shared by the benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median wall-clock seconds of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_mb(fn: Callable[[], object], interval: float = 0.005) -> float | None:
    """Peak resident memory (MiB) ``fn`` adds over the process's memory before the call.

    Sampled from ``/proc/self/statm`` by a thread every ``interval`` seconds, so it sees
    memory allocated by torch and numpy as well as by Python; None off Linux. Memory freed
    by earlier calls is handed back to the system first (``malloc_trim``), so that reusing
    it does not hide what ``fn`` needs.
    """
    import ctypes
    import gc
    import os
    import threading

    statm = "/proc/self/statm"
    if not os.path.exists(statm):
        return None
    page = os.sysconf("SC_PAGE_SIZE")

    def rss() -> int:
        with open(statm) as f:
            return int(f.read().split()[1]) * page

    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    before, peak = rss(), [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        fn()
    finally:
        done.set()
        sampler.join()
    return round(max(peak[0] - before, 0) / 2**20, 1)
