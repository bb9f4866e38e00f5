"""Data-parallel training with DistributedDataParallel, checked against one process (chapter 22).

Run it with torchrun, which starts one process per worker and tells each its
rank and the world size through environment variables::

    torchrun --nproc_per_node 2 -m dlbook.scale.ddp --steps 5 --out DIR

Every process builds the same model (same seed), takes its own contiguous
shard of one fixed global batch, and computes the loss on that shard. During
``backward`` DDP all-reduces the gradients, so that every process holds their
average, then each takes the same SGD step. With equal shards the average
of the shard means is the mean over the global batch: the gradients and the
parameters must equal those of :func:`train_single_process` on the whole batch.

The backend is gloo on CPU processes and NCCL when there is a GPU for every
process. Rank r writes its gradients after step 1 and its final parameters
to DIR as ``.npy`` files (plain arrays; never pickles). torch is imported
inside the functions.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np

from dlbook._checks import check_positive_int
from dlbook.utils import make_rng

GLOBAL_BATCH = 64
"""Examples in the fixed global batch, split evenly over the processes."""

IN_FEATURES, HIDDEN, N_CLASSES = 8, 16, 3
"""The small MLP: Linear(8, 16) - ReLU - Linear(16, 3)."""

LR = 0.5
"""SGD learning rate: large, so that N steps move the parameters visibly."""

SEED = 0
"""Seeds the data and the initial weights (the same in every process)."""

LAUNCH_TIMEOUT_S = 120
"""launch() kills torchrun after this many seconds instead of hanging."""


def make_global_batch(batch_size: int = GLOBAL_BATCH, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """A fixed batch of Gaussian inputs labelled by a random linear rule.

    Shapes: -> X (B, IN_FEATURES) float32, y (B,) int64 in [0, N_CLASSES).
    """
    rng = make_rng(seed, "make_global_batch")
    X = rng.standard_normal((check_positive_int(batch_size, "make_global_batch", "batch_size"),
                             IN_FEATURES)).astype(np.float32)
    y = (X @ rng.standard_normal((IN_FEATURES, N_CLASSES))).argmax(axis=1)
    return X, y.astype(np.int64)


def make_model(seed: int = SEED):
    """Linear-ReLU-Linear initialised from ``seed`` in a forked torch RNG (global RNG untouched)."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.nn.Sequential(torch.nn.Linear(IN_FEATURES, HIDDEN), torch.nn.ReLU(),
                                   torch.nn.Linear(HIDDEN, N_CLASSES))


