"""Benchmark: Conv2d forward + backward, dlbook (numpy im2col) vs torch.nn.functional.conv2d, CPU.

Two 3x3, padding-1 layers of a small CIFAR-style CNN, float32, weights and
bias requiring gradients:

  (a) the first layer: batch 64, 3 -> 32 channels, 32 x 32 images. Its input
      is data, so neither side computes dx (``input_grad=False`` here; in
      torch the input does not require grad).
  (b) a middle layer: batch 64, 32 -> 64 channels, 16 x 16. Both compute dx.

The upstream gradient ``dout`` has the memory layout of each library's own
output, as an elementwise layer (ReLU) after the convolution would hand it
back: channels-last for dlbook, NCHW for torch. A second dlbook line passes an
NCHW-contiguous dout instead, which costs dlbook one transpose copy.

One process, OMP_WAIT_POLICY=PASSIVE and OPENBLAS_THREAD_TIMEOUT=4, so that
the two libraries' thread pools do not spin against each other. In each of
ROUNDS rounds numpy is timed first, then torch. A sample is the mean time of
the calls in about SAMPLE_SECONDS; a figure is the best (and the median) of
its samples, counting only "clean" samples, during which other processes
left the CPUs idle (read from /proc/stat), when there are any. glibc is told
to keep freed memory (steady_malloc), so that neither library pays for fresh
pages on some runs and not on others. The CPU time of each sample is printed
too: on a busy machine, with `--threads 1`, it is the steadier measure of the
work each library does (as in bench_lstm.py). The machine may be shared with
other jobs, so run it a few times. Target: dlbook / PyTorch <= 2.0.
Run: `python benchmarks/bench_conv.py`.

`--threads N` pins both libraries to N threads (OpenBLAS for numpy, OpenMP for
torch), as in bench_mlp.py; one thread gives ratios that hold even on a busy
machine, where multi-threaded GEMMs suffer badly from contention.
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

ROUNDS = 2
CONFIGS = {  # name: (N, C, F, H = W, dx computed?)
    "(a) 64x3x32x32 -> 32, no dx": (64, 3, 32, 32, False),
    "(b) 64x32x16x16 -> 64, dx": (64, 32, 64, 16, True),
}


def dlbook_step(N, C, F, H, dx, channels_last_dout=True):
    from dlbook.layers.conv import Conv2d

    rng = np.random.default_rng(0)
    layer = Conv2d(C, F, 3, padding=1, rng=0, input_grad=dx)
    x = rng.standard_normal((N, C, H, H), dtype=np.float32)
    y = layer(x)
    dout = np.empty_like(y) if channels_last_dout else np.empty(y.shape, np.float32)
    dout[...] = rng.standard_normal(y.shape, dtype=np.float32)

    def step():
        layer(x)
        layer.backward(dout)
    return step


def torch_step(N, C, F, H, dx):
    import torch

    torch.manual_seed(0)
    x = torch.randn(N, C, H, H, requires_grad=dx)
    w = torch.randn(F, C, 3, 3, requires_grad=True)
    b = torch.zeros(F, requires_grad=True)
    dout = torch.randn(N, F, H, H)

    def step():
        torch.nn.functional.conv2d(x, w, b, padding=1).backward(dout)
    return step


def report(what: str, seconds: dict[str, list[float]], clean: dict[str, int] | None) -> None:
    """Print one kind of time (wall or CPU) of every side, and the ratios dlbook / PyTorch."""
    best = {side: 1e3 * min(got) for side, got in seconds.items()}
    median = {side: 1e3 * float(np.median(got)) for side, got in seconds.items()}
    print(f"  {what} time:")
    for side in seconds:
        print(f"    {side:17s} {best[side]:7.2f} / {median[side]:7.2f}"
              + (f" ({clean[side]} clean)" if clean else ""))
    print(f"    ratio dlbook / PyTorch = {best['dlbook'] / best['PyTorch']:.2f}x best, "
          f"{median['dlbook'] / median['PyTorch']:.2f}x median; with an NCHW dout "
          f"{best['dlbook NCHW dout'] / best['PyTorch']:.2f}x best (target <= 2.0x)")


def main() -> None:
    steady_malloc()
    import torch  # imported now, but not called before the first numpy timings
    from threadpoolctl import threadpool_info

    sides = {"dlbook": lambda cfg: dlbook_step(*cfg),
             "dlbook NCHW dout": lambda cfg: dlbook_step(*cfg, channels_last_dout=False),
             "PyTorch": lambda cfg: torch_step(*cfg)}  # in this order: numpy first, then torch
    times = {(name, side): ([], [], 0) for name in CONFIGS for side in sides}
    for _ in range(ROUNDS):  # spreads both libraries over the machine's quiet and busy spells
        for side, make in sides.items():
            for name, cfg in CONFIGS.items():
                got, cpu, clean = samples(make(cfg))
                old = times[name, side]
                times[name, side] = (old[0] + got, old[1] + cpu, old[2] + clean)
    pools = ", ".join(f"{i['internal_api']} {i.get('architecture', '?')} x{i['num_threads']}"
                      for i in threadpool_info())
    print(f"Conv2d 3x3, padding 1, float32, forward + backward, ms per call: best / median "
          f"sample (clean samples); load average {os.getloadavg()[0]:.1f}")
    print(f"thread pools: {pools}; torch threads: {torch.get_num_threads()}")
    for name in CONFIGS:
        print(f"{name}:")
        for k, what in enumerate(("wall", "CPU")):
            report(what, {side: times[name, side][k] for side in sides},
                   {side: times[name, side][2] for side in sides} if what == "wall" else None)


if __name__ == "__main__":
    main()
