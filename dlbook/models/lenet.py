"""A LeNet-style convolutional network for 28x28 digits (chapters 10 and 11).

Two convolution + pooling stages extract local features; three fully
connected layers classify them. It follows the layout of LeNet-5
(LeCun et al., 1998) with ReLU and max-pooling in place of the original
scaled tanh and trainable sub-sampling.
"""

from __future__ import annotations

import numpy as np

from dlbook.layers import Flatten, Linear, MaxPool2d, ReLU, Sequential
from dlbook.layers.conv import Conv2d
from dlbook.utils import make_rng


def lenet5(num_classes: int = 10, channels: tuple[int, int] = (6, 16), hidden: tuple[int, int] = (120, 84),
           rng: int | np.random.Generator | None = None, dtype=np.float32) -> Sequential:
    """LeNet-style CNN: conv5x5-relu-pool, conv5x5-relu-pool, then three linear layers.

    Shapes: x (N, 1, 28, 28) -> logits (N, num_classes). The first convolution
    pads by 2 so the 28x28 input keeps its size; feature maps are then
    c1 x 14 x 14 after pooling, c2 x 10 x 10 after the second convolution and
    c2 x 5 x 5 after the second pooling, flattened to 25 * c2 numbers.
    The first layer skips dx (its input is data), as PyTorch does.
    """
    rng = make_rng(rng, "lenet5")
    c1, c2 = channels
    h1, h2 = hidden
    return Sequential(
        Conv2d(1, c1, 5, padding=2, rng=rng, dtype=dtype, input_grad=False),  # (N, c1, 28, 28)
        ReLU(),
        MaxPool2d(2),                                                          # (N, c1, 14, 14)
        Conv2d(c1, c2, 5, rng=rng, dtype=dtype),                               # (N, c2, 10, 10)
        ReLU(),
        MaxPool2d(2),                                                          # (N, c2, 5, 5)
        Flatten(),                                                             # (N, 25 * c2)
        Linear(25 * c2, h1, rng=rng, dtype=dtype),
        ReLU(),
        Linear(h1, h2, rng=rng, dtype=dtype),
        ReLU(),
        Linear(h2, num_classes, rng=rng, dtype=dtype),
    )
