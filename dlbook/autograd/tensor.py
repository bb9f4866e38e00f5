"""Reverse-mode autodiff for numpy arrays: :class:`~dlbook.autograd.value.Value`'s design, an array per node (chapter 6).

For arrays a local derivative is a Jacobian, far too large to store (an
elementwise op on a (1000, 1000) array has a 10^6 x 10^6 one). So each node
stores a *vector-Jacobian product* instead: a function mapping the upstream
gradient ``g = d loss / d out`` (shaped like the output) to ``J^T g = d loss /
d input`` (shaped like each input): ``(g * b, g * a)`` for ``a * b``,
``(g @ B.T, A.T @ g)`` for ``A @ B``. ``backward()`` visits the nodes in reverse
topological order and adds each product into the input's ``grad`` with ``+=``,
exactly as :class:`~dlbook.autograd.value.Value` does with numbers.

Broadcasting copies an operand along the axes where it is missing or has
size 1; the copies are fan-out, so the operand's gradient is the *sum* of
the upstream gradient over those axes (:func:`_unbroadcast`).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

import dlbook.functional as F
from dlbook._checks import as_float_array, as_label_array, check_axis, check_ndim
from dlbook.autograd.graph import topological_order
from dlbook.autograd.value import _is_number

__all__ = ["Tensor", "cross_entropy"]

Backward = Callable[[np.ndarray], tuple]


def _unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes broadcasting stretched, so that it has ``shape`` again.

    Shapes: grad (broadcast result shape) -> ``shape``.
    numpy aligns shapes at the right: an operand of shape (D,) in an (N, D)
    result was copied along a new leading axis, one of shape (N, 1) along
    axis 1. Each copy passes its gradient back to the same entry, so we
    (1) sum away the leading axes the operand lacked, then (2) sum, keeping
    the axis, wherever the operand had size 1 but the result did not.
    """
    if np.broadcast_shapes(grad.shape, shape) != grad.shape:
        raise ValueError(f"_unbroadcast: shape {shape} does not broadcast to {grad.shape}")
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))  # (1) axes numpy prepended
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)  # (2) size-1 axes that were copied
    return grad


