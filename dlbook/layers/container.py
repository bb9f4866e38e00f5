"""Containers: Sequential runs layers in order (chapter 5); Composite holds named sublayers (chapters 14-18)."""

from __future__ import annotations

from typing import Iterator

import numpy as np

from dlbook.layers.base import Layer


class Sequential(Layer):
    """y = f_L(... f_2(f_1(x))); backward applies the chain rule from f_L down to f_1.

    Shapes: x (N, D) -> y (N, C), whatever the first and last layers take and give.
    ``params``/``grads`` gather every layer's arrays under names like ``"0.W"``
    (layer index, then the layer's own name, as in PyTorch's ``state_dict``).
    These dicts are rebuilt on each access and hold the layers' own arrays, so
    an in-place update reaches the layer; ``train()``, ``eval()`` and
    ``zero_grad()`` reach every layer too.
    """

    def __init__(self, *layers: Layer):
        # no super().__init__(): params and grads are properties gathered from the layers
        for i, layer in enumerate(layers):
            if not all(hasattr(layer, a) for a in ("forward", "backward", "params", "grads")):
                raise TypeError(f"Sequential expected layers with forward, backward, params "
                                f"and grads; got {type(layer).__name__} at position {i}")
        self.layers = list(layers)
        self.training = True

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in layer.params.items()}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in layer.grads.items()}

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def train(self, mode: bool = True) -> "Sequential":
        self.training = bool(mode)
        for layer in self.layers:
            layer.train(mode)
        return self

    def __getitem__(self, index: int) -> Layer:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)"


class Composite(Layer):
    """A layer built from named sublayers; ``params``/``grads`` gather theirs as "name.key".

    Like :class:`dlbook.layers.Sequential`, the dicts are rebuilt on each access
    and hold the sublayers' own arrays, so optimizers and ``zero_grad`` reach them;
    ``train()``/``eval()`` reach every sublayer. Subclasses write forward/backward.
    """

    def __init__(self) -> None:
        # no Layer.__init__: params and grads are properties gathered from the sublayers
        self.training = True
        self.modules: dict[str, Layer] = {}

    def add_module(self, name: str, layer: Layer) -> Layer:
        """Register a sublayer under ``name``; returns it."""
        self.modules[name] = layer
        return layer

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {f"{n}.{k}": v for n, m in self.modules.items() for k, v in m.params.items()}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return {f"{n}.{k}": v for n, m in self.modules.items() for k, v in m.grads.items()}

    def parameters(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for m in self.modules.values():
            yield from m.parameters()

    def train(self, mode: bool = True) -> "Composite":
        self.training = bool(mode)
        for m in self.modules.values():
            m.train(mode)
        return self
