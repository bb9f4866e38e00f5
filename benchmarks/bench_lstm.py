"""Benchmark: LSTM forward + backward, dlbook (numpy) vs torch.nn.LSTM, CPU.

A word-level language model's recurrent layer: batch 32, 35 time steps,
input 128, hidden 256, float32, batch first. Both sides compute every weight
gradient and dx (the input comes from an embedding, so it needs one) for the
same random upstream gradient of the outputs.

dlbook and PyTorch are each timed in a process of their own, at the
libraries' defaults (no OMP_WAIT_POLICY, default thread counts; timing.py):
dlbook's time over PyTorch's is the fair ratio, the headline (target: <= 1.5).
The ratio with both in one process under OMP_WAIT_POLICY=PASSIVE and
OPENBLAS_THREAD_TIMEOUT=4 is printed beside it. Samples and "clean" samples
as in bench_conv.py; the CPU time of each sample is printed too: on a busy
machine, with `--threads 1`, it is the steadier measure of the work each
library does. The machine may be shared with other jobs, so run it a few times.
Run: `python benchmarks/bench_lstm.py` (`--threads N` pins both libraries to
N threads in every process, as in bench_conv.py).
"""

import numpy as np
from timing import bench

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
    bench(__file__, f"LSTM N={N} T={T} D={D} H={H}, float32, forward + backward (dx and all "
          f"weights)", {"": {"dlbook": dlbook_step, "PyTorch": torch_step}}, target=1.5,
          rounds=ROUNDS, sample_seconds=SAMPLE_SECONDS)


if __name__ == "__main__":
    main()
