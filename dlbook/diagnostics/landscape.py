"""The loss around trained weights: filter-normalised random directions and 1-D / 2-D slices (chapter 10).

A network has far too many parameters to draw its loss, but the loss along a line
or over a plane through the trained weights theta is easy to evaluate:

.. math:: f(a, b) = L(\\theta + a\\,d_1 + b\\,d_2) .

Which directions? A Gaussian direction of the same size everywhere is misleading
for networks with ReLU and BatchNorm: scaling a filter's weights by 10 and the
next layer's by 1/10 (or, before a BatchNorm, scaling them at all) leaves the
function unchanged, so a step of 1 is a small change for a large filter and a
huge one for a small filter. Li, Xu, Taylor, Studer and Goldstein
("Visualizing the Loss Landscape of Neural Nets", 2018) therefore rescale each
filter of the direction to the norm of the same filter of the weights,

.. math:: d_{i,j} \\leftarrow \\frac{d_{i,j}}{\\lVert d_{i,j} \\rVert}\\,\\lVert \\theta_{i,j} \\rVert ,

where j runs over the output units of layer i: the (C, kh, kw) filter of each
output channel of a convolution, the weights into each output unit of a linear
layer. A step a = 1 then changes every filter by as much as its own size.

Conventions of this module:

* A filter is a slice along the **output-unit axis**: axis 1 (a column) of a
  :class:`~dlbook.layers.linear.Linear` weight ``W`` (D, H), which stores the
  transpose of ``torch.nn.Linear.weight``; axis 0 of every other weight with two
  or more axes (``Conv2d.W`` (F, C, kh, kw), the layout of torch that Li et
  al.'s code slices).
* Biases, BatchNorm scales and shifts and every other parameter with fewer than
  two axes get direction **0**. They have no filters to normalise, and Li et
  al. leave them unperturbed (the ``ignore='biasbn'`` option of their code zeroes
  the direction of every one-dimensional parameter), so the slice moves exactly
  the weights whose scale the normalisation is about.
* Losses are evaluated with the model in **evaluation mode**: BatchNorm uses its
  running statistics (buffers, not parameters, so the directions do not move
  them) and dropout is off. The slice is the loss of the function the trained
  network computes at test time; in training mode each batch would re-normalise
  the perturbed activations and hide part of the perturbation.
* A direction is a dict ``name -> array`` keyed like ``model.named_parameters()``.
  The model's parameters (and buffers) are restored after the evaluation, also
  when the loss raises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from dlbook.layers.base import Layer, eval_mode
from dlbook.layers.linear import Linear
from dlbook.utils import make_rng

__all__ = ["filter_axis", "filter_normalize", "filter_norms", "loss_line", "loss_surface",
           "random_direction"]

LossOf = Callable[[Layer], float]
Direction = Mapping[str, np.ndarray]

NORMALIZATIONS = ("filter", "none")
"""Values of ``random_direction(..., normalization=...)``."""


def _check_model(model, where: str) -> None:
    if not isinstance(model, Layer):
        raise TypeError(f"{where} expected model to be a dlbook Layer; got {type(model).__name__}")


def _weights(model: Layer) -> list[tuple[str, Layer, str, np.ndarray]]:
    """(dotted name, owning layer, key, array) of every parameter, tied ones once, in
    the order of ``named_parameters()``."""
    seen: set[int] = set()
    out = []
    for prefix, layer in model.named_modules():
        for key, array in layer._params.items():
            if id(array) not in seen:
                seen.add(id(array))
                out.append((f"{prefix}.{key}" if prefix else key, layer, key, array))
    return out


def filter_axis(layer: Layer, key: str, param: np.ndarray) -> int | None:
    """The output-unit axis of a parameter, or None for one that gets no direction (chapter 10).

    Shapes: param of any shape. ``Linear.W`` (D, H) -> 1 (its columns); any other
    parameter with ndim >= 2 -> 0; biases, BatchNorm/LayerNorm parameters and
    other 0-D/1-D parameters -> None.
    """
    if np.ndim(param) < 2:
        return None
    return 1 if isinstance(layer, Linear) and key == "W" else 0


def filter_norms(array: np.ndarray, axis: int) -> np.ndarray:
    """The Euclidean norm of every slice ``array.take(j, axis)``: one number per filter (chapter 10).

    Shapes: array (..., K, ...) with K on ``axis`` -> (K,).
    """
    a = np.asarray(array, dtype=np.float64)
    if a.ndim < 2 or not -a.ndim <= axis < a.ndim:
        raise ValueError(f"filter_norms expected an array of 2 or more axes with axis {axis}; "
                         f"got shape {a.shape}")
    moved = np.moveaxis(a, axis, 0).reshape(a.shape[axis], -1)  # (K, rest)
    return np.sqrt(np.sum(moved * moved, axis=1))


def _check_direction(model: Layer, direction, where: str, name: str) -> dict[str, np.ndarray]:
    """Return the direction as float64 arrays after checking names, shapes and values."""
    if not isinstance(direction, Mapping):
        raise TypeError(f"{where} expected {name} to be a dict name -> array (keys of "
                        f"model.named_parameters()); got {type(direction).__name__}")
    weights = {n: p for n, _, _, p in _weights(model)}
    missing, unexpected = sorted(set(weights) - set(direction)), sorted(set(direction) - set(weights))
    if missing or unexpected:
        raise ValueError(f"{where} expected {name} to have the model's parameter names; "
                         f"missing {missing}, unexpected {unexpected}")
    out = {}
    for key, param in weights.items():
        d = np.asarray(direction[key])
        if not (np.issubdtype(d.dtype, np.floating) or np.issubdtype(d.dtype, np.integer)):
            raise TypeError(f"{where} expected {name}[{key!r}] to be a real array; "
                            f"got dtype {d.dtype}")
        if d.shape != param.shape:
            raise ValueError(f"{where} expected {name}[{key!r}] of shape {param.shape} (the "
                             f"parameter's); got shape {d.shape}")
        if not np.all(np.isfinite(d)):
            raise ValueError(f"{where} expected {name}[{key!r}] to be finite; it holds NaN or inf")
        out[key] = d.astype(np.float64)
    return out


def filter_normalize(direction: Direction, model: Layer) -> dict[str, np.ndarray]:
    """d_ij <- d_ij / |d_ij| * |theta_ij| for every filter j of every weight i (Li et al., chapter 10).

    Shapes: direction ``name -> array`` with the shapes of ``model.named_parameters()``
    -> a new dict of float64 arrays of the same shapes. Biases and BatchNorm
    parameters (ndim < 2) become 0; a filter of the direction that is all zero stays 0.
    """
    _check_model(model, "filter_normalize")
    d = _check_direction(model, direction, "filter_normalize", "direction")
    out = {}
    for name, layer, key, param in _weights(model):
        axis = filter_axis(layer, key, param)
        if axis is None:
            out[name] = np.zeros(param.shape)
            continue
        d_norm, w_norm = filter_norms(d[name], axis), filter_norms(param, axis)
        scale = np.divide(w_norm, d_norm, out=np.zeros_like(w_norm), where=d_norm > 0)  # (K,)
        shape = [1] * param.ndim
        shape[axis] = -1
        out[name] = d[name] * scale.reshape(shape)  # every filter times its own factor
    return out


def random_direction(model: Layer, rng: int | np.random.Generator | None = None,
                     normalization: str = "filter") -> dict[str, np.ndarray]:
    """A Gaussian direction in parameter space, filter-normalised by default (chapter 10).

    Shapes: one float64 array per parameter, keyed and shaped like
    ``model.named_parameters()``. Every weight of two or more axes gets N(0, 1)
    entries drawn from ``rng`` in parameter order (every parameter draws, so the
    stream does not depend on which are zeroed); biases and BatchNorm parameters
    get 0. ``normalization="filter"``: then :func:`filter_normalize`;
    ``"none"``: the raw Gaussian entries, the same size for every filter.
    """
    _check_model(model, "random_direction")
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"random_direction expected normalization in {NORMALIZATIONS}; "
                         f"got {normalization!r}")
    rng = make_rng(rng, "random_direction")
    raw = {}
    for name, layer, key, param in _weights(model):
        draw = rng.standard_normal(param.shape)
        raw[name] = draw if filter_axis(layer, key, param) is not None else np.zeros(param.shape)
    return filter_normalize(raw, model) if normalization == "filter" else raw


def _steps(values, where: str, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{where} expected {name} to be a 1-D sequence of numbers; "
                        f"got {type(values).__name__}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{where} expected {name} to be a non-empty 1-D array of steps; "
                         f"got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{where} expected {name} to be finite; got {arr.tolist()}")
    return arr


def _scalar(value, where: str) -> float:
    try:
        if np.ndim(value) != 0:
            raise TypeError
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{where} expected loss(model) to return a real number; got "
                        f"{type(value).__name__} of shape {np.shape(value)}") from None


def _grid(model: Layer, loss: LossOf, directions: list[dict[str, np.ndarray]],
          steps: list[np.ndarray], where: str) -> np.ndarray:
    """Losses at theta + sum_k steps[k][i_k] d_k, an array of shape (len(steps[-1]), ..., len(steps[0]))."""
    if not callable(loss):
        raise TypeError(f"{where} expected loss to be a function model -> float; "
                        f"got {type(loss).__name__}")
    weights = _weights(model)
    saved = model.state_dict()                                   # copies: params and buffers
    theta = {name: p.astype(np.float64) for name, _, _, p in weights}
    shape = tuple(len(s) for s in reversed(steps))               # (B, A): rows follow d2
    out = np.empty(shape)
    try:
        with eval_mode(model):                                   # BatchNorm: running statistics
            for index in np.ndindex(*shape):
                coeffs = [s[i] for s, i in zip(steps, reversed(index))]
                for name, _, _, param in weights:
                    param[...] = theta[name] + sum(c * d[name] for c, d in zip(coeffs, directions))
                out[index] = _scalar(loss(model), where)
    finally:
        model.load_state_dict(saved)                             # the trained weights, even on error
    return out


def loss_line(model: Layer, loss: LossOf, direction: Direction,
              alphas: Sequence[float] | np.ndarray) -> np.ndarray:
    """f(a) = loss(theta + a d) for every a in ``alphas``, in evaluation mode (chapter 10).

    Shapes: alphas (A,) -> (A,). ``loss`` maps the model to a float (e.g.
    ``lambda m: evaluate(m, loss_fn, X, y)[0]``); the parameters are restored afterwards.
    """
    _check_model(model, "loss_line")
    d = _check_direction(model, direction, "loss_line", "direction")
    return _grid(model, loss, [d], [_steps(alphas, "loss_line", "alphas")], "loss_line")


def loss_surface(model: Layer, loss: LossOf, d1: Direction, d2: Direction,
                 alphas: Sequence[float] | np.ndarray,
                 betas: Sequence[float] | np.ndarray | None = None) -> np.ndarray:
    """f(a, b) = loss(theta + a d1 + b d2) on a grid, in evaluation mode (chapter 10).

    Shapes: alphas (A,), betas (B,) (default: alphas) -> (B, A), entry [j, i] at
    (alphas[i], betas[j]), the layout of ``np.meshgrid(alphas, betas)`` and of
    ``plt.contour``. One loss evaluation per grid point; the parameters (and
    buffers) are restored afterwards, also when ``loss`` raises.
    """
    _check_model(model, "loss_surface")
    dirs = [_check_direction(model, d1, "loss_surface", "d1"),
            _check_direction(model, d2, "loss_surface", "d2")]
    a = _steps(alphas, "loss_surface", "alphas")
    b = a if betas is None else _steps(betas, "loss_surface", "betas")
    return _grid(model, loss, dirs, [a, b], "loss_surface")
