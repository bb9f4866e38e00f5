"""Benchmark: one training epoch of a 784-256-10 MLP, dlbook (numpy) vs PyTorch, on CPU.

60,000 random float32 samples, batch 128 (469 steps), plain SGD, softmax
cross-entropy. Both sides do the same work per step: gather a shuffled batch,
forward, loss, backward, update. A sample is one epoch.

dlbook and PyTorch are each timed in a process of their own at the libraries'
defaults (see timing.py): dlbook's time over PyTorch's is the fair ratio, the
headline (target: <= 1.0). The ratio with both in one process, under
OMP_WAIT_POLICY=PASSIVE, is printed beside it. Run: `make bench`.

`--threads N` pins both libraries to N threads (OpenBLAS for numpy, OpenMP for
torch) in every process; a single thread gives ratios that hold even on a busy
machine, where OpenBLAS's threads suffer much more from contention than torch's.
"""

from functools import cache

import numpy as np
from timing import bench

N, D, H, C, BATCH, LR = 60_000, 784, 256, 10, 128, 0.01
ROUNDS, EPOCHS, MAX_EPOCHS = 2, 4, 8
"""Rounds of own processes; per round and side, 4 clean epochs are wanted (8 at most)."""


@cache
def data():
    rng = np.random.default_rng(0)
    return rng.random((N, D), dtype=np.float32), rng.integers(0, C, size=N)


def dlbook_epoch():
    from dlbook.layers import CrossEntropyLoss, Linear, ReLU, Sequential
    from dlbook.optim import SGD
    from dlbook.train import train_epoch

    X, y = data()
    model = Sequential(Linear(D, H, rng=0, input_grad=False), ReLU(), Linear(H, C, rng=1))
    loss_fn, opt, rng = CrossEntropyLoss(), SGD(model.parameters(), lr=LR), np.random.default_rng(0)
    return lambda: train_epoch(model, loss_fn, opt, X, y, BATCH, rng)


def torch_epoch():
    import torch

    X, y = data()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.ReLU(), torch.nn.Linear(H, C))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def epoch():
        for idx in torch.randperm(N).split(BATCH):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx]).backward()
            opt.step()
    return epoch


def main() -> None:
    bench(__file__, f"MLP {D}-{H}-{C}, batch {BATCH}, {N} samples, float32, SGD, one epoch per call",
          {"": {"dlbook": dlbook_epoch, "PyTorch": torch_epoch}},
          target=1.0, rounds=ROUNDS, sample_seconds=0.0, wanted=EPOCHS, most=MAX_EPOCHS)


if __name__ == "__main__":
    main()
