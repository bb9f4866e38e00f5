"""Training the PyTorch twin of a chapter 10 CIFAR-10 network on all of CIFAR-10 (chapter 10).

Fifty thousand 32x32 colour images are too many for numpy on a CPU, so this
loop runs the network's torch twin (on a GPU when present), with random pad-4
crops and horizontal flips from :mod:`dlbook.data.augment`. The network is
:func:`dlbook.models.cifar.cifar_net` (``arch="vgg"``) or the ResNet-20 of
:func:`dlbook.models.cifar.resnet_cifar` (``arch="resnet20"``). It imports torch.
"""

from __future__ import annotations

import numpy as np

from dlbook.models.cifar import cifar_net, resnet_cifar

CROP_PADDING = 4
"""Random crops pad by 4 pixels on each side (the standard CIFAR-10 augmentation)."""
EVAL_BATCH = 1000
"""Batch size for test-set evaluation (no gradients kept)."""
ARCHITECTURES = ("vgg", "resnet20")
"""The networks ``train_cifar_torch`` can train: cifar_net, or resnet_cifar(num_blocks=3)."""


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
                      verbose: bool = True, loader_options: dict | None = None,
                      arch: str = "vgg") -> dict[str, list[float]]:
    """Train the PyTorch twin of :func:`cifar_net` (or ResNet-20) on the full CIFAR-10 training set; test after every epoch.

    Shapes: data from :func:`dlbook.data.load_cifar10` (50,000 + 10,000 images
    (N, 3, 32, 32)), standardised per channel with training-set statistics.
    Adam (with L2 ``weight_decay``) and a cosine learning-rate decay to 0 over
    all steps; batches augmented by random crops and flips when ``augment``.
    The network starts from ``cifar_net(rng=seed)``'s He-initialised float32
    weights (``arch="vgg"``; ``width`` and ``batch_norm`` apply to it), or from
    ``resnet_cifar(3, rng=seed)``'s (``arch="resnet20"``, always with BatchNorm). ``device`` defaults to :func:`dlbook.twins.default_device` (CUDA, MPS, CPU).
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
    if arch not in ARCHITECTURES:
        raise ValueError(f"train_cifar_torch expected arch in {ARCHITECTURES}; got {arch!r}")
    options = {"root": root, "download": download, **(loader_options or {})}
    X_train, y_train = load_cifar10("train", **options)
    X_test, y_test = load_cifar10("test", **options)
    device = torch.device(device) if device is not None else default_device()
    mean = torch.as_tensor(X_train.mean(axis=(0, 2, 3)), device=device).view(1, -1, 1, 1)
    std = torch.as_tensor(X_train.std(axis=(0, 2, 3)), device=device).view(1, -1, 1, 1)

    def prepare(xb: np.ndarray):
        return (torch.as_tensor(np.ascontiguousarray(xb), device=device) - mean) / std

    rng = np.random.default_rng(seed)
    net = (cifar_net(rng=seed, width=width, batch_norm=batch_norm) if arch == "vgg"
           else resnet_cifar(3, rng=seed))
    model = to_torch(net, device=device)
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
