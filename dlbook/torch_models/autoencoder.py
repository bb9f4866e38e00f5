"""Training the convolutional autoencoder in PyTorch (chapter 19).

:func:`dlbook.models.autoencoder.conv_autoencoder` builds the numpy network and
``dlbook.twins.to_torch`` its torch twin; this loop trains that twin with Adam
on the mean squared reconstruction error. It imports torch.
"""

from __future__ import annotations

import numpy as np

from dlbook.models.autoencoder import DIGIT_SHAPE


def train_autoencoder_torch(model, X_train: np.ndarray, X_val: np.ndarray | None = None,
                            epochs: int = 5, batch_size: int = 32, lr: float = 3e-3,
                            seed: int = 0, device=None) -> dict[str, list[float]]:
    """Minimise the mean squared reconstruction error with Adam; returns per-epoch losses.

    Shapes: X_train (N, 1, 28, 28), X_val (M, 1, 28, 28) or None, float in [0, 1].
    Mini-batches are drawn from ``numpy.random.default_rng(seed)``; ``device``
    defaults to :func:`dlbook.twins.default_device`, and the model is moved
    there. Returns ``{"train_loss": [...], "val_loss": [...]}``, the mean MSE per
    pixel over each epoch's batches and over X_val after each epoch (empty without X_val).
    Chapter 19 trains the autoencoder with it.
    """
    import torch

    from dlbook.twins import default_device

    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"train_autoencoder_torch expected {name} to be a positive int; "
                             f"got {value!r}")
    for name, X in (("X_train", X_train), ("X_val", X_val)):
        if X is not None and (np.ndim(X) != 4 or np.shape(X)[1:] != DIGIT_SHAPE):
            raise ValueError(f"train_autoencoder_torch expected {name} of shape (N, 1, 28, 28); "
                             f"got shape {np.shape(X)}")
    device = torch.device(device) if device is not None else default_device()
    model.to(device)
    rng = np.random.default_rng(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    as_tensor = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float32), device=device)
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": []}
    for _ in range(epochs):
        model.train()
        order, total = rng.permutation(len(X_train)), 0.0
        for start in range(0, len(X_train), batch_size):
            xb = as_tensor(X_train[order[start:start + batch_size]])
            loss = torch.mean((model(xb) - xb) ** 2)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        history["train_loss"].append(total / len(X_train))
        if X_val is not None:
            model.eval()
            with torch.no_grad():
                xv = as_tensor(X_val)
                history["val_loss"].append(torch.mean((model(xv) - xv) ** 2).item())
    return history
