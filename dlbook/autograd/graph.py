"""The computation graph behind :mod:`dlbook.autograd`: ordering, tracing, printing (chapter 6).

A node is anything with ``data``, ``grad``, ``parents`` (the nodes it was
computed from, in argument order, repeated if an argument is used twice),
``op`` (the operation's name, ``""`` for a leaf) and ``label`` (an optional
name). :class:`~dlbook.autograd.value.Value` and
:class:`~dlbook.autograd.tensor.Tensor` both qualify, so everything here
works for either.

Reverse mode needs the nodes in *topological order*: every node after all of
its parents. Walking that list backwards visits a node only after every node
that consumed it, so its gradient is complete before it is passed on.
:func:`topological_order` builds the list with an explicit stack instead of
recursion, so a graph 10,000 operations deep is no problem for Python's
recursion limit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["topological_order", "trace", "render", "zero_grad"]


def topological_order(root: Any) -> list:
    """Every node ``root`` depends on (and ``root`` itself), each after all of its parents.

    Shapes: a graph of n nodes -> a list of n nodes, ``root`` last.
    A depth-first search in post-order: a node is appended once all of its
    parents have been. The stack holds ``(node, parents_done)`` pairs: a node
    is first pushed with ``False`` (expand me), then re-pushed with ``True``
    beneath its parents, so it is popped (and appended) only after them.
    Nodes are compared by identity, never by value.
    """
    order: list = []
    seen: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in node.parents:
            if id(parent) not in seen:
                stack.append((parent, False))
    return order


def trace(root: Any) -> tuple[list, list[tuple[int, int]]]:
    """The graph as data for a figure: ``(nodes, edges)``.

    Shapes: ``nodes`` is :func:`topological_order` (root last); ``edges`` holds
    ``(i, j)`` index pairs into ``nodes``, one per argument, meaning "node i
    is an input of node j". An argument used twice (``x * x``) gives two equal
    edges, which is exactly the fan-out whose gradients add up.
    """
    nodes = topological_order(root)
    index = {id(node): i for i, node in enumerate(nodes)}
    edges = [(index[id(parent)], j) for j, node in enumerate(nodes) for parent in node.parents]
    return nodes, edges


_INFIX = ("+", "-", "*", "/", "@")
"""Binary operations written between their arguments by :func:`render`."""


def _describe(data: Any) -> str:
    """A short text for a node's data: the number for a scalar, the shape for an array."""
    arr = np.asarray(data)
    if arr.ndim == 0:
        return f"{float(arr):.4g}"
    return f"array{arr.shape}"


def render(root: Any) -> str:
    """A plain-text listing of the graph, one line per node in topological order.

    Each line reads ``name = a * b  data=...  grad=...`` (or ``tanh(a)``, ``a**2``); leaves show
    only their data and gradient. Nodes without a ``label`` are named
    ``n0, n1, ...`` by position. Arrays are shown by shape, scalars to 4
    significant digits. Meant for printing in chapter 6 next to the figure.
    """
    nodes, _ = trace(root)
    names = {id(node): (node.label or f"n{i}") for i, node in enumerate(nodes)}
    lines = []
    for node in nodes:
        values = f"data={_describe(node.data)}  grad={_describe(node.grad)}"
        args = [names[id(parent)] for parent in node.parents]
        if node.op in _INFIX and len(args) == 2:
            lines.append(f"{names[id(node)]} = {args[0]} {node.op} {args[1]}  {values}")
        elif node.op.startswith("**") and len(args) == 1:
            lines.append(f"{names[id(node)]} = {args[0]}{node.op}  {values}")
        elif args:
            lines.append(f"{names[id(node)]} = {node.op}({', '.join(args)})  {values}")
        else:
            lines.append(f"{names[id(node)]}  (leaf)  {values}")
    return "\n".join(lines)


def zero_grad(*roots: Any) -> None:
    """Set the gradient of every node in the graphs below ``roots`` to zero.

    Array gradients are zeroed in place (anyone holding a reference sees the
    zeros), scalar gradients are reset to ``0.0``. Call it between two
    training steps: leaf gradients accumulate over calls to ``backward()``.
    """
    seen: set[int] = set()
    for root in roots:
        for node in topological_order(root):
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node.grad, np.ndarray):
                node.grad[...] = 0
            else:
                node.grad = 0.0
