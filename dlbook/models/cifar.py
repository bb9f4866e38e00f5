"""A small VGG-style CNN for CIFAR-10 in numpy and PyTorch, and a full training run (chapter 10).

The architecture, for 32x32 colour images and a base width w (32 by default):

    conv3x3(3 -> w)   [BN] ReLU  conv3x3(w -> w)   [BN] ReLU  maxpool2   (N, w, 16, 16)
    conv3x3(w -> 2w)  [BN] ReLU  conv3x3(2w -> 2w) [BN] ReLU  maxpool2   (N, 2w, 8, 8)
    flatten (N, 128 w)  linear(128 w -> hidden) ReLU  linear(hidden -> 10)

Every convolution pads by 1, so it keeps the size and only the pools halve it;
stacking two 3x3 convolutions before each pool gives a 5x5 receptive field with
fewer parameters than one 5x5 layer (Simonyan and Zisserman, 2015). [BN] is an
optional batch normalisation of every channel.

:func:`cifar_net` builds the numpy network (a :class:`dlbook.layers.Sequential`);
``dlbook.twins.to_torch`` turns it into the same layers in ``torch.nn``, with
its weights, so the two can be checked against each other. Training on the
50,000 CIFAR-10 images is too slow for numpy on a CPU; :func:`dlbook.torch_models.cifar.train_cifar_torch`
does it with that twin in PyTorch (on a GPU when present), with random pad-4 crops and horizontal flips
from :mod:`dlbook.data.augment`. Its test accuracy is not measured in the
book; run the training to measure it (the book quotes no number it has not
computed).

:func:`resnet_cifar` is the second design, behind the same full-data switch:
the residual network of He et al. (2016) for CIFAR-10 (6n + 2 layers, widths
16-32-64, global average pooling; :mod:`dlbook.models.resnet`), ResNet-20 for
n = 3.
"""

from __future__ import annotations

import numpy as np

from dlbook.layers import BatchNorm2d, Flatten, Layer, Linear, MaxPool2d, ReLU, Sequential
from dlbook.layers.conv import Conv2d
from dlbook.models.resnet import resnet
from dlbook.utils import make_rng

CIFAR_SHAPE = (3, 32, 32)
"""Channels, height, width of one CIFAR-10 image."""


def _plan(width: int, hidden: int, num_classes: int, batch_norm: bool) -> list[tuple]:
    """The architecture as a list of (kind, sizes...) steps."""
    for name, value in (("width", width), ("hidden", hidden), ("num_classes", num_classes)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"cifar_net expected {name} to be a positive int; got {value!r}")
    steps: list[tuple] = []
    c_in = CIFAR_SHAPE[0]
    for c_out in (width, 2 * width):  # two stages: two convolutions, then a pool
        for _ in range(2):
            steps += [("conv", c_in, c_out)] + ([("bn", c_out)] if batch_norm else []) + [("relu",)]
            c_in = c_out
        steps.append(("pool",))
    side = CIFAR_SHAPE[1] // 4  # two 2x2 pools: 32 -> 8
    steps += [("flatten",), ("linear", c_in * side * side, hidden), ("relu",),
              ("linear", hidden, num_classes)]
    return steps


def cifar_net(rng: int | np.random.Generator | None = None, dtype=np.float32, width: int = 32,
              hidden: int = 256, num_classes: int = 10, batch_norm: bool = True) -> Sequential:
    """The CIFAR-10 CNN of the module docstring in numpy (chapter 10).

    Shapes: x (N, 3, 32, 32) -> logits (N, num_classes). Weights are drawn with
    He initialisation from ``rng``; the first convolution skips dx (its input
    is data). With width 32: 32-32-pool-64-64-pool, then 4096 -> 256 -> 10.
    """
    rng = make_rng(rng, "cifar_net")
    layers: list[Layer] = []
    for step in _plan(width, hidden, num_classes, batch_norm):
        kind = step[0]
        if kind == "conv":
            layers.append(Conv2d(step[1], step[2], 3, padding=1, rng=rng, dtype=dtype,
                                 input_grad=bool(layers)))
        elif kind == "bn":
            layers.append(BatchNorm2d(step[1], dtype=dtype))
        elif kind == "linear":
            layers.append(Linear(step[1], step[2], rng=rng, dtype=dtype))
        else:
            layers.append({"relu": ReLU, "pool": lambda: MaxPool2d(2), "flatten": Flatten}[kind]())
    return Sequential(*layers)


def resnet_cifar(num_blocks: int = 3, rng: int | np.random.Generator | None = None,
                 dtype=np.float32, width: int = 16, num_classes: int = 10) -> Sequential:
    """The CIFAR-10 ResNet of He et al. (2016): 6 num_blocks + 2 layers, widths w-2w-4w (chapter 10).

    Shapes: x (N, 3, 32, 32) -> logits (N, num_classes). ``num_blocks=3`` is
    ResNet-20 (about 0.27 million parameters with ``width=16``); the stages
    work on 32x32, 16x16 and 8x8 maps, then global average pooling and one
    Linear layer. :func:`dlbook.models.resnet.resnet` builds it.
    """
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f"resnet_cifar expected width to be a positive int; got {width!r}")
    return resnet(num_blocks, (width, 2 * width, 4 * width), in_channels=CIFAR_SHAPE[0],
                  num_classes=num_classes, input_size=CIFAR_SHAPE[1], rng=rng, dtype=dtype)
