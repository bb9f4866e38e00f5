"""Containers: Sequential runs layers in order (chapter 5); LayerList holds a list of sublayers (chapter 8)."""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from dlbook.layers.base import Layer


def _check_layers(layers: Iterable, where: str) -> list[Layer]:
    layers = list(layers)
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"{where} expected layers (dlbook.layers.Layer); "
                            f"got {type(layer).__name__} at position {i}")
    return layers


class LayerList(Layer):
    """A list of sublayers registered under "0", "1", ... (``torch.nn.ModuleList``).

    It has no forward of its own: the layer that holds it decides how the
    sublayers are called. Its parameters are named ``"0.W"``, ``"1.W"``, ...
    """

    def __init__(self, layers: Iterable[Layer] = ()):
        super().__init__()
        for i, layer in enumerate(_check_layers(layers, type(self).__name__)):
            self.add_module(str(i), layer)

    def append(self, layer: Layer) -> "LayerList":
        """Add ``layer`` at the end; returns self."""
        self.add_module(str(len(self)), *_check_layers([layer], f"{type(self).__name__}.append"))
        return self

    def __getitem__(self, index: int) -> Layer:
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Layer]:
        return iter(list(self._modules.values()))


class Sequential(LayerList):
    """y = f_L(... f_2(f_1(x))); backward applies the chain rule from f_L down to f_1.

    Shapes: x (N, D) -> y (N, C), whatever the first and last layers take and give.
    Parameters are named like ``"0.W"`` (layer index, then the layer's own name,
    as in PyTorch's ``state_dict``); ``train()``, ``eval()`` and ``zero_grad()``
    reach every layer.
    """

    def __init__(self, *layers: Layer):
        super().__init__(layers)

    @property
    def layers(self) -> list[Layer]:
        """The layers in order (a new list; the registered layers are the same objects)."""
        return list(self._modules.values())

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout
