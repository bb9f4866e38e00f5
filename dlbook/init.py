"""Weight initialisation: normal, Xavier/Glorot, Kaiming/He and orthogonal (chapter 8).

Our fully connected weights are stored as ``W`` of shape (fan_in, fan_out),
because layers compute ``x @ W``; torch's ``nn.Linear`` stores the transpose,
(out, in). So ``xavier_normal((D, H))`` here has the same distribution as
``torch.nn.init.xavier_normal_(torch.empty(H, D))``. Shapes with more than
two axes follow the convolution layout (C_out, C_in, kh, kw), the same as
torch's: fan_in = C_in * kh * kw, fan_out = C_out * kh * kw.

Every function returns a *new* array (float32 by default) drawn from an
explicit ``rng``; ``normal_`` may instead fill a given array in place.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from dlbook._checks import check_hyper
from dlbook.utils import make_rng

Shape = Sequence[int]
RNG = int | np.random.Generator | None

SELU_GAIN = 0.75
"""torch.nn.init.calculate_gain('selu'): 3/4, chosen for self-normalising networks."""
LEAKY_RELU_SLOPE = 0.01
"""torch's default negative slope for calculate_gain('leaky_relu')."""


def _check_shape(shape: Shape, where: str) -> tuple[int, ...]:
    """A tuple of >= 2 positive ints; else ``TypeError``/``ValueError`` naming ``where``."""
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"{where} expected a shape tuple like (fan_in, fan_out); "
                        f"got {type(shape).__name__}") from None
    if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in dims):
        raise TypeError(f"{where} expected a shape of ints; got {dims!r}")
    if len(dims) < 2 or min(dims) < 1:
        raise ValueError(f"{where} expected a shape of at least 2 positive sizes, "
                         f"like (fan_in, fan_out); got {dims!r}")
    return tuple(int(d) for d in dims)


