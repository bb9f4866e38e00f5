"""Residual networks and their plain twins, as in He et al. (2016), section 4.2 (chapter 10).

The CIFAR-10 networks of the paper, scaled by the caller:

    stem     conv3x3(C_in -> w_1)  BN  ReLU                            (N, w_1, S, S)
    stage 1  n blocks of width w_1                                     (N, w_1, S, S)
    stage 2  n blocks of width w_2, the first one strided by 2         (N, w_2, S/2, S/2)
    stage 3  n blocks of width w_3, the first one strided by 2         (N, w_3, S/4, S/4)
    global average pooling, Linear(w_3 -> num_classes)

Each block holds two 3x3 convolutions (:class:`dlbook.layers.residual.ResidualBlock`),
so the network has 2 n (number of stages) + 2 weighted layers: 6n + 2 for
three stages (8, 20, 32, 44, 56 ... layers for n = 1, 2, 3 ...). ``residual=False``
builds the *plain* network with exactly the same layers and no shortcuts,
the comparison of the paper's degradation experiment. Where a block changes
the width and the stride, the residual network's shortcut is a 1x1
convolution with BatchNorm (the paper's option B).

The network is a :class:`dlbook.layers.Sequential`, so ``dlbook.twins.to_torch``
turns it into the same ``torch.nn`` layers with the same weights.
"""

from __future__ import annotations

import numpy as np

from dlbook.layers import (
    AvgPool2d,
    BatchNorm2d,
    Flatten,
    Layer,
    Linear,
    ReLU,
    Sequential,
)
from dlbook.layers.conv import Conv2d
from dlbook.layers.residual import ResidualBlock
from dlbook.utils import make_rng

__all__ = ["depth_of", "resnet"]

SEED_BOUND = 2 ** 63
"""Each block draws its weights from its own generator, seeded by one draw below this bound
from the network's ``rng``: a plain network and a residual one built with the same seed
then share every weight they have in common (the shortcuts draw last, inside their block)."""


def _check_positive(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"resnet expected {name} to be a positive int; got {value!r}")
    return int(value)


def depth_of(num_blocks: int, stages: int = 3) -> int:
    """The number of weighted layers (convolutions on the main path and the Linear): 2 n stages + 2.

    Shapes: none. ``depth_of(3)`` = 20, ``depth_of(5)`` = 32 (chapter 10).
    """
    return 2 * _check_positive(num_blocks, "num_blocks") * _check_positive(stages, "stages") + 2


def resnet(num_blocks: int, widths: tuple[int, ...] = (16, 32, 64), in_channels: int = 3,
           num_classes: int = 10, input_size: int = 32, residual: bool = True,
           rng: int | np.random.Generator | None = None, dtype=np.float32) -> Sequential:
    """A ResNet (or, with ``residual=False``, its plain twin) of the module docstring (chapter 10).

    Shapes: x (N, in_channels, input_size, input_size) -> logits (N, num_classes).
    One stage per entry of ``widths``, ``num_blocks`` blocks per stage; every
    stage after the first halves the side (its first block has stride 2).
    Layers: ``[0]`` the stem convolution (no dx: its input is data), ``[1]``
    BN, ``[2]`` ReLU, then the blocks, then AvgPool2d over the whole final
    map, Flatten, Linear. Weights: He initialisation from ``rng``; with the same
    seed, ``residual=True`` and ``residual=False`` give the same weights for
    every layer the two networks share.
    """
    num_blocks = _check_positive(num_blocks, "num_blocks")
    in_channels = _check_positive(in_channels, "in_channels")
    num_classes = _check_positive(num_classes, "num_classes")
    input_size = _check_positive(input_size, "input_size")
    if not isinstance(widths, (tuple, list)) or not widths:
        raise ValueError(f"resnet expected widths to be a non-empty tuple of ints; got {widths!r}")
    widths = tuple(_check_positive(w, "every width") for w in widths)
    if input_size < 2 ** (len(widths) - 1):
        raise ValueError(f"resnet expected input_size >= {2 ** (len(widths) - 1)} for "
                         f"{len(widths)} stages (each after the first halves it); got {input_size}")
    rng = make_rng(rng, "resnet")
    layers: list[Layer] = [Conv2d(in_channels, widths[0], 3, padding=1, bias=False, rng=rng,
                                  dtype=dtype, input_grad=False),
                           BatchNorm2d(widths[0], dtype=dtype), ReLU()]
    side, c_in = input_size, widths[0]
    for stage, width in enumerate(widths):
        for block in range(num_blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            block_rng = np.random.default_rng(int(rng.integers(SEED_BOUND)))  # one draw per block
            layers.append(ResidualBlock(c_in, width, stride, residual=residual, rng=block_rng,
                                        dtype=dtype))
            side, c_in = (side + 1) // 2 if stride == 2 else side, width  # ceil(side / 2)
    layers += [AvgPool2d(side), Flatten(), Linear(c_in, num_classes, rng=rng, dtype=dtype)]
    return Sequential(*layers)
