"""PyTorch twins of the package's math, for the cross-check cells and parity tests.

This is the only module that imports torch, and only :mod:`dlbook` code that
asks for a cross-check imports this module. Arrays cross as float64 by default,
so a disagreement is a real bug and not float32 rounding.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as TF

from dlbook.utils import default_device


def to_torch(x: np.ndarray, device=None, dtype=torch.float64, requires_grad: bool = False):
    """numpy array -> torch tensor on ``device`` (default: :func:`dlbook.utils.default_device`)."""
    device = default_device() if device is None else device
    if device is not None and torch.device(device).type == "mps" and dtype == torch.float64:
        dtype = torch.float32  # MPS has no float64
    t = torch.as_tensor(np.asarray(x), dtype=dtype, device=device)
    return t.requires_grad_(requires_grad)


def to_numpy(t) -> np.ndarray:
    """torch tensor (any device, with or without grad) -> numpy array."""
    return t.detach().cpu().numpy()


def value_and_grad(fn: Callable, inputs: Sequence[np.ndarray], device=None,
                   dout: np.ndarray | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
    """Evaluate a torch function and its gradient with respect to every input.

    ``fn`` takes tensors and returns a tensor y; the gradient is of
    sum(y * dout) (``dout`` defaults to ones), i.e. the vector-Jacobian product.
    Returns (y as numpy, [dy/dinput_i as numpy]).
    """
    ts = [to_torch(x, device, requires_grad=True) for x in inputs]
    y = fn(*ts)
    weight = torch.ones_like(y) if dout is None else to_torch(dout, y.device, y.dtype)
    grads = torch.autograd.grad((y * weight).sum(), ts)
    return to_numpy(y), [to_numpy(g) for g in grads]


def hinge_loss(scores, targets):
    """mean(max(0, 1 - y s)): the same expression as :func:`dlbook.functional.hinge_loss`."""
    return torch.clamp(1 - targets * scores, min=0).mean()


REFERENCE = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "softplus": TF.softplus,
    "softmax": lambda x: TF.softmax(x, dim=-1),
    "log_softmax": lambda x: TF.log_softmax(x, dim=-1),
    "logsumexp": lambda x: torch.logsumexp(x, dim=-1),
    "cross_entropy": lambda z, y: TF.cross_entropy(z, y.long()),
    "binary_cross_entropy_with_logits": TF.binary_cross_entropy_with_logits,
    "binary_cross_entropy": TF.binary_cross_entropy,
    "logistic_loss": TF.soft_margin_loss,
    "hinge_loss": hinge_loss,
    "mse_loss": TF.mse_loss,
}
"""dlbook.functional name -> the PyTorch function computing the same thing."""
