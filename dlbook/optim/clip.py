"""Gradient clipping by the global L2 norm (chapter 14; introduced with the optimizers, chapter 7).

When an RNN's gradient explodes, one huge step can undo all training.
Clipping rescales *all* gradients together, by one factor, so the update
keeps its direction and only its length is capped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from dlbook.optim.optimizer import check_hyper

CLIP_EPS = 1e-6
"""Added to the norm in max_norm / (norm + eps), as torch.nn.utils.clip_grad_norm_ does."""


def _collect_grads(grads: Any) -> list[np.ndarray]:
    """Gradient arrays from an array, an iterable of arrays or of (param, grad) pairs, or a dict."""
    if isinstance(grads, np.ndarray):
        return [grads]
    if isinstance(grads, Mapping):  # a layer's grads dict
        grads = grads.values()
    try:
        items = list(grads)
    except TypeError:
        raise TypeError(f"clip_grad_norm_ expected gradient arrays or (param, grad) pairs; "
                        f"got {type(grads).__name__}") from None
    arrays = []
    for i, item in enumerate(items):
        if isinstance(item, (tuple, list)) and len(item) == 2:
            item = item[1]  # a (param, grad) pair: clip the grad
        if not isinstance(item, np.ndarray) or not np.issubdtype(item.dtype, np.floating):
            what = item.dtype if isinstance(item, np.ndarray) else type(item).__name__
            raise TypeError(f"clip_grad_norm_ expected item {i} to be a float numpy array or a "
                            f"(param, grad) pair; got {what}")
        arrays.append(item)
    return arrays


def clip_grad_norm_(grads: Any, max_norm: float) -> float:
    """g <- g * min(1, max_norm / (||g|| + eps)) for every g, with ||g|| the norm of all of them.

    Shapes: any number of gradient arrays of any shapes; they are modified in
    place and the total norm *before* clipping is returned (a float).

    ``grads`` may be one array, an iterable of arrays, an iterable of
    (param, grad) pairs (``layer.parameters()``) or a dict of gradients
    (``layer.grads``). The global norm is sqrt(sum of every squared entry),
    computed as the L2 norm of the per-array norms, like
    ``torch.nn.utils.clip_grad_norm_``, whose result this matches (including
    the ``eps`` = 1e-6 in the denominator, so the clipped norm is a hair under
    ``max_norm``). Gradients with ``norm + eps <= max_norm`` are left
    unchanged.
    """
    arrays = _collect_grads(grads)
    max_norm = check_hyper(max_norm, "clip_grad_norm_", "max_norm")
    if not arrays:
        return 0.0
    norms = [np.linalg.norm(g.ravel()) for g in arrays]  # one L2 norm per array
    total = float(np.linalg.norm(np.array(norms, dtype=np.result_type(*arrays))))
    coef = max_norm / (total + CLIP_EPS)
    if not coef >= 1.0:  # also true for a NaN norm: then, as in torch, the grads become NaN
        for g in arrays:
            g *= coef
    return total
