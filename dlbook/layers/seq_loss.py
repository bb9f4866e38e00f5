"""Cross-entropy over every position of a batch of sequences, with padding ignored (chapters 14-15).

A sequence model emits one score vector per time step; the loss is the mean
over the counted positions of -log softmax(z_{n,t})[y_{n,t}]. Positions whose
target equals ``ignore_index`` (padding) add nothing to the loss, are left
out of the count M that the mean divides by, and get exactly zero gradient:

    L = -(1/M) sum_{(n,t) counted} log softmax(z_{n,t})[y_{n,t}],
    dL/dz_{n,t} = (softmax(z_{n,t}) - onehot(y_{n,t})) / M  (0 where ignored).
"""

from __future__ import annotations

import numpy as np

from dlbook import functional as F
from dlbook._checks import as_float_array, as_label_array
from dlbook.layers.base import Layer
from dlbook.layers.loss import _scalar_dout


class SequenceCrossEntropyLoss(Layer):
    """Mean cross-entropy over the non-ignored positions of (N, T) targets (chapters 14-15).

    Shapes: logits (N, T, V) raw scores, targets (N, T) integer labels in
    [0, V) (or ``ignore_index``) -> float; backward -> dlogits (N, T, V).
    ``ignore_index=None`` counts every position. When every position is
    ignored the loss is nan and the gradient 0, as in PyTorch.
    PyTorch: ``torch.nn.CrossEntropyLoss(ignore_index=...)`` on
    ``logits.reshape(-1, V)`` and ``targets.reshape(-1)``.
    """

    def __init__(self, ignore_index: int | None = None) -> None:
        super().__init__()
        if ignore_index is not None and (isinstance(ignore_index, bool)
                                         or not isinstance(ignore_index, (int, np.integer))):
            raise TypeError(f"SequenceCrossEntropyLoss expected ignore_index to be an int or "
                            f"None; got {type(ignore_index).__name__}")
        self.ignore_index = None if ignore_index is None else int(ignore_index)
        self._cache = None

    def forward(self, logits: np.ndarray, targets: np.ndarray) -> float:
        """L = mean over counted positions of -log softmax(z)[y]. (N, T, V), (N, T) -> float."""
        where = "SequenceCrossEntropyLoss"
        z = as_float_array(logits, where, "logits")
        y = as_label_array(targets, where)
        if z.ndim != 3:
            raise ValueError(f"{where} expected logits of shape (N, T, V); got shape {z.shape}")
        if z.shape[0] == 0 or z.shape[1] == 0:
            raise ValueError(f"{where} expected a non-empty batch of logits (N, T, V) with N, T >= 1; "
                             f"got shape {z.shape}")
        if y.shape != z.shape[:2]:
            raise ValueError(f"{where} expected targets of shape {z.shape[:2]} (the first two "
                             f"axes of logits); got shape {y.shape}")
        counted = np.ones(y.shape, bool) if self.ignore_index is None else y != self.ignore_index
        labels = y[counted]
        V = z.shape[2]
        if labels.size and (labels.min() < 0 or labels.max() >= V):
            raise ValueError(f"{where} expected labels in [0, {V}) outside ignore_index="
                             f"{self.ignore_index}; got min {labels.min()}, max {labels.max()}")
        log_p = F.log_softmax(z, axis=2)  # (N, T, V)
        M = int(counted.sum())
        self._cache = (log_p, np.where(counted, y, 0), counted, M)
        if M == 0:
            return float("nan")  # 0 / 0, as torch reports it
        picked = np.take_along_axis(log_p, np.where(counted, y, 0)[..., None], axis=2)[..., 0]
        return float(-picked[counted].sum() / M)

    def backward(self, dout: float = 1.0) -> np.ndarray:
        """dL/dz = dout (softmax - onehot) / M, exactly 0 at ignored positions. -> (N, T, V)."""
        log_p, y, counted, M = self._cached(self._cache)
        scale = _scalar_dout(dout, "SequenceCrossEntropyLoss")
        dz = np.exp(log_p)
        idx = y[..., None]  # (N, T, 1): the target's column of each position
        np.put_along_axis(dz, idx, np.take_along_axis(dz, idx, axis=2) - 1.0, axis=2)  # p - onehot
        dz *= counted[..., None]  # exactly 0 at the ignored positions
        dz *= scale / max(M, 1)
        return dz

    def __repr__(self) -> str:
        return f"SequenceCrossEntropyLoss(ignore_index={self.ignore_index})"
