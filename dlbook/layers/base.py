"""The layer protocol shared by every layer of the book (chapter 5).

A layer owns two dicts with the same keys: ``params`` (the arrays it learns)
and ``grads`` (arrays of the same shapes, allocated once). ``forward(x)``
computes the output and caches what the backward pass needs;
``backward(dout)`` returns dL/dx and *adds* dL/dparam into ``grads``, so
gradients from several backward calls accumulate until ``zero_grad()``.
Optimizers (chapter 7) hold references to the arrays from ``parameters()``
and update them in place, so a parameter array is never rebound.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from dlbook._checks import as_float_array


class Layer:
    """Base class: holds ``params``/``grads`` and the ``training`` flag.

    Subclasses implement ``forward`` and ``backward`` and register their
    parameters with :meth:`add_param`. Layers without parameters keep the
    empty dicts. Shapes: defined by each subclass.
    """

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training: bool = True

    def add_param(self, name: str, value: np.ndarray) -> np.ndarray:
        """Register a parameter and allocate its zero gradient; returns the parameter."""
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)
        return value

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def parameters(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(param, grad)`` pairs: the layer's own arrays, for in-place updates."""
        for name, param in self.params.items():
            yield param, self.grads[name]

    def zero_grad(self) -> None:
        """Reset every gradient to 0 in place (the arrays themselves are kept)."""
        for grad in self.grads.values():
            grad.fill(0)

    def train(self, mode: bool = True) -> "Layer":
        """Switch to training mode (``mode=False``: evaluation mode); returns self."""
        self.training = bool(mode)
        return self

    def eval(self) -> "Layer":
        """Switch to evaluation mode (dropout off, BatchNorm uses running stats); returns self."""
        return self.train(False)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}={v.shape}" for k, v in self.params.items())
        return f"{type(self).__name__}({shapes})"

    # helpers for subclasses ------------------------------------------------

    def _cached(self, value):
        """Return a value saved by forward, or explain that forward has not run."""
        if value is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return value

    def _check_dout(self, dout, shape: tuple[int, ...]) -> np.ndarray:
        """Validate that the upstream gradient has the shape of the forward output."""
        dout = as_float_array(dout, f"{type(self).__name__}.backward", "dout")
        if dout.shape != shape:
            raise ValueError(f"{type(self).__name__}.backward expected dout of shape {shape} "
                             f"(the shape of the forward output); got shape {dout.shape}")
        return dout
