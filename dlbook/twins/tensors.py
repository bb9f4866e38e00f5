"""Arrays across the numpy/PyTorch border, the device every cross-check runs on, and torch references.

The helpers the cross-check cells and parity tests share (chapters 1-19):
:func:`as_tensor` and :func:`to_numpy` move arrays across (float64 by
default, so a disagreement is a real bug and not float32 rounding),
:func:`value_and_grad` evaluates a torch function and its vector-Jacobian
product, and :func:`default_device` picks CUDA, then Apple MPS, then the CPU.
``REFERENCE`` names the torch function that computes each
:mod:`dlbook.functional` function. Whole layers and models cross with
:func:`dlbook.twins.to_torch`.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as TF


def default_device() -> torch.device:
    """The best available ``torch.device``: CUDA, then Apple MPS, then CPU (chapter 3).

    Shapes: none. Every cross-check and every PyTorch training function of
    the package defaults to it.
    """
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def available_devices() -> list[str]:
    """Names of every device a cross-check can run on, CPU first (chapter 3). Shapes: none."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices


def supported_dtype(device, dtype: torch.dtype) -> torch.dtype:
    """``dtype``, or float32 where ``device`` has no float64 (Apple MPS). Shapes: none."""
    if torch.device(device).type == "mps" and dtype == torch.float64:
        return torch.float32
    return dtype


def as_tensor(x, device=None, dtype: torch.dtype = torch.float64, requires_grad: bool = False):
    """numpy array -> torch tensor on ``device`` (default: :func:`default_device`).

    Shapes: any, unchanged. ``dtype`` float64 unless given (float32 on MPS);
    pass ``torch.long`` for class labels and token ids. Chapter 1 uses it first.
    """
    device = default_device() if device is None else device
    t = torch.as_tensor(np.asarray(x), dtype=supported_dtype(device, dtype), device=device)
    return t.requires_grad_(requires_grad)


def to_numpy(t) -> np.ndarray:
    """torch tensor (any device, with or without grad) -> numpy array. Shapes: unchanged."""
    return t.detach().cpu().numpy()


def value_and_grad(fn: Callable, inputs: Sequence[np.ndarray], device=None,
                   dout: np.ndarray | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
    """Evaluate a torch function and its gradient with respect to every input (chapter 9).

    Shapes: ``fn`` maps tensors shaped like ``inputs`` to y; the gradient is
    that of sum(y * dout) (``dout`` shaped like y, default ones), i.e. the
    vector-Jacobian product. Returns (y as numpy, [dL/dinput_i as numpy]).
    """
    ts = [as_tensor(x, device, requires_grad=True) for x in inputs]
    y = fn(*ts)
    weight = torch.ones_like(y) if dout is None else as_tensor(dout, y.device, y.dtype)
    grads = torch.autograd.grad((y * weight).sum(), ts)
    return to_numpy(y), [to_numpy(g) for g in grads]


def hinge_loss(scores, targets):
    """mean(max(0, 1 - y s)): :func:`dlbook.functional.hinge_loss` in torch (chapter 2).

    Shapes: scores (N,), targets (N,) in {-1, +1} -> scalar tensor.
    """
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