def shard(X: np.ndarray, y: np.ndarray, rank: int, world_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Rank r's contiguous slice of the global batch: rows [r B/P, (r + 1) B/P).

    Shapes: X (B, D), y (B,) -> (B/P, D), (B/P,). B must be divisible by P:
    with unequal shards the average of the shard means is not the global mean.
    """
    world_size = check_positive_int(world_size, "shard", "world_size")
    if len(X) % world_size:
        raise ValueError(f"shard expected the batch size {len(X)} to be divisible by the "
                         f"world size {world_size}")
    if not 0 <= rank < world_size:
        raise ValueError(f"shard expected rank in [0, {world_size}); got {rank}")
    size = len(X) // world_size
    return X[rank * size:(rank + 1) * size], y[rank * size:(rank + 1) * size]


def _arrays(named, attr: str | None = None) -> dict[str, np.ndarray]:
    return {name: (getattr(p, attr) if attr else p).detach().cpu().numpy().copy()
            for name, p in named}


def train_single_process(steps: int, lr: float = LR) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The reference: one process, the whole global batch, plain SGD on the mean loss.

    Shapes: -> (gradients after step 1, parameters after ``steps`` steps), by parameter name.
    """
    import torch

    steps = check_positive_int(steps, "train_single_process", "steps")
    X, y = (torch.as_tensor(a) for a in make_global_batch())
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for step in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        if step == 0:
            grads = _arrays(model.named_parameters(), "grad")
        optimizer.step()
    return grads, _arrays(model.named_parameters())


def save_arrays(arrays: dict[str, np.ndarray], out_dir: str | Path, prefix: str) -> None:
    """Write each array to ``out_dir/{prefix}{name}.npy`` (np.save, no pickle)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, value in arrays.items():
        np.save(out_dir / f"{prefix}{name}.npy", value, allow_pickle=False)


def load_arrays(out_dir: str | Path, prefix: str) -> dict[str, np.ndarray]:
    """Read back what :func:`save_arrays` wrote, by name; FileNotFoundError if there is none."""
    files = sorted(Path(out_dir).glob(f"{prefix}*.npy"))
    if not files:
        raise FileNotFoundError(f"load_arrays found no {prefix}*.npy files in {out_dir}")
    return {f.name[len(prefix):-len(".npy")]: np.load(f, allow_pickle=False) for f in files}


def train_ddp(steps: int, out_dir: str | Path, lr: float = LR, backend: str = "auto") -> None:
    """One worker of the data-parallel run; torchrun starts one per process.

    Shapes: each rank trains on (GLOBAL_BATCH / world_size, IN_FEATURES).
    ``backend="auto"``: NCCL when every process can have its own GPU, else gloo.
    """
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP

    world_size, local_rank = int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"])
    if backend == "auto":
        enough_gpus = torch.cuda.is_available() and torch.cuda.device_count() >= world_size
        backend = "nccl" if enough_gpus else "gloo"
    device = torch.device(f"cuda:{local_rank}" if backend == "nccl" else "cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend)
    try:
        rank = dist.get_rank()
        X, y = shard(*make_global_batch(), rank, world_size)
        X, y = torch.as_tensor(X, device=device), torch.as_tensor(y, device=device)
        model = DDP(make_model().to(device), device_ids=[local_rank] if device.type == "cuda" else None)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        for step in range(steps):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X), y)  # mean over this shard
            loss.backward()  # DDP all-reduces here: every rank now holds the average gradient
            if step == 0:
                save_arrays(_arrays(model.module.named_parameters(), "grad"), out_dir,
                            f"grads_step1_rank{rank}__")
            optimizer.step()
        save_arrays(_arrays(model.module.named_parameters()), out_dir, f"params_rank{rank}__")
        dist.barrier()
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    """A TCP port that is free on this machine now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TEARDOWN_ABORT = "terminate called without an active exception"


def _run_group(cmd: list[str], timeout: float) -> tuple[subprocess.Popen, str, str]:
    """Run cmd in its own process group, one OpenMP thread per worker; kill the group on timeout."""
    env = dict(os.environ, OMP_NUM_THREADS="1")  # one thread per worker; torchrun would warn
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)  # its own group: killable as one
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # torchrun and every worker it started
        proc.communicate()
        raise
    return proc, stdout, stderr


def launch(nproc: int, steps: int, out_dir: str | Path, backend: str = "auto",
           timeout: float = LAUNCH_TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run ``torchrun --nproc_per_node nproc -m dlbook.scale.ddp`` in a subprocess, on a free port.

    Raises RuntimeError with the end of the workers' output when they fail,
    and ``subprocess.TimeoutExpired`` (after killing them) past ``timeout``.
    """
    nproc = check_positive_int(nproc, "launch", "nproc")
    steps = check_positive_int(steps, "launch", "steps")
    for attempt in (1, 2):
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
               "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
               "-m", "dlbook.scale.ddp", "--steps", str(steps), "--out", str(out_dir),
               "--backend", backend]
        proc, stdout, stderr = _run_group(cmd, timeout)
        # A gloo worker now and then aborts in torch's C++ teardown (seen on a loaded 2-core
        # machine, about one run in ten): that failure alone gets one fresh run.
        if proc.returncode == 0 or attempt == 2 or TEARDOWN_ABORT not in stdout + stderr:
            break
    if proc.returncode != 0:
        raise RuntimeError(f"launch: torchrun exited with {proc.returncode}:\n"
                           f"{(stdout + stderr)[-3000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--steps N --out DIR [--lr LR] [--backend auto|gloo|nccl]``."""
    parser = argparse.ArgumentParser(prog="python -m dlbook.scale.ddp", description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--lr", type=float, default=LR)
    parser.add_argument("--backend", choices=("auto", "gloo", "nccl"), default="auto")
    args = parser.parse_args(argv)
    if "WORLD_SIZE" not in os.environ:
        parser.error("start it with torchrun (or python -m torch.distributed.run)")
    train_ddp(args.steps, args.out, lr=args.lr, backend=args.backend)


if __name__ == "__main__":
    main()
