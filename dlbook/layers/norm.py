"""Normalisation layers: BatchNorm1d and LayerNorm (chapter 8).

Both standardise, x_hat = (x - mean) / sqrt(var + eps), then scale and shift,
y = gamma * x_hat + beta. They differ only in the axis of the statistics:

* **BatchNorm1d** normalises each *feature* over the batch (axis 0), so an
  example's output depends on the other examples in its batch; at test time it
  uses running averages collected during training instead.
* **LayerNorm** normalises each *example* over its features (the last axis),
  identically in training and evaluation.

Backward through the graph x -> (mean, var) -> x_hat, with every mean taken
along the axis of the statistics, collapses to

    dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / sqrt(var + eps)

where dx_hat = dout * gamma: the first term is the direct path, the second the
path through the mean, the third the path through the variance.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import as_float_array, check_positive_int
from dlbook.layers.base import Layer

DEFAULT_EPS = 1e-5
"""Added to the variance before the square root, as in PyTorch, so x_hat stays finite."""


def _standardise(x: np.ndarray, axis: int, eps: float):
    """x_hat = (x - mean) / sqrt(var + eps) along ``axis`` (biased variance); returns x_hat,
    1 / sqrt(var + eps), mean and var (the statistics keep their axis, size 1)."""
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True)  # biased (divides by n), as torch normalises
    inv_std = 1.0 / np.sqrt(var + eps)
    return (x - mean) * inv_std, inv_std, mean, var


def _standardise_backward(dxhat: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray,
                          axis: int) -> np.ndarray:
    """dx for x_hat = _standardise(x): the compact formula in the module docstring."""
    mean_dxhat = dxhat.mean(axis=axis, keepdims=True)
    mean_dxhat_xhat = (dxhat * xhat).mean(axis=axis, keepdims=True)
    return inv_std * (dxhat - mean_dxhat - xhat * mean_dxhat_xhat)


def _check_real(value, where: str, name: str, ok, expected: str) -> float:
    """Return ``value`` as a float if it is a real number satisfying ``ok``, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where} expected {name} to be a float; got {type(value).__name__}")
    if not ok(value):
        raise ValueError(f"{where} expected {name} {expected}; got {value!r}")
    return float(value)


class _AffineNorm(Layer):
    """Shared part of the normalisation layers: the optional y = gamma * x_hat + beta."""

    def _init_affine(self, size: int, affine: bool, dtype) -> None:
        self.affine = bool(affine)
        if self.affine:
            self.add_param("gamma", np.ones(size, dtype=dtype))
            self.add_param("beta", np.zeros(size, dtype=dtype))
        self._cache = None

    def _scale_shift(self, xhat: np.ndarray) -> np.ndarray:
        return xhat * self.params["gamma"] + self.params["beta"] if self.affine else xhat

    def _scale_shift_backward(self, dout: np.ndarray, xhat: np.ndarray) -> np.ndarray:
        """Accumulate dgamma, dbeta (summed over all but the last axis); return dx_hat."""
        if not self.affine:
            return dout
        batch_axes = tuple(range(dout.ndim - 1))
        self.grads["gamma"] += (dout * xhat).sum(axis=batch_axes)
        self.grads["beta"] += dout.sum(axis=batch_axes)
        return dout * self.params["gamma"]


class BatchNorm1d(_AffineNorm):
    """y = gamma * (x - mu_B) / sqrt(var_B + eps) + beta, statistics per feature over the batch.

    Shapes: x (N, D) -> y (N, D); ``gamma``, ``beta``, ``running_mean``, ``running_var`` (D,).
    Training: mu_B and the *biased* var_B of the batch normalise x, and the
    running averages move by ``momentum`` towards mu_B and the *unbiased*
    variance var_B * N / (N - 1), exactly as ``torch.nn.BatchNorm1d`` does.
    Evaluation: the running averages replace the batch statistics.
    """

    def __init__(self, num_features: int, eps: float = DEFAULT_EPS, momentum: float = 0.1,
                 affine: bool = True, dtype=np.float32):
        super().__init__()
        self.num_features = check_positive_int(num_features, "BatchNorm1d", "num_features")
        self.eps = _check_real(eps, "BatchNorm1d", "eps", lambda v: v > 0, "> 0")
        self.momentum = _check_real(momentum, "BatchNorm1d", "momentum",
                                    lambda v: 0 <= v <= 1, "in [0, 1]")
        self.add_buffer("running_mean", np.zeros(self.num_features, dtype=dtype))
        self.add_buffer("running_var", np.ones(self.num_features, dtype=dtype))
        self._init_affine(self.num_features, affine, dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "BatchNorm1d.forward")
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d.forward expected x of shape (N, {self.num_features}); "
                             f"got shape {x.shape}")
        if self.training:
            n = x.shape[0]
            if n < 2:
                raise ValueError(f"BatchNorm1d in training mode expected a batch of at least 2 "
                                 f"examples (one example has no variance); got shape {x.shape}")
            xhat, inv_std, mean, var = _standardise(x, axis=0, eps=self.eps)
            m = self.momentum
            self.running_mean[...] = (1 - m) * self.running_mean + m * mean[0]
            self.running_var[...] = (1 - m) * self.running_var + m * var[0] * n / (n - 1)
        else:  # the running statistics are constants: no path through mean or var
            inv_std = 1.0 / np.sqrt(self.running_var + self.eps)
            xhat = (x - self.running_mean) * inv_std
        self._cache = (xhat, inv_std, self.training)
        return self._scale_shift(xhat)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        xhat, inv_std, used_batch_stats = self._cached(self._cache)
        dxhat = self._scale_shift_backward(self._check_dout(dout, xhat.shape), xhat)
        if used_batch_stats:
            return _standardise_backward(dxhat, xhat, inv_std, axis=0)
        return dxhat * inv_std

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.num_features}, eps={self.eps}, "
                f"momentum={self.momentum}, affine={self.affine})")