def _flatten_args(args: tuple) -> tuple:
    """``f(2, 3)`` and ``f((2, 3))`` both mean the tuple (2, 3), as in numpy's reshape."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def _normalize_axes(axis: int | tuple[int, ...] | None, ndim: int, where: str) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative axes (all axes for None)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for ax in axes:
        if not -ndim <= ax < ndim:
            raise ValueError(f"{where} expected axes of an array of {ndim} dims; got axis {ax}")
    return tuple(sorted(int(ax) % ndim for ax in axes))


class Tensor:
    """An array that remembers how it was computed, so it can be differentiated.

    Attributes: ``data`` (ndarray, float64 by default; shares memory with a
    float array of that dtype), ``grad`` (ndarray of the same shape, d root /
    d self after ``root.backward()``), ``parents``, ``op``, ``label``.

    Shapes: any; binary operations broadcast like numpy. Chapter 6 explains it.
    """

    __array_ufunc__ = None  # ndarray + Tensor then calls Tensor.__radd__

    def __init__(self, data: np.ndarray | float, label: str = "", dtype=np.float64) -> None:
        if np.dtype(dtype).kind != "f":
            raise TypeError(f"Tensor expected a floating dtype; got {np.dtype(dtype)}")
        self.data = np.asarray(as_float_array(data, "Tensor", "data"), dtype=dtype)
        self.grad = np.zeros_like(self.data)
        self.parents: tuple[Tensor, ...] = ()
        self.op, self.label = "", label
        self._backward: Backward = lambda g: ()  # a leaf has no inputs to pass gradients to

    @classmethod
    def _node(cls, data: np.ndarray, parents: tuple[Tensor, ...], backward: Backward,
              op: str) -> Tensor:
        """A new interior node; ``backward(g)`` returns d loss / d parent for each parent."""
        out = cls(data, dtype=data.dtype)
        out.parents, out._backward, out.op = parents, backward, op
        return out

    def _operand(self, other: object, op: str) -> Tensor:
        """``other`` as a Tensor (arrays and numbers become constants of our dtype)."""
        if isinstance(other, Tensor):
            return other
        if _is_number(other) or isinstance(other, np.ndarray):
            return Tensor(other, dtype=self.data.dtype)
        raise TypeError(f"Tensor {op} expected a Tensor, numpy array or number; "
                        f"got {type(other).__name__}")

    def _binary(self, other: object, op: str) -> tuple[Tensor, np.ndarray, np.ndarray]:
        other = self._operand(other, op)
        try:
            np.broadcast_shapes(self.shape, other.shape)
        except ValueError:
            raise ValueError(f"Tensor {op} expected broadcastable shapes; "
                             f"got {self.shape} and {other.shape}") from None
        return other, self.data, other.data

    shape = property(lambda self: self.data.shape, doc="The shape of ``data``.")
    ndim = property(lambda self: self.data.ndim, doc="The number of axes of ``data``.")

    # ---- broadcasting arithmetic: local VJPs, then summed back to each operand's shape
    def __add__(self, other: object) -> Tensor:
        other, a, b = self._binary(other, "+")
        return Tensor._node(a + b, (self, other), lambda g: (
            _unbroadcast(g, a.shape), _unbroadcast(g, b.shape)), "+")

    def __sub__(self, other: object) -> Tensor:
        other, a, b = self._binary(other, "-")
        return Tensor._node(a - b, (self, other), lambda g: (
            _unbroadcast(g, a.shape), _unbroadcast(-g, b.shape)), "-")

    def __mul__(self, other: object) -> Tensor:
        other, a, b = self._binary(other, "*")
        return Tensor._node(a * b, (self, other), lambda g: (
            _unbroadcast(g * b, a.shape), _unbroadcast(g * a, b.shape)), "*")

    def __truediv__(self, other: object) -> Tensor:
        other, a, b = self._binary(other, "/")
        return Tensor._node(a / b, (self, other), lambda g: (
            _unbroadcast(g / b, a.shape), _unbroadcast(-g * a / (b * b), b.shape)), "/")

    __radd__ = __add__  # a + b = b + a, so the reflected forms of + and * are the same
    __rmul__ = __mul__

    def __rsub__(self, other: object) -> Tensor:
        return self._operand(other, "-") - self

    def __rtruediv__(self, other: object) -> Tensor:
        return self._operand(other, "/") / self

    def __neg__(self) -> Tensor:
        return Tensor._node(-self.data, (self,), lambda g: (-g,), "neg")

    def __pow__(self, exponent: float) -> Tensor:
        """x ** p elementwise for a constant p: d/dx = p x^(p-1)."""
        if not _is_number(exponent):
            raise TypeError(f"Tensor ** expected a constant exponent; got {type(exponent).__name__}")
        x, p = self.data, float(exponent)
        if not p.is_integer() and np.any(x < 0):
            raise ValueError(f"Tensor ** {p:g} expected a non-negative base; got min {x.min():g}")
        with np.errstate(divide="ignore"):
            local = np.zeros_like(x) if p == 0 else p * x ** (p - 1)
        return Tensor._node(x ** p, (self,), lambda g: (g * local,), f"**{p:g}")

    def __matmul__(self, other: object) -> Tensor:
        """Matrix product (N, D) @ (D, M) -> (N, M); VJPs g @ B^T and A^T @ g."""
        other = self._operand(other, "@")
        a, b = self.data, other.data
        if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
            raise ValueError(f"Tensor @ expected shapes (N, D) @ (D, M); got {a.shape} @ {b.shape}")
        return Tensor._node(a @ b, (self, other), lambda g: (g @ b.T, a.T @ g), "@")

    # ---- reductions: the gradient is copied back along the reduced axes
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes for None). Shapes: (...) -> reduced (...)."""
        return self._reduce(axis, keepdims, "sum")

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis``: a sum whose gradient is divided by the number of summed entries."""
        return self._reduce(axis, keepdims, "mean")

    def _reduce(self, axis, keepdims: bool, op: str) -> Tensor:
        axes = _normalize_axes(axis, self.ndim, f"Tensor.{op}")
        shape = self.shape
        count = int(np.prod([shape[ax] for ax in axes])) if op == "mean" else 1

        def backward(g: np.ndarray) -> tuple:  # copy g back along the reduced axes
            g = g if keepdims else np.expand_dims(g, axes)
            return (np.broadcast_to(g / count, shape),)
        out = getattr(self.data, op)(axis=axes, keepdims=keepdims)
        return Tensor._node(out, (self,), backward, op)

    # ---- elementwise functions: g times the derivative at the input
    def exp(self) -> Tensor:
        """e^x, derivative e^x."""
        e = np.exp(self.data)
        return Tensor._node(e, (self,), lambda g: (g * e,), "exp")

    def log(self) -> Tensor:
        """Natural log, derivative 1/x; every entry must be positive."""
        x = self.data
        if not np.all(x > 0):
            raise ValueError(f"Tensor.log expected positive inputs; got min {np.min(x):g}")
        return Tensor._node(np.log(x), (self,), lambda g: (g / x,), "log")

    def tanh(self) -> Tensor:
        """tanh x, derivative 1 - tanh^2 x."""
        t = np.tanh(self.data)
        return Tensor._node(t, (self,), lambda g: (g * (1.0 - t * t),), "tanh")

    def sigmoid(self) -> Tensor:
        """Stable logistic sigmoid s, derivative s (1 - s)."""
        s = F.sigmoid(self.data)
        return Tensor._node(s, (self,), lambda g: (g * s * (1.0 - s),), "sigmoid")

    def relu(self) -> Tensor:
        """max(0, x), derivative 1 where x > 0 else 0."""
        mask = self.data > 0
        return Tensor._node(np.where(mask, self.data, 0.0), (self,), lambda g: (g * mask,), "relu")

    # ---- shape changes: the gradient undoes them
    def reshape(self, *shape: int) -> Tensor:
        """Same entries, new shape (``reshape(2, 3)`` or ``reshape((2, 3))``)."""
        shape, old = _flatten_args(shape), self.shape
        try:
            out = self.data.reshape(shape)
        except (ValueError, TypeError):
            raise ValueError(f"Tensor.reshape cannot give shape {shape} to an array of "
                             f"shape {old}") from None
        return Tensor._node(out, (self,), lambda g: (g.reshape(old),), "reshape")

    def transpose(self, *axes: int) -> Tensor:
        """Permute axes (reverse them by default); the gradient applies the inverse permutation."""
        n, axes = self.ndim, _flatten_args(axes)
        perm = axes or tuple(range(n))[::-1]
        if not all(-n <= a < n for a in perm) or sorted(a % n for a in perm) != list(range(n)):
            raise ValueError(f"Tensor.transpose expected a permutation of {n} axes; got {perm}")
        perm = tuple(int(a) % n for a in perm)
        inverse = tuple(int(i) for i in np.argsort(perm))
        return Tensor._node(self.data.transpose(perm), (self,),
                            lambda g: (g.transpose(inverse),), "transpose")

    T = property(lambda self: self.transpose(), doc="All axes reversed, as ``ndarray.T``.")

    # ---- softmax family
    def log_softmax(self, axis: int = -1) -> Tensor:
        """x - logsumexp(x) along ``axis``; VJP g - softmax(x) * sum(g) along ``axis``."""
        check_axis(self.data, axis, "Tensor.log_softmax")
        out = F.log_softmax(self.data, axis=axis)
        p = np.exp(out)
        return Tensor._node(out, (self,), lambda g: (
            g - p * g.sum(axis=axis, keepdims=True),), "log_softmax")

    def cross_entropy(self, targets: np.ndarray) -> Tensor:
        """Mean softmax cross-entropy -(1/N) sum_n log_softmax(z_n)[y_n], built from other ops.

        Shapes: self (N, C) logits, targets (N,) integer labels -> scalar Tensor.
        Picking log-probabilities is a product with the one-hot labels; the graph
        then yields the gradient (softmax - onehot) / N by itself."""
        check_ndim(self.data, 2, "Tensor.cross_entropy", "logits", "(N, C)")
        y = as_label_array(targets, "Tensor.cross_entropy")
        if y.shape != (self.shape[0],):
            raise ValueError(f"Tensor.cross_entropy expected targets of shape ({self.shape[0]},); "
                             f"got shape {y.shape}")
        onehot = F.one_hot(y, self.shape[1]).astype(self.data.dtype)
        return -(self.log_softmax(axis=1) * onehot).sum() / self.shape[0]

    # ---- reverse mode
    def backward(self, grad: np.ndarray | None = None) -> None:
        """Fill ``grad`` of every node below ``self`` with the gradient of sum(self * grad).

        ``grad`` defaults to 1 for a one-element output. Interior gradients are
        recomputed on every call; leaf gradients accumulate (as in PyTorch).
        """
        if grad is None and self.data.size != 1:
            raise ValueError(f"Tensor.backward needs grad for a non-scalar output; "
                             f"got shape {self.shape}")
        grad = np.ones_like(self.data) if grad is None else as_float_array(
            grad, "Tensor.backward", "grad")
        if grad.shape != self.shape:
            raise ValueError(f"Tensor.backward expected grad of shape {self.shape}; "
                             f"got shape {grad.shape}")
        order = topological_order(self)  # parents before children; self is last
        for node in order:
            if node.parents:
                node.grad = np.zeros_like(node.data)  # interior gradients belong to this sweep
        self.grad += grad
        for node in reversed(order):  # every consumer of a node is visited before it
            for parent, g in zip(node.parents, node._backward(node.grad)):
                parent.grad += g  # summed over fan-out and over broadcast copies

    def __repr__(self) -> str:
        return f"Tensor(shape={self.shape}, dtype={self.data.dtype}, op={self.op!r})"


def cross_entropy(logits: Tensor, targets: np.ndarray) -> Tensor:
    """Function form of :meth:`Tensor.cross_entropy`. Shapes: (N, C), (N,) -> scalar."""
    if not isinstance(logits, Tensor):
        raise TypeError(f"cross_entropy expected a Tensor of logits; got {type(logits).__name__}")
    return logits.cross_entropy(targets)
