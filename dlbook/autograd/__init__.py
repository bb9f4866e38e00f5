"""A small reverse-mode automatic-differentiation engine (chapter 6).

:class:`Value` differentiates scalar expressions, one number per node;
:class:`Tensor` is the same design with a numpy array per node and
vector-Jacobian products in place of local derivatives. Both record a
computation graph as they compute; ``backward()`` walks it in reverse
topological order and accumulates ``local derivative x upstream gradient``
into every node's ``grad``. :mod:`dlbook.autograd.graph` orders, traces and
prints those graphs (for chapter 6's figures), and zeroes their gradients.

    from dlbook.autograd import Value
    x = Value(3.0)
    f = x * x + x
    f.backward()          # x.grad == 7.0 (2x + 1: x is used three times)
"""

from dlbook.autograd.graph import render, topological_order, trace, zero_grad
from dlbook.autograd.tensor import Tensor, cross_entropy
from dlbook.autograd.value import Value

__all__ = ["Tensor", "Value", "cross_entropy", "render", "topological_order", "trace",
           "zero_grad"]
