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

dlbook and PyTorch are each timed in a process of their own, at the
libraries' defaults (no OMP_WAIT_POLICY, default thread counts; timing.py):
dlbook's time over PyTorch's is the fair ratio, the headline. The ratio with
both in one process under OMP_WAIT_POLICY=PASSIVE and OPENBLAS_THREAD_TIMEOUT=4
(numpy timed first, then torch, in each of ROUNDS rounds) is printed beside
it. ROUNDS rounds of own processes alternate the two libraries too. A sample
is the mean time of the calls in about 0.2 s; a figure is the best (and the
median) of its samples, counting only "clean" samples, during which other
processes left the CPUs idle (read from /proc/stat), when there are any.
glibc is told to keep freed memory (steady_malloc) on both sides, so that
neither library pays for fresh pages on some runs and not on others. The CPU
time of each sample is printed too: on a busy machine, with `--threads 1`,
it is the steadier measure of the work each library does. The machine may be
shared with other jobs, so run it a few times. Target: dlbook / PyTorch <= 2.0.
Run: `python benchmarks/bench_conv.py`.

`--threads N` pins both libraries to N threads (OpenBLAS for numpy, OpenMP for
torch) in every process, as in bench_mlp.py; one thread gives ratios that hold
even on a busy machine, where multi-threaded GEMMs suffer badly from contention.
"""

import numpy as np
from timing import bench

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


def main() -> None:
    makers = {config: {"dlbook": lambda args=args: dlbook_step(*args),
                       "dlbook NCHW dout": lambda args=args: dlbook_step(*args, channels_last_dout=False),
                       "PyTorch": lambda args=args: torch_step(*args)}
              for config, args in CONFIGS.items()}
    bench(__file__, "Conv2d 3x3, padding 1, float32, forward + backward", makers, target=2.0,
          rounds=ROUNDS)


if __name__ == "__main__":
    main()
