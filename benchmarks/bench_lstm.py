"""Benchmark: LSTM forward + backward, dlbook (numpy) vs torch.nn.LSTM, CPU.

A word-level language model's recurrent layer: batch 32, 35 time steps,
input 128, hidden 256, float32, batch first. Both sides compute every weight
gradient and dx (the input comes from an embedding, so it needs one) for the
same random upstream gradient of the outputs.

One process, OMP_WAIT_POLICY=PASSIVE and OPENBLAS_THREAD_TIMEOUT=4, so that
the two libraries' thread pools do not spin against each other. In each of
ROUNDS rounds numpy is timed first, then torch. A sample is the mean time of
the calls in about SAMPLE_SECONDS; a figure is the best (and the median) of
its samples, counting only "clean" samples, during which other processes
left the CPUs idle (read from /proc/stat), when there are any. The CPU time
of each sample is printed too: on a busy machine, with `--threads 1`, it is
the steadier measure of the work each library does. The machine
may be shared with other jobs, so run it a few times. Target: dlbook /
PyTorch <= 1.5.
Run: `python benchmarks/bench_lstm.py` (`--threads N` pins both libraries to
N threads, as in bench_conv.py).
"""

import os
import sys

if "--threads" in sys.argv:  # must happen before numpy and torch are imported
    _n = sys.argv[sys.argv.index("--threads") + 1]
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = _n

os.environ["OMP_WAIT_POLICY"] = "PASSIVE"  # numpy and torch share the cores politely
os.environ["OPENBLAS_THREAD_TIMEOUT"] = "4"


import numpy as np  # noqa: E402
from timing import samples, steady_malloc  # noqa: E402

N, T, D, H = 32, 35, 128, 256
SAMPLE_SECONDS, ROUNDS = 0.3, 2


def dlbook_step():
    from dlbook.layers.lstm import LSTM

    rng = np.random.default_rng(0)
    layer = LSTM(D, H, rng=0)
    x = rng.standard_normal((N, T, D), dtype=np.float32)
    dout = rng.standard_normal((N, T, H), dtype=np.float32)

    def step():
        layer(x)
        layer.backward(dout)
    return step


def torch_step():
    import torch

    torch.manual_seed(0)
    lstm = torch.nn.LSTM(D, H, batch_first=True)
    x = torch.randn(N, T, D, requires_grad=True)
    dout = torch.randn(N, T, H)

    def step():
        lstm(x)[0].backward(dout)
    return step


def main() -> None:
    import torch  # imported now, but not called before the first numpy timings
    from threadpoolctl import threadpool_info

    steady_malloc()  # as in bench_conv.py: torch's times must not depend on allocation history
    sides = {"dlbook": dlbook_step, "PyTorch": torch_step}  # numpy first, then torch
    times = {side: ([], [], 0) for side in sides}
    for _ in range(ROUNDS):  # spreads both libraries over the machine's quiet and busy spells
        for side, make in sides.items():
            got, cpu, clean = samples(make(), SAMPLE_SECONDS)
            old = times[side]
            times[side] = (old[0] + got, old[1] + cpu, old[2] + clean)
    pools = ", ".join(f"{i['internal_api']} {i.get('architecture', '?')} x{i['num_threads']}"
                      for i in threadpool_info())
    print(f"LSTM N={N} T={T} D={D} H={H}, float32, forward + backward (dx and all weights), "
          f"ms per call: best / median sample (clean samples); load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"thread pools: {pools}; torch threads: {torch.get_num_threads()}")
    for k, what in enumerate(("wall", "CPU")):
        best = {side: 1e3 * min(times[side][k]) for side in sides}
        median = {side: 1e3 * float(np.median(times[side][k])) for side in sides}
        print(f"{what} time:")
        for side in sides:
            print(f"  {side:8s} {best[side]:7.2f} / {median[side]:7.2f}"
                  + (f" ({times[side][2]} clean)" if what == "wall" else ""))
        print(f"  ratio dlbook / PyTorch = {best['dlbook'] / best['PyTorch']:.2f}x best, "
              f"{median['dlbook'] / median['PyTorch']:.2f}x median (target <= 1.5x)")


if __name__ == "__main__":
    main()
