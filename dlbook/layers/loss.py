"""Loss layers: a scalar loss in forward, dL/dinput in backward (chapter 5).

Losses follow the layer protocol with two inputs: ``forward(logits, targets)``
returns a Python float and ``backward(dout=1.0)`` returns the gradient with
respect to the first input, scaled by ``dout`` (the gradient of whatever
was computed from the loss; 1 when the loss is the final objective).
"""

from __future__ import annotations

import numpy as np

from dlbook import functional as F
from dlbook.functional.losses import _logits_and_labels, _scores_and_targets
from dlbook.layers.base import Layer


def _scalar_dout(dout, where: str) -> float:
    """The upstream gradient of a scalar loss must itself be a scalar."""
    if np.ndim(dout) != 0:
        raise ValueError(f"{where}.backward expected a scalar dout; got shape {np.shape(dout)}")
    return float(dout)


class CrossEntropyLoss(Layer):
    """L = -(1/N) sum_n log softmax(z_n)[y_n]; dL/dz = (softmax(z) - onehot(y)) / N.

    Shapes: logits (N, C), targets (N,) integer labels in [0, C) -> scalar.
    The softmax is built in, as in PyTorch: feed raw scores, not probabilities.
    Chapter 3 derives the gradient; chapter 5 uses it to start backprop.
    """

    def __init__(self) -> None:
        super().__init__()
        self._probs, self._targets = None, None

    def forward(self, logits: np.ndarray, targets: np.ndarray) -> float:
        z, y = _logits_and_labels(logits, targets, "CrossEntropyLoss")
        log_p = F.log_softmax(z, axis=1)
        self._probs, self._targets = np.exp(log_p), y
        return float(-np.mean(log_p[np.arange(len(y)), y]))

    def backward(self, dout: float = 1.0) -> np.ndarray:
        p, y = self._cached(self._probs), self._targets
        dz = p.copy()
        dz[np.arange(len(y)), y] -= 1.0  # p - onehot(y)
        return dz * (_scalar_dout(dout, "CrossEntropyLoss") / len(y))


class MSELoss(Layer):
    """L = mean((x - t)^2) over every element; dL/dx = 2 (x - t) / numel.

    Shapes: input (...), target (...) of the same shape -> scalar.
    """

    def __init__(self) -> None:
        super().__init__()
        self._diff = None

    def forward(self, input: np.ndarray, target: np.ndarray) -> float:
        x, t = _scores_and_targets(input, target, "MSELoss")
        self._diff = x - t
        return float(np.mean(self._diff ** 2))

    def backward(self, dout: float = 1.0) -> np.ndarray:
        diff = self._cached(self._diff)
        return diff * (2.0 * _scalar_dout(dout, "MSELoss") / diff.size)
