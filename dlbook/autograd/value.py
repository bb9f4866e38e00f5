"""A scalar reverse-mode automatic-differentiation engine (chapter 6).

Every arithmetic operation on :class:`Value` objects records a node of a
computation graph: the result's number (``data``), the nodes it came from
(``parents``), the operation's name (``op``) and the *local derivatives*
``d node / d parent``, one number per parent, computed during the forward
pass while the inputs are at hand (``local_grads``).

``loss.backward()`` then applies the chain rule backwards through the graph.
Writing ``gbar(v) = d loss / d v`` for the *upstream* gradient of node v,

    gbar(parent) = sum over the children c of parent:  (d c / d parent) * gbar(c),

i.e. each node's local derivative times its upstream gradient, summed over
every use of the parent (fan-out). Visiting the nodes in *reverse
topological order* (the loss first, every node after all the nodes that
consumed it) guarantees that ``gbar(c)`` is complete before it is passed
on, so one sweep computes every gradient, at a cost proportional to the
forward pass. The sum over uses is why gradients are accumulated with ``+=``:
``f = x * x + x`` reaches ``x`` three times and gets ``x + x + 1``.

Compare the alternatives chapter 6 measures: numerical differentiation needs
two evaluations of ``f`` per input and is only approximate; symbolic
differentiation is exact but builds expressions that can grow exponentially
(it re-derives shared subexpressions); reverse mode is exact to rounding and
gives *all* partial derivatives of one output for the price of one sweep.

Example::

    x, y = Value(2.0, label="x"), Value(-3.0, label="y")
    f = (x * y + x).tanh()
    f.backward()          # now x.grad = (y + 1) (1 - f^2), y.grad = x (1 - f^2)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from dlbook.autograd.graph import topological_order

__all__ = ["Value"]


def _is_number(x: object) -> bool:
    """True for real numbers (Python or numpy ints and floats); False for bools and the rest."""
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def _as_value(x: object, op: str) -> Value:
    """Wrap a number as a constant :class:`Value`; raise ``TypeError`` for anything else."""
    if isinstance(x, Value):
        return x
    if _is_number(x):
        return Value(float(x))
    raise TypeError(f"Value {op} expected a Value, int or float operand; got {type(x).__name__}")


class Value:
    """A scalar that remembers how it was computed, so it can be differentiated.

    Attributes: ``data`` (float), ``grad`` (float, d root / d self after
    ``root.backward()``), ``parents`` (tuple of Value), ``local_grads``
    (tuple of float, d self / d parent for each parent), ``op`` (str, ``""``
    for a leaf), ``label`` (str, for printing graphs).

    Shapes: scalars only; :class:`dlbook.autograd.tensor.Tensor` is the
    same design for arrays. Chapter 6 builds and explains it.
    """

    __slots__ = ("data", "grad", "parents", "local_grads", "op", "label")
    __array_ufunc__ = None  # numpy scalars then defer to our reflected operators

    def __init__(self, data: float, label: str = "") -> None:
        if not _is_number(data):
            raise TypeError(f"Value expected data to be an int or float; got {type(data).__name__}")
        if not isinstance(label, str):
            raise TypeError(f"Value expected label to be a str; got {type(label).__name__}")
        self.data = float(data)
        self.grad = 0.0
        self.parents: tuple[Value, ...] = ()
        self.local_grads: tuple[float, ...] = ()
        self.op = ""
        self.label = label

    @classmethod
    def _node(cls, data: float, parents: tuple[Value, ...], local_grads: tuple[float, ...],
              op: str) -> Value:
        """A new interior node: its value, its inputs and d(node)/d(input) for each input."""
        out = cls(data)
        out.parents, out.local_grads, out.op = parents, local_grads, op
        return out

    # ---- arithmetic: d(a+b) = (1, 1), d(a-b) = (1, -1), d(ab) = (b, a), d(a/b) = (1/b, -a/b^2)
    def __add__(self, other: Value | float) -> Value:
        other = _as_value(other, "+")
        return Value._node(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __sub__(self, other: Value | float) -> Value:
        other = _as_value(other, "-")
        return Value._node(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __mul__(self, other: Value | float) -> Value:
        other = _as_value(other, "*")
        return Value._node(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __truediv__(self, other: Value | float) -> Value:
        other = _as_value(other, "/")
        a, b = self.data, other.data
        if b == 0.0:
            raise ZeroDivisionError(f"Value / divided {a:g} by zero")
        return Value._node(a / b, (self, other), (1.0 / b, -a / (b * b)), "/")

    def __radd__(self, other: float) -> Value:
        return _as_value(other, "+") + self

    def __rsub__(self, other: float) -> Value:
        return _as_value(other, "-") - self

    def __rmul__(self, other: float) -> Value:
        return _as_value(other, "*") * self

    def __rtruediv__(self, other: float) -> Value:
        return _as_value(other, "/") / self

    def __neg__(self) -> Value:
        return Value._node(-self.data, (self,), (-1.0,), "neg")

    def __pow__(self, exponent: float) -> Value:
        """x ** p for a constant p: d/dx = p x^(p-1). A negative x needs an integer p."""
        if not _is_number(exponent):
            raise TypeError(
                f"Value ** expected a constant int or float exponent; got {type(exponent).__name__}"
            )
        x, p = self.data, float(exponent)
        if x < 0 and not p.is_integer():
            raise ValueError(f"Value ** expected a non-negative base for exponent {p:g}; got {x:g}")
        if x == 0 and p < 0:
            raise ZeroDivisionError(f"Value ** raised zero to the negative power {p:g}")
        if p == 0:
            local = 0.0
        elif x == 0 and p < 1:
            local = math.inf  # p x^(p-1) -> +inf as x -> 0+, as in PyTorch
        else:
            local = p * x ** (p - 1)
        return Value._node(x ** p, (self,), (local,), f"**{p:g}")

    # ---- elementwise functions: each stores its derivative at the input
    def exp(self) -> Value:
        """e^x, whose derivative is e^x itself; overflows to inf like float64 does."""
        try:
            e = math.exp(self.data)
        except OverflowError:
            e = math.inf
        return Value._node(e, (self,), (e,), "exp")

    def log(self) -> Value:
        """Natural log, d/dx = 1/x; defined for x > 0 only."""
        if not self.data > 0:
            raise ValueError(f"Value.log expected a positive input; got {self.data:g}")
        return Value._node(math.log(self.data), (self,), (1.0 / self.data,), "log")

    def tanh(self) -> Value:
        """tanh x, d/dx = 1 - tanh^2 x."""
        t = math.tanh(self.data)
        return Value._node(t, (self,), (1.0 - t * t,), "tanh")

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x), d/dx = s (1 - s); only e^-|x| is evaluated, so it never overflows."""
        e = math.exp(-abs(self.data))
        s = 1.0 / (1.0 + e) if self.data >= 0 else e / (1.0 + e)
        return Value._node(s, (self,), (s * (1.0 - s),), "sigmoid")

    def relu(self) -> Value:
        """max(0, x), d/dx = 1 for x > 0 and 0 otherwise (0 at the kink, as PyTorch)."""
        x = self.data
        return Value._node(max(x, 0.0), (self,), (1.0 if x > 0 else 0.0,), "relu")

    # ---- reverse mode
    def backward(self, grad: float = 1.0) -> None:
        """Fill ``grad`` of every node below ``self`` with d self / d node (times ``grad``).

        Interior gradients are recomputed on every call; *leaf* gradients
        accumulate over calls (as in PyTorch), so zero them between steps
        with :func:`dlbook.autograd.zero_grad`.
        """
        if not _is_number(grad):
            raise TypeError(f"Value.backward expected a float grad; got {type(grad).__name__}")
        order = topological_order(self)  # parents before children; self is last
        for node in order:
            if node.parents:
                node.grad = 0.0  # an interior node's gradient belongs to this sweep only
        self.grad += float(grad)
        for node in reversed(order):  # every consumer of a node is visited before it
            for parent, local in zip(node.parents, node.local_grads):
                parent.grad += local * node.grad  # chain rule, summed over fan-out

    def __float__(self) -> float:
        return self.data

    def __repr__(self) -> str:
        op = f", op={self.op!r}" if self.op else ""
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{op}{label})"