def fan_in_and_fan_out(shape: Shape) -> tuple[int, int]:
    """(fan_in, fan_out): inputs and outputs of one unit, for our weight layouts.

    Shapes: (fan_in, fan_out) for a fully connected W; (C_out, C_in, *kernel)
    for a convolution, where each fan is multiplied by the kernel size.
    """
    dims = _check_shape(shape, "fan_in_and_fan_out")
    if len(dims) == 2:
        return dims[0], dims[1]
    receptive = math.prod(dims[2:])
    return dims[1] * receptive, dims[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain g that keeps activations' variance steady through ``nonlinearity``.

    Shapes: none (a scalar). linear, sigmoid, conv: 1; tanh: 5/3; relu:
    sqrt(2) (ReLU zeroes half of a symmetric input, halving its second
    moment); leaky_relu with slope a: sqrt(2 / (1 + a^2)); selu: 3/4. The same
    values as ``torch.nn.init.calculate_gain`` (chapter 8).
    """
    linear = {"linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d",
              "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"}
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = LEAKY_RELU_SLOPE if param is None else check_hyper(
            param, "calculate_gain", "param", low=-math.inf)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return SELU_GAIN
    raise ValueError(f"calculate_gain expected one of linear, sigmoid, tanh, relu, leaky_relu, "
                     f"selu or a conv name; got {nonlinearity!r}")


def normal_(x: Shape | np.ndarray, std: float = 1.0, rng: RNG = None, mean: float = 0.0,
            dtype=np.float32) -> np.ndarray:
    """W ~ N(mean, std^2), entry by entry.

    Shapes: a shape (any number of axes) -> a new array of that shape and
    ``dtype``; or a float array -> the same array, filled in place (``dtype``
    ignored) and returned. The "small random numbers" baseline of chapter 8,
    whose activations shrink or blow up layer by layer unless std is tuned.
    """
    std = check_hyper(std, "normal_", "std")
    mean = check_hyper(mean, "normal_", "mean", low=-math.inf)
    gen = make_rng(rng, where="normal_")
    if isinstance(x, np.ndarray):
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"normal_ expected a float array to fill; got dtype {x.dtype}")
        x[...] = gen.normal(mean, std, size=x.shape)
        return x
    try:
        shape = tuple(int(d) for d in x)
    except (TypeError, ValueError):
        raise TypeError(f"normal_ expected a shape tuple or a float numpy array; "
                        f"got {type(x).__name__}") from None
    if any(d < 0 for d in shape):
        raise ValueError(f"normal_ expected a shape of sizes >= 0; got {shape}")
    return gen.normal(mean, std, size=shape).astype(dtype)


def uniform_(shape: Shape, bound: float, rng: RNG = None, dtype=np.float32) -> np.ndarray:
    """W ~ U(-bound, bound), entry by entry.

    Shapes: shape (any number of axes) -> a new array of that shape and
    ``dtype``. PyTorch's default for recurrent weights (bound = 1/sqrt(H),
    chapter 14) and the building block of the Xavier/Kaiming uniform rules.
    """
    bound = check_hyper(bound, "uniform_", "bound")
    dims = tuple(int(d) for d in shape)
    return make_rng(rng, where="uniform_").uniform(-bound, bound, size=dims).astype(dtype)


def xavier_uniform(shape: Shape, gain: float = 1.0, rng: RNG = None,
                   dtype=np.float32) -> np.ndarray:
    """W ~ U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)); std = a / sqrt(3).

    Shapes: shape (fan_in, fan_out) or (C_out, C_in, kh, kw) -> new array.
    The std is gain * sqrt(2 / (fan_in + fan_out)), as for :func:`xavier_normal`.
    Glorot and Bengio (2010): the compromise between keeping the forward
    variance (needs 1/fan_in) and the backward variance (needs 1/fan_out);
    suited to tanh and sigmoid (use gain 5/3 for tanh). Chapter 8.
    """
    fan_in, fan_out = fan_in_and_fan_out(_check_shape(shape, "xavier_uniform"))
    gain = check_hyper(gain, "xavier_uniform", "gain")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return make_rng(rng, where="xavier_uniform").uniform(-bound, bound, size=shape).astype(dtype)


def xavier_normal(shape: Shape, gain: float = 1.0, rng: RNG = None,
                  dtype=np.float32) -> np.ndarray:
    """W ~ N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)).

    Shapes: shape (fan_in, fan_out) or (C_out, C_in, kh, kw) -> new array.
    Glorot and Bengio (2010), normal version of :func:`xavier_uniform`. Chapter 8.
    """
    fan_in, fan_out = fan_in_and_fan_out(_check_shape(shape, "xavier_normal"))
    std = check_hyper(gain, "xavier_normal", "gain") * math.sqrt(2.0 / (fan_in + fan_out))
    return make_rng(rng, where="xavier_normal").normal(0.0, std, size=shape).astype(dtype)


def _kaiming_std(shape: Shape, mode: str, nonlinearity: str, a: float, where: str) -> float:
    """gain / sqrt(fan) for He initialisation; ``a`` is leaky_relu's slope."""
    fan_in, fan_out = fan_in_and_fan_out(_check_shape(shape, where))
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{where} expected mode 'fan_in' or 'fan_out'; got {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_normal(shape: Shape, a: float = 0.0, mode: str = "fan_in",
                   nonlinearity: str = "relu", rng: RNG = None, dtype=np.float32) -> np.ndarray:
    """W ~ N(0, std^2), std = gain / sqrt(fan_in) = sqrt(2 / fan_in) for ReLU.

    Shapes: shape (fan_in, fan_out) or (C_out, C_in, kh, kw) -> new array.
    He et al. (2015): a ReLU halves the second moment of its input, so the
    weights' variance must be 2 / fan_in to keep it constant with depth.
    ``mode='fan_out'`` keeps the backward variance instead; ``a`` is the
    negative slope when ``nonlinearity='leaky_relu'``. Chapter 8.
    """
    std = _kaiming_std(shape, mode, nonlinearity, a, "kaiming_normal")
    return make_rng(rng, where="kaiming_normal").normal(0.0, std, size=shape).astype(dtype)


def kaiming_uniform(shape: Shape, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "relu", rng: RNG = None, dtype=np.float32) -> np.ndarray:
    """W ~ U(-b, b), b = sqrt(3) * gain / sqrt(fan_in): the same std as :func:`kaiming_normal`.

    Shapes: shape (fan_in, fan_out) or (C_out, C_in, kh, kw) -> new array. Chapter 8.
    """
    bound = math.sqrt(3.0) * _kaiming_std(shape, mode, nonlinearity, a, "kaiming_uniform")
    return make_rng(rng, where="kaiming_uniform").uniform(-bound, bound, size=shape).astype(dtype)


def orthogonal(shape: Shape, gain: float = 1.0, rng: RNG = None,
               dtype=np.float32) -> np.ndarray:
    """W = gain * Q, Q from the QR decomposition of a Gaussian matrix, signs fixed by diag(R).

    Shapes: shape (fan_in, fan_out) -> new array with orthonormal columns
    (W^T W = gain^2 I) when fan_in >= fan_out, orthonormal rows
    (W W^T = gain^2 I) otherwise; more axes are flattened to
    (shape[0], prod(shape[1:])). Saxe et al. (2014): an orthogonal map keeps
    every vector's norm, so activations neither shrink nor grow through a deep
    linear stack; used for recurrent weights. Multiplying Q's columns by
    sign(diag(R)) makes Q uniformly (Haar) distributed. Chapter 8.
    """
    dims = _check_shape(shape, "orthogonal")
    gain = check_hyper(gain, "orthogonal", "gain")
    rows, cols = dims[0], math.prod(dims[1:])
    a = make_rng(rng, where="orthogonal").standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)                      # q (max, min), orthonormal columns
    q *= np.sign(np.diag(r))                    # sign fix: column j times sign(R_jj)
    if rows < cols:
        q = q.T                                 # (rows, cols), orthonormal rows
    return (gain * q).reshape(dims).astype(dtype)
