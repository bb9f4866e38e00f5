"""Timing helpers shared by the benchmarks (bench_conv.py, bench_lstm.py).

``samples(step)`` times repeated calls of ``step`` in samples of about
``sample_seconds`` each, keeps wall and CPU time, and counts as "clean" the
samples during which other processes left the CPUs idle (read from /proc/stat).
``steady_malloc()`` fixes glibc's allocator thresholds so that no library's
timings depend on the allocation history of the process.
"""

import ctypes
import os
import time

SAMPLES, MAX_SAMPLES = 8, 30
QUIET_SHARE = 0.05
"""A sample counts as clean when other processes used at most this share of the CPUs."""
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's malloc.h


def steady_malloc() -> None:
    """Make glibc keep freed memory in the process, so that no call faults in fresh pages.

    By default glibc's thresholds adapt to the history of the process: on some
    runs every torch call here handed its buffers back to the OS and then took
    thousands of page faults to get them again, which tripled its time. Fixed
    thresholds make both libraries reuse their memory on every run. Not glibc
    (macOS, Windows): nothing to do.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)  # keep up to 1 GB of free heap
    libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)  # blocks up to 32 MB come from the heap


def others_cpu_seconds() -> float:
    """CPU seconds used so far by every other process on the machine (Linux; else 0)."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait
    ours = os.times()
    return busy - ours.user - ours.system


def samples(step, sample_seconds: float = 0.2) -> tuple[list[float], list[float], int]:
    """(wall seconds per call of each sample, CPU seconds per call, number of clean samples).

    A sample is the mean of enough calls to last ``sample_seconds``. Samples during
    which other processes were busy are kept but not counted as clean; sampling
    stops after SAMPLES clean ones (or MAX_SAMPLES in all). The CPU time (this
    process, all its threads) of every sample is kept: with one thread it
    barely depends on what else the machine runs.
    """
    step()
    start = time.perf_counter()
    step()
    inner = max(1, int(sample_seconds / (time.perf_counter() - start)))
    clean, dirty, cpu = [], [], []
    while len(clean) < SAMPLES and len(clean) + len(dirty) < MAX_SAMPLES:
        others, start, cpu_start = others_cpu_seconds(), time.perf_counter(), time.process_time()
        for _ in range(inner):
            step()
        seconds = time.perf_counter() - start
        cpu.append((time.process_time() - cpu_start) / inner)
        quiet = others_cpu_seconds() - others <= QUIET_SHARE * os.cpu_count() * seconds
        (clean if quiet else dirty).append(seconds / inner)
    return clean or dirty, cpu, len(clean)
