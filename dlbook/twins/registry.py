"""One registry of PyTorch twins: numpy layer type -> its ``torch.nn`` builder and weight map.

A twin is registered once per numpy type with :func:`register`:

* ``build(layer)`` returns a ``torch.nn`` module of the same architecture
  (its own random weights; sublayers are built with :func:`build`);
* ``weights(layer)`` returns the *weight map*: for every tensor of the
  module's ``state_dict`` (a parameter or a buffer), the numpy arrays that
  hold the same numbers, as :class:`Ref` pieces stacked along axis 0 in
  torch's layout (``Linear.W`` (D, H) is ``weight`` (H, D): a transposed
  ``Ref``; torch's ``in_proj_weight`` stacks W_q^T, W_k^T, W_v^T).

Lookup walks the numpy type's MRO, so a subclass finds its parent's twin.
When several torch tensors map to the same numpy arrays (the two bias vectors
of ``torch.nn.LSTM``, which only ever enter as a sum), numpy -> torch fills
the first and zeros the others, and torch -> numpy stores their sum.

Everything else is generic: :func:`dlbook.twins.to_torch`,
``copy_weights``, ``torch_state_dict`` and ``torch_grads`` read these two
functions only. Chapters 10-19 use the twins for their cross-checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from dlbook.layers.base import Layer


class Ref(NamedTuple):
    """One numpy array of a twin pair: ``owner``'s parameter (or buffer) ``key``, transposed or not.

    Shapes: ``array()`` is in torch's layout: the array itself, or its
    transpose (a view, so writing into it writes into ``owner``'s array).
    """

    owner: Layer
    key: str
    transpose: bool = False

    def array(self) -> np.ndarray:
        """The parameter (or buffer) in torch's layout: a view, writable."""
        a = self.owner._params.get(self.key)
        a = self.owner._buffers[self.key] if a is None else a
        return a.T if self.transpose else a

    def grad(self) -> np.ndarray | None:
        """Its gradient in torch's layout; None for a buffer."""
        g = self.owner._grads.get(self.key)
        return None if g is None else (g.T if self.transpose else g)

    def ident(self) -> tuple[int, str]:
        """What identifies the numpy array: (owner's id, key)."""
        return id(self.owner), self.key


WeightMap = dict[str, tuple[Ref, ...]]
"""torch state_dict name -> the numpy arrays stacked (axis 0) into that tensor."""


@dataclass(frozen=True)
class Twin:
    """How one numpy type crosses to PyTorch: the module's builder and the weight map."""

    build: Callable[[Layer], object]
    weights: Callable[[Layer], WeightMap]


_TWINS: dict[type, Twin] = {}


def no_weights(layer: Layer) -> WeightMap:
    """The weight map of a layer without parameters (ReLU, MaxPool2d, ...): empty."""
    return {}


def register(numpy_type: type, build: Callable[[Layer], object],
             weights: Callable[[Layer], WeightMap] = no_weights) -> None:
    """Register the PyTorch twin of ``numpy_type`` (a :class:`~dlbook.layers.Layer` subclass).

    Shapes: none. ``build(layer)`` -> a ``torch.nn.Module`` of the same
    architecture; ``weights(layer)`` -> its weight map (see the module docstring).
    """
    if not (isinstance(numpy_type, type) and issubclass(numpy_type, Layer)):
        raise TypeError(f"register expected a dlbook Layer subclass; got {numpy_type!r}")
    _TWINS[numpy_type] = Twin(build, weights)


def registered_types() -> list[type]:
    """Every numpy type with a registered twin, in registration order. Shapes: none."""
    return list(_TWINS)


def twin_of(layer, where: str = "to_torch") -> Twin:
    """The twin registered for ``type(layer)`` or its nearest registered base class.

    Shapes: none. ``TypeError`` naming the type and the registered ones if there is none.
    """
    for cls in type(layer).__mro__:
        if cls in _TWINS:
            return _TWINS[cls]
    known = ", ".join(sorted(cls.__name__ for cls in _TWINS))
    raise TypeError(f"{where}: no PyTorch twin is registered for {type(layer).__name__} "
                    f"(registered: {known})")


def build(layer: Layer):
    """A ``torch.nn`` module with ``layer``'s architecture and torch's own initial weights.

    Shapes: the module maps what ``layer`` maps. Registered builders call it for sublayers.
    """
    return twin_of(layer).build(layer)


def weight_map(layer: Layer, prefix: str = "") -> WeightMap:
    """``layer``'s weight map with every torch name prefixed (for sublayers: ``"blocks.0."``)."""
    return {prefix + name: refs for name, refs in twin_of(layer).weights(layer).items()}


def linear_refs(layer: Layer, prefix: str = "") -> WeightMap:
    """A ``Linear`` (or a layer with the same W (D, H), b (H,)) under torch.nn.Linear's names."""
    refs = {prefix + "weight": (Ref(layer, "W", True),)}
    if "b" in layer._params:
        refs[prefix + "bias"] = (Ref(layer, "b"),)
    return refs


def stacked(refs: tuple[Ref, ...], arrays: Callable[[Ref], np.ndarray]) -> np.ndarray:
    """The pieces of one torch tensor joined along axis 0 (torch's stacking of q, k, v).

    Shapes: pieces (r_i, ...) -> (sum_i r_i, ...); one piece is returned as it is (a view).
    """
    parts = [arrays(r) for r in refs]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def split(value: np.ndarray, refs: tuple[Ref, ...]) -> list[np.ndarray]:
    """The inverse of :func:`stacked`: ``value`` cut into the pieces' row counts.

    Shapes: value (sum_i r_i, ...) -> [(r_i, ...)], views of ``value``.
    """
    rows = np.cumsum([r.array().shape[0] for r in refs])[:-1]
    return np.split(value, rows) if len(refs) > 1 else [value]
