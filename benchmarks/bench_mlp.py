"""Benchmark: one training epoch of a 784-256-10 MLP, dlbook (numpy) vs PyTorch, on CPU.

60,000 random float32 samples, batch 128 (469 steps), plain SGD, softmax
cross-entropy. Both sides do the same work per step: gather a shuffled batch,
forward, loss, backward, update. Prints the best of several epochs for each
and the ratio dlbook / PyTorch (target: <= 1.0). Run: `make bench`.

`--threads N` pins both libraries to N threads (OpenBLAS for numpy, OpenMP for
torch); a single thread gives ratios that hold even on a busy machine, where
OpenBLAS's threads suffer much more from contention than torch's.
"""

import os
import sys

if "--threads" in sys.argv:  # must happen before numpy and torch are imported
    _n = sys.argv[sys.argv.index("--threads") + 1]
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = _n

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # numpy and torch share the cores politely
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

import time  # noqa: E402

import numpy as np  # noqa: E402

N, D, H, C, BATCH, LR, REPEATS = 60_000, 784, 256, 10, 128, 0.01, 3


def data():
    rng = np.random.default_rng(0)
    return rng.random((N, D), dtype=np.float32), rng.integers(0, C, size=N)


def dlbook_epoch_seconds(X, y) -> float:
    from dlbook.layers import CrossEntropyLoss, Linear, ReLU, Sequential
    from dlbook.optim import SGD
    from dlbook.train import train_epoch

    model = Sequential(Linear(D, H, rng=0, input_grad=False), ReLU(), Linear(H, C, rng=1))
    loss_fn, opt, rng = CrossEntropyLoss(), SGD(model.parameters(), lr=LR), np.random.default_rng(0)
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        train_epoch(model, loss_fn, opt, X, y, BATCH, rng)
        times.append(time.perf_counter() - start)
    return min(times)


def torch_epoch_seconds(X, y) -> float:
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.ReLU(), torch.nn.Linear(H, C))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for idx in torch.randperm(N).split(BATCH):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx]).backward()
            opt.step()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    import torch
    from threadpoolctl import threadpool_info

    X, y = data()
    ours = dlbook_epoch_seconds(X, y)
    theirs = torch_epoch_seconds(X, y)
    blas = ", ".join(f"{i['internal_api']} {i.get('architecture', '?')} x{i['num_threads']}"
                     for i in threadpool_info())
    print(f"MLP {D}-{H}-{C}, batch {BATCH}, {N} samples, float32, SGD; best of {REPEATS} epochs")
    print(f"thread pools: {blas}; torch threads: {torch.get_num_threads()}")
    print(f"dlbook  : {ours:.3f} s/epoch")
    print(f"PyTorch : {theirs:.3f} s/epoch")
    print(f"ratio dlbook / PyTorch = {ours / theirs:.2f}x (target <= 1.0x)")


if __name__ == "__main__":
    main()
