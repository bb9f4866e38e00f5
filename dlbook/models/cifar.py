"""A small VGG-style CNN for CIFAR-10 in numpy and PyTorch, and a full training run (chapter 10).

The architecture, for 32x32 colour images and a base width w (32 by default):

    conv3x3(3 -> w)   [BN] ReLU  conv3x3(w -> w)   [BN] ReLU  maxpool2   (N, w, 16, 16)
    conv3x3(w -> 2w)  [BN] ReLU  conv3x3(2w -> 2w) [BN] ReLU  maxpool2   (N, 2w, 8, 8)
    flatten (N, 128 w)  linear(128 w -> hidden) ReLU  linear(hidden -> 10)

Every convolution pads by 1, so it keeps the size and only the pools halve it;
stacking two 3x3 convolutions before each pool gives a 5x5 receptive field with
fewer parameters than one 5x5 layer (Simonyan and Zisserman, 2015). [BN] is an
optional batch normalisation of every channel.

:func:`cifar_net` builds the numpy network (a :class:`dlbook.layers.Sequential`);
``dlbook.twins.to_torch`` turns it into the same layers in ``torch.nn``, with
its weights, so the two can be checked against each other. Training on the
50,000 CIFAR-10 images is too slow for numpy on a CPU; :func:`train_cifar_torch`
does it with that twin in PyTorch (on a GPU when present), with random pad-4 crops and horizontal flips
from :mod:`dlbook.data.augment`. The network is designed to reach at least
70% test accuracy in 20 epochs; run it to measure (the book quotes no number
it has not computed).
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import as_float_array
from dlbook.layers import BatchNorm2d, Flatten, Layer, Linear, MaxPool2d, ReLU, Sequential
from dlbook.layers.conv import Conv2d
from dlbook.utils import make_rng

CIFAR_SHAPE = (3, 32, 32)
"""Channels, height, width of one CIFAR-10 image."""
CROP_PADDING = 4
"""Random crops pad by 4 pixels on each side (the standard CIFAR-10 augmentation)."""
EVAL_BATCH = 1000
"""Batch size for test-set evaluation (no gradients kept)."""


def _plan(width: int, hidden: int, num_classes: int, batch_norm: bool) -> list[tuple]:
    """The architecture as a list of (kind, sizes...) steps."""
    for name, value in (("width", width), ("hidden", hidden), ("num_classes", num_classes)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"cifar_net expected {name} to be a positive int; got {value!r}")
    steps: list[tuple] = []
    c_in = CIFAR_SHAPE[0]
    for c_out in (width, 2 * width):  # two stages: two convolutions, then a pool
        for _ in range(2):
            steps += [("conv", c_in, c_out)] + ([("bn", c_out)] if batch_norm else []) + [("relu",)]
            c_in = c_out
        steps.append(("pool",))
    side = CIFAR_SHAPE[1] // 4  # two 2x2 pools: 32 -> 8
    steps += [("flatten",), ("linear", c_in * side * side, hidden), ("relu",),
              ("linear", hidden, num_classes)]
    return steps


def cifar_net(rng: int | np.random.Generator | None = None, dtype=np.float32, width: int = 32,
              hidden: int = 256, num_classes: int = 10, batch_norm: bool = True) -> Sequential:
    """The CIFAR-10 CNN of the module docstring in numpy (chapter 10).

    Shapes: x (N, 3, 32, 32) -> logits (N, num_classes). Weights are drawn with
    He initialisation from ``rng``; the first convolution skips dx (its input
    is data). With width 32: 32-32-pool-64-64-pool, then 4096 -> 256 -> 10.
    """
    rng = make_rng(rng, "cifar_net")
    layers: list[Layer] = []
    for step in _plan(width, hidden, num_classes, batch_norm):
        kind = step[0]
        if kind == "conv":
            layers.append(Conv2d(step[1], step[2], 3, padding=1, rng=rng, dtype=dtype,
                                 input_grad=bool(layers)))
        elif kind == "bn":
            layers.append(BatchNorm2d(step[1], dtype=dtype))
        elif kind == "linear":
            layers.append(Linear(step[1], step[2], rng=rng, dtype=dtype))
        else:
            layers.append({"relu": ReLU, "pool": lambda: MaxPool2d(2), "flatten": Flatten}[kind]())
    return Sequential(*layers)


def _augment(xb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random pad-4 crop and horizontal flip of a (B, 3, 32, 32) batch."""
    from dlbook.data.augment import random_crop, random_hflip

    return random_hflip(random_crop(xb, CROP_PADDING, rng), rng)