class BatchNorm2d(BatchNorm1d):
    """Batch normalisation of each channel over the batch and all positions (chapters 8 and 10).

    Shapes: x (N, C, H, W) -> y (N, C, H, W); ``gamma``, ``beta``, ``running_mean``,
    ``running_var`` (C,). It is :class:`BatchNorm1d` applied to the (N H W, C)
    matrix of per-position channel vectors, so every channel is standardised
    over N H W numbers, exactly as ``torch.nn.BatchNorm2d``.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Standardise every channel. (N, C, H, W) -> (N, C, H, W)."""
        x = as_float_array(x, "BatchNorm2d.forward")
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d.forward expected x of shape (N, "
                             f"{self.num_features}, H, W); got shape {x.shape}")
        N, C, H, W = x.shape
        rows = x.transpose(0, 2, 3, 1).reshape(-1, C)  # (N H W, C): one row per position
        return super().forward(rows).reshape(N, H, W, C).transpose(0, 3, 1, 2)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dx through the same reshapes. (N, C, H, W) -> (N, C, H, W)."""
        xhat = self._cached(self._cache)[0]
        dout = as_float_array(dout, "BatchNorm2d.backward", "dout")
        C = self.num_features
        if dout.ndim != 4 or dout.shape[1] != C or dout[:, 0].size != xhat.shape[0]:
            raise ValueError(f"BatchNorm2d.backward expected dout of the forward output's "
                             f"shape (N, {C}, H, W) with N H W = {xhat.shape[0]}; "
                             f"got shape {dout.shape}")
        N, _, H, W = dout.shape
        drows = super().backward(dout.transpose(0, 2, 3, 1).reshape(-1, C))
        return np.ascontiguousarray(drows.reshape(N, H, W, C).transpose(0, 3, 1, 2))


class LayerNorm(_AffineNorm):
    """y = gamma * (x - mu) / sqrt(var + eps) + beta, statistics per example over the last axis.

    Shapes: x (N, D) or (..., D) -> y of the same shape; ``gamma``, ``beta`` (D,).
    The same computation in training and evaluation (no running statistics);
    ``normalized_shape`` is the int D, the size of the last axis.
    """

    def __init__(self, normalized_shape: int, eps: float = DEFAULT_EPS,
                 elementwise_affine: bool = True, dtype=np.float32):
        super().__init__()
        self.normalized_shape = check_positive_int(normalized_shape, "LayerNorm",
                                                   "normalized_shape")
        self.eps = _check_real(eps, "LayerNorm", "eps", lambda v: v > 0, "> 0")
        self._init_affine(self.normalized_shape, elementwise_affine, dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x, d = as_float_array(x, "LayerNorm.forward"), self.normalized_shape
        if x.ndim == 0 or x.shape[-1] != d:
            raise ValueError(f"LayerNorm.forward expected x of shape (..., {d}); "
                             f"got shape {x.shape}")
        xhat, inv_std, _, _ = _standardise(x, axis=-1, eps=self.eps)
        self._cache = (xhat, inv_std)
        return self._scale_shift(xhat)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        xhat, inv_std = self._cached(self._cache)
        dxhat = self._scale_shift_backward(self._check_dout(dout, xhat.shape), xhat)
        return _standardise_backward(dxhat, xhat, inv_std, axis=-1)

    def __repr__(self) -> str:
        return (f"LayerNorm({self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.affine})")
