"""Training the convolutional autoencoder in PyTorch (chapter 19).

:func:`dlbook.models.autoencoder.conv_autoencoder` builds the numpy network and
``dlbook.twins.to_torch`` its torch twin; this loop trains that twin with Adam
on the mean squared reconstruction error. It imports torch.
"""

from __future__ import annotations

import numpy as np

from dlbook.models.autoencoder import DIGIT_SHAPE
from dlbook.torch_models.loop import check_epochs_and_batch_size, fit_arrays_torch, model_tensor


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

    check_epochs_and_batch_size(epochs, batch_size, "train_autoencoder_torch")
    for name, X in (("X_train", X_train), ("X_val", X_val)):
        if X is not None and (np.ndim(X) != 4 or np.shape(X)[1:] != DIGIT_SHAPE):
            raise ValueError(f"train_autoencoder_torch expected {name} of shape (N, 1, 28, 28); "
                             f"got shape {np.shape(X)}")

    def mse(model, x) -> "torch.Tensor":
        x = model_tensor(model, np.asarray(x, dtype=np.float32))
        return torch.mean((model(x) - x) ** 2)

    return fit_arrays_torch(model, X_train, X_val, lambda m, xb, rng: mse(m, xb), mse,
                            epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device=device)