def _accuracy(model, X: np.ndarray, y: np.ndarray, prepare) -> float:
    """Fraction of correct predictions of a torch model, in evaluation mode."""
    import torch

    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(X), EVAL_BATCH):
            logits = model(prepare(X[start:start + EVAL_BATCH]))
            correct += int((logits.argmax(1).cpu().numpy() == y[start:start + EVAL_BATCH]).sum())
    return correct / len(X)


def train_cifar_torch(epochs: int = 20, batch_size: int = 128, lr: float = 1e-3, device=None,
                      root=None, augment: bool = True, seed: int = 0, *, width: int = 32,
                      batch_norm: bool = True, weight_decay: float = 5e-4, download: bool = True,
                      verbose: bool = True, loader_options: dict | None = None
                      ) -> dict[str, list[float]]:
    """Train the PyTorch twin of :func:`cifar_net` on the full CIFAR-10 training set; test after every epoch.

    Shapes: data from :func:`dlbook.data.load_cifar10` (50,000 + 10,000 images
    (N, 3, 32, 32)), standardised per channel with training-set statistics.
    Adam (with L2 ``weight_decay``) and a cosine learning-rate decay to 0 over
    all steps; batches augmented by random crops and flips when ``augment``.
    The network starts from ``cifar_net(rng=seed)``'s He-initialised float32
    weights. ``device`` defaults to :func:`dlbook.twins.default_device` (CUDA, MPS, CPU).
    ``loader_options`` go to ``load_cifar10`` (tests pass fixture checksums).
    Returns ``{"train_loss": [...], "train_acc": [...], "test_acc": [...]}``, one
    entry per epoch (train loss and accuracy are running means over the epoch's
    augmented batches). Prints one line per epoch when ``verbose``.
    """
    import torch

    from dlbook.data import load_cifar10
    from dlbook.twins import default_device, to_torch

    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"train_cifar_torch expected {name} to be a positive int; "
                             f"got {value!r}")
    options = {"root": root, "download": download, **(loader_options or {})}
    X_train, y_train = load_cifar10("train", **options)
    X_test, y_test = load_cifar10("test", **options)
    device = torch.device(device) if device is not None else default_device()
    mean = torch.as_tensor(X_train.mean(axis=(0, 2, 3)), device=device).view(1, -1, 1, 1)
    std = torch.as_tensor(X_train.std(axis=(0, 2, 3)), device=device).view(1, -1, 1, 1)

    def prepare(xb: np.ndarray):
        return (torch.as_tensor(np.ascontiguousarray(xb), device=device) - mean) / std

    rng = np.random.default_rng(seed)
    model = to_torch(cifar_net(rng=seed, width=width, batch_norm=batch_norm), device=device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * -(-len(X_train) // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    loss_fn = torch.nn.CrossEntropyLoss()
    history: dict[str, list[float]] = {"train_loss": [], "train_acc": [], "test_acc": []}
    for epoch in range(epochs):
        model.train()
        total, correct = 0.0, 0
        order = rng.permutation(len(X_train))
        for start in range(0, len(X_train), batch_size):
            idx = order[start:start + batch_size]
            xb = _augment(X_train[idx], rng) if augment else X_train[idx]
            yb = torch.as_tensor(y_train[idx], device=device)
            logits = model(prepare(xb))
            loss = loss_fn(logits, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
        history["train_loss"].append(total / len(X_train))
        history["train_acc"].append(correct / len(X_train))
        history["test_acc"].append(_accuracy(model, X_test, y_test, prepare))
        if verbose:
            print(f"epoch {epoch + 1:2d}/{epochs}: train loss {history['train_loss'][-1]:.4f}, "
                  f"train acc {history['train_acc'][-1]:.4f}, "
                  f"test acc {history['test_acc'][-1]:.4f}")
    return history
