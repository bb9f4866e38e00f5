"""Receptive fields of a stack of convolution and pooling layers (chapter 10).

Follow one axis (the height) through a stack of sliding-window layers, each
with kernel size k, stride s, padding p and dilation d; its window spans
k_eff = d (k - 1) + 1 input positions. Three numbers describe where a unit of
layer l looks in the *input image*:

* the **jump** j_l: how many input pixels apart two neighbouring units of
  layer l are, j_l = j_{l-1} s_l (strides multiply);
* the **size** r_l: how many input pixels one unit sees,
  r_l = r_{l-1} + (k_eff - 1) j_{l-1} (each extra window cell adds one
  neighbour of the layer below, which sits j_{l-1} pixels further on);
* the **start** c_l: the input coordinate of the centre of the first unit's
  field, c_l = c_{l-1} + ((k_eff - 1) / 2 - p) j_{l-1}.

The input itself is r_0 = 1, j_0 = 1, c_0 = 0. Layers without a window (ReLU,
BatchNorm, Dropout) change none of the three. A Flatten or Linear layer mixes
every position, so the walk stops there. Unit i of layer l is centred on input
pixel c_l + i j_l and sees the r_l pixels around it (some of them padding).
"""

from __future__ import annotations

from typing import Iterable, NamedTuple

STOP_LAYERS = ("Flatten", "Linear", "GlobalMaxPool1d")
"""Layer class names that mix all positions: the receptive field walk ends before them."""


class ReceptiveField(NamedTuple):
    """One row of :func:`receptive_field`: a layer and where its units look in the input.

    ``size`` and ``jump`` are in input pixels; ``start`` is the input coordinate of
    the centre of unit 0's field; ``out_size`` is the layer's output length along
    the axis (None when no ``input_size`` was given).
    """

    name: str
    size: int
    jump: int
    start: float
    out_size: int | None


def _axis_value(value, axis: int, where: str, name: str, minimum: int) -> int:
    """An int, or the ``axis`` entry of a pair, checked to be an int >= ``minimum``."""
    item = value[axis] if isinstance(value, (tuple, list)) else value
    if isinstance(item, bool) or not isinstance(item, int) and not hasattr(item, "__index__"):
        raise TypeError(f"{where} expected {name} to be an int or a pair of ints; got {value!r}")
    if int(item) < minimum:
        raise ValueError(f"{where} expected {name} >= {minimum}; got {value!r}")
    return int(item)


def _window(layer, index: int, axis: int) -> tuple[str, tuple[int, int, int, int]] | None:
    """(name, (kernel, stride, padding, dilation)) of a layer, a tuple spec, or None (no window).

    A tuple spec is ``(name, kernel, stride, padding)`` or ``(name, kernel, stride,
    padding, dilation)``; a layer object needs a ``kernel_size`` attribute (Conv2d,
    MaxPool2d, AvgPool2d, ...), its ``stride`` defaulting to 1 and ``padding`` to 0.
    """
    where = "receptive_field"
    if isinstance(layer, tuple):
        if len(layer) not in (4, 5) or not isinstance(layer[0], str):
            raise ValueError(f"{where} expected a layer spec (name, kernel, stride, padding"
                             f"[, dilation]) at position {index}; got {layer!r}")
        name, raw = layer[0], (tuple(layer[1:]) + (1,))[:4]
    elif hasattr(layer, "kernel_size"):
        name = type(layer).__name__
        raw = (layer.kernel_size, getattr(layer, "stride", 1), getattr(layer, "padding", 0),
               getattr(layer, "dilation", 1))
    elif hasattr(layer, "forward"):
        return None
    else:
        raise TypeError(f"{where} expected layers or (name, kernel, stride, padding) tuples; "
                        f"got {type(layer).__name__} at position {index}")
    names, minima = ("kernel", "stride", "padding", "dilation"), (1, 1, 0, 1)
    return name, tuple(_axis_value(v, axis, where, n, m) for v, n, m in zip(raw, names, minima))


def receptive_field(layers: Iterable, input_size: int | None = None,
                    axis: int = 0) -> list[ReceptiveField]:
    """Receptive field size, jump and start after every windowed layer of a stack (chapter 10).

    Shapes: ``layers`` is a Sequential or any iterable of layers and
    ``(name, kernel, stride, padding[, dilation])`` tuples; the result has one
    :class:`ReceptiveField` per layer that has a window (convolutions and
    pools), in order. ``axis`` 0 follows the height, 1 the width (they differ
    only for non-square kernels). With ``input_size`` each row also gets the
    layer's output length floor((n + 2 p - k_eff) / s) + 1.

    Example: two 3x3 convolutions with stride 1 see 5 input pixels,
    ``receptive_field([("conv", 3, 1, 1), ("conv", 3, 1, 1)])[-1].size == 5``.
    """
    if axis not in (0, 1):
        raise ValueError(f"receptive_field expected axis 0 (height) or 1 (width); got {axis!r}")
    if input_size is not None:
        input_size = _axis_value(input_size, 0, "receptive_field", "input_size", 1)
    size, jump, start, n = 1, 1, 0.0, input_size
    rows: list[ReceptiveField] = []
    for index, layer in enumerate(layers):
        if type(layer).__name__ in STOP_LAYERS:
            break
        window = _window(layer, index, axis)
        if window is None:
            continue
        name, (k, s, p, d) = window
        span = d * (k - 1) + 1  # input positions of the layer below that one window covers
        size, start = size + (span - 1) * jump, start + ((span - 1) / 2 - p) * jump
        jump *= s
        if n is not None:
            n = (n + 2 * p - span) // s + 1
            if n < 1:
                raise ValueError(f"receptive_field: layer {index} ({name}) does not fit its "
                                 f"input: window {span} with padding {p} on a length leaving "
                                 f"no output (input_size={input_size})")
        rows.append(ReceptiveField(name, size, jump, start, n))
    return rows
