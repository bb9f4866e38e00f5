"""Timing helpers shared by the benchmarks (bench_mlp.py, bench_conv.py, bench_lstm.py).

Each benchmark script is run three ways, each in a process of its own:

* ``--side dlbook``: dlbook alone, at the libraries' defaults;
* ``--side torch``: PyTorch alone, at *its* defaults: no ``OMP_WAIT_POLICY``,
  its default thread count, no other environment tweak. dlbook's time over
  this one is the **fair ratio**, the headline;
* ``--side shared``: both in one process with ``OMP_WAIT_POLICY=PASSIVE`` and
  ``OPENBLAS_THREAD_TIMEOUT=4`` (what a cross-check notebook does). That
  ratio is printed beside the fair one; passive OpenMP threads can slow torch.

:func:`run_side` starts a side; the side prints one JSON line of samples that
:func:`print_table` turns into best / median milliseconds and the ratios.
``samples(step)`` times repeated calls of ``step`` in samples of about
``sample_seconds`` each, keeps wall and CPU time, and counts as "clean" the
samples during which other processes left the CPUs idle (read from /proc/stat).
``steady_malloc()`` fixes glibc's allocator thresholds so that no library's
timings depend on the allocation history of the process.
"""

import ctypes
import json
import os
import subprocess
import sys
import time

SAMPLES, MAX_SAMPLES = 8, 30
QUIET_SHARE = 0.05
"""A sample counts as clean when other processes used at most this share of the CPUs."""
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's malloc.h

SIDES = ("dlbook", "torch", "shared")
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
SHARED_ENV = {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_THREAD_TIMEOUT": "4"}
"""Set for the shared process only: numpy's and torch's thread pools then share the cores."""
TWEAKS = (*THREAD_ENV, *SHARED_ENV, "GOMP_SPINCOUNT", "KMP_BLOCKTIME")
"""Removed from every side's environment (the Makefile exports some): library defaults."""


def steady_malloc() -> None:
    """Make glibc keep freed memory in the process, so that no call faults in fresh pages.

    By default glibc's thresholds adapt to the history of the process: on some
    runs every torch call handed its buffers back to the OS and then took
    thousands of page faults to get them again, which tripled its time. Fixed
    thresholds make both libraries reuse their memory on every run (every side
    calls it). Not glibc (macOS, Windows): nothing to do.
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


def samples(step, sample_seconds: float = 0.2, wanted: int = SAMPLES,
            most: int = MAX_SAMPLES) -> tuple[list[float], list[float], int]:
    """(wall seconds per call of each sample, CPU seconds per call, number of clean samples).

    A sample is the mean of enough calls to last ``sample_seconds``. Samples during
    which other processes were busy are kept but not counted as clean; sampling
    stops after ``wanted`` clean ones (or ``most`` in all). The CPU time (this
    process, all its threads) of every sample is kept: with one thread it
    barely depends on what else the machine runs.
    """
    step()
    start = time.perf_counter()
    step()
    inner = max(1, int(sample_seconds / (time.perf_counter() - start)))
    clean, dirty, cpu = [], [], []
    while len(clean) < wanted and len(clean) + len(dirty) < most:
        others, start, cpu_start = others_cpu_seconds(), time.perf_counter(), time.process_time()
        for _ in range(inner):
            step()
        seconds = time.perf_counter() - start
        cpu.append((time.process_time() - cpu_start) / inner)
        quiet = others_cpu_seconds() - others <= QUIET_SHARE * os.cpu_count() * seconds
        (clean if quiet else dirty).append(seconds / inner)
    return clean or dirty, cpu, len(clean)


def arguments() -> tuple[str | None, int | None]:
    """(``--side`` given to this process or None, ``--threads N`` or None)."""
    side = threads = None
    if "--side" in sys.argv:
        side = sys.argv[sys.argv.index("--side") + 1]
        if side not in SIDES:
            sys.exit(f"--side expects one of {SIDES}; got {side!r}")
    if "--threads" in sys.argv:
        threads = int(sys.argv[sys.argv.index("--threads") + 1])
    return side, threads


def side_env(side: str, threads: int | None) -> dict[str, str]:
    """The environment of one side: the libraries' defaults, plus the shared settings."""
    env = {k: v for k, v in os.environ.items() if k not in TWEAKS}
    if threads:  # --threads N pins both libraries, in every process alike
        env.update({k: str(threads) for k in THREAD_ENV})
    if side == "shared":
        env.update(SHARED_ENV)
    return env


def run_side(script: str, side: str, threads: int | None) -> dict:
    """Run ``script --side side`` in a fresh process; return the JSON it printed last."""
    cmd = [sys.executable, script, "--side", side] + (["--threads", str(threads)] if threads else [])
    done = subprocess.run(cmd, env=side_env(side, threads), capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def emit(times: dict) -> None:
    """Print what a side measured as one JSON line, with its thread pools, for run_side."""
    from threadpoolctl import threadpool_info

    pools = [f"{i['internal_api']} {i.get('architecture', '?')} x{i['num_threads']}"
             for i in threadpool_info()]
    if "torch" in sys.modules:
        pools.append(f"torch x{sys.modules['torch'].get_num_threads()}")
    print(json.dumps({"times": times, "pools": ", ".join(pools)}))


def merge(runs: list[dict]) -> dict:
    """Join the samples of several runs of the same sides: {name: [wall, cpu, clean]}."""
    out: dict = {}
    for run in runs:
        for name, (wall, cpu, clean) in run["times"].items():
            old = out.setdefault(name, [[], [], 0])
            old[0] += wall
            old[1] += cpu
            old[2] += clean
    return out


def best_median(seconds: list[float]) -> tuple[float, float]:
    """(best, median) in milliseconds."""
    ms = sorted(1e3 * s for s in seconds)
    mid = len(ms) // 2
    return ms[0], (ms[mid] if len(ms) % 2 else (ms[mid - 1] + ms[mid]) / 2)


def print_table(own: dict, shared: dict, ours: list[str], target: float) -> None:
    """dlbook's best / median ms for each name in ``ours`` against PyTorch's, and the ratios.

    ``own`` and ``shared`` map names ("dlbook", "PyTorch", ...) to merged samples.
    The fair ratio uses PyTorch timed in its own process; the shared one, both in one.
    """
    for k, what in ((0, "wall"), (1, "CPU")):
        print(f"  {what} time, ms per call: best / median sample"
              + (" (clean samples)" if k == 0 else ""))
        for label, times in (("own processes", own), ("one shared process", shared)):
            for name in [*ours, "PyTorch"]:
                best, median = best_median(times[name][k])
                clean = f" ({times[name][2]} clean)" if k == 0 else ""
                print(f"    {label:18s} {name:17s} {best:8.2f} / {median:8.2f}{clean}")
        for name in ours:
            fair = best_median(own[name][k])[0] / best_median(own["PyTorch"][k])[0]
            same = best_median(shared[name][k])[0] / best_median(shared["PyTorch"][k])[0]
            fair_med = best_median(own[name][k])[1] / best_median(own["PyTorch"][k])[1]
            print(f"    {name} / PyTorch: fair {fair:.2f}x best ({fair_med:.2f}x median), "
                  f"shared process {same:.2f}x (target <= {target:.1f}x, fair)")


def measure(side: str, makers: dict, rounds: int, **sampling) -> dict:
    """Time the makers of one side: {"config|name": [wall s, CPU s, clean samples]}.

    ``makers[config][name]`` builds a step; names starting with "dlbook" are
    the dlbook side's, "PyTorch" the torch side's, and the shared side times
    them all, numpy first, ``rounds`` times over. ``sampling`` goes to :func:`samples`.
    """
    steady_malloc()
    lib = {"dlbook": "dlbook", "torch": "PyTorch", "shared": ""}[side]
    if side == "shared":
        import torch  # noqa: F401  imported now, but not called before the first numpy timings
    order = sorted({name for steps in makers.values() for name in steps if name.startswith(lib)},
                   key=lambda name: name == "PyTorch")  # numpy first, then torch
    times: dict = {}
    for _ in range(rounds if side == "shared" else 1):
        for name in order:
            for config, steps in makers.items():
                wall, cpu, clean = samples(steps[name](), **sampling)
                old = times.setdefault(f"{config}|{name}", [[], [], 0])
                times[f"{config}|{name}"] = [old[0] + wall, old[1] + cpu, old[2] + clean]
    return times


def bench(script: str, title: str, makers: dict, target: float, rounds: int = 2,
          **sampling) -> None:
    """The whole benchmark: run as one side when ``--side`` is given, else start the sides.

    ``makers[config][name]`` builds a step (config "" when there is one). Runs
    ``rounds`` pairs of own processes (dlbook, then torch) and one shared
    process, then prints one table per configuration.
    """
    side, threads = arguments()
    if side is not None:
        emit(measure(side, makers, rounds, **sampling))
        return
    own_runs = [run_side(script, s, threads) for _ in range(rounds) for s in ("dlbook", "torch")]
    shared = run_side(script, "shared", threads)
    own, both = merge(own_runs), merge([shared])
    print(f"{title}; load average {os.getloadavg()[0]:.1f}"
          + (f"; --threads {threads} in every process" if threads else ""))
    print(f"own processes: dlbook [{own_runs[0]['pools']}], PyTorch [{own_runs[1]['pools']}]")
    print(f"shared process (OMP_WAIT_POLICY=PASSIVE): [{shared['pools']}]")
    for config, steps in makers.items():
        if config:
            print(f"{config}:")
        print_table({name: own[f"{config}|{name}"] for name in steps},
                    {name: both[f"{config}|{name}"] for name in steps},
                    [name for name in steps if name != "PyTorch"], target)
