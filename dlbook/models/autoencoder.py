"""A small convolutional autoencoder for 28x28 digits, in numpy and in PyTorch (chapter 19).

The encoder halves the image twice and squeezes it into a few channels; the
decoder doubles it twice back to one channel of grey levels in (0, 1)::

    encoder  conv3x3(1 -> w) ReLU maxpool2        (N, w, 14, 14)
             conv3x3(w -> c) ReLU maxpool2        (N, c, 7, 7)   the code: 49 c numbers
    decoder  up2(c -> w) ReLU                     (N, w, 14, 14)
             up2(w -> 1) Sigmoid                  (N, 1, 28, 28)

With c = 4 the code holds 196 numbers for 784 pixels: a bottleneck that
forces the network to keep what matters. ``up2`` is a learned upsampling,
either a stride-2 transposed convolution (``decoder="transpose"``: kernel 3,
padding 1, output_padding 1) or a fixed 2x upsampling followed by a 3x3
convolution (``decoder="nearest"`` or ``"bilinear"``).

:func:`conv_autoencoder` builds the numpy network from :mod:`dlbook.layers`;
``dlbook.twins.to_torch`` gives the same layers in ``torch.nn`` and
``dlbook.twins.copy_weights`` copies the parameters either way, so the twins
can be checked against each other, and
:func:`dlbook.torch_models.autoencoder.train_autoencoder_torch` trains the PyTorch one (the working tool from chapter 19 on).

:class:`UnpoolAutoencoder` has the same encoder and a decoder that undoes each
pooling with :class:`~dlbook.layers.unpool.MaxUnpool2d`, fed the *switches*
(argmax indices) its pooling layer recorded, each unpooling followed by a
3x3 convolution (SegNet's decoder, in miniature).
"""

from __future__ import annotations

import numpy as np

from dlbook.layers import Layer, MaxPool2d, ReLU, Sequential, Sigmoid
from dlbook.layers.conv import Conv2d
from dlbook.layers.conv_transpose import ConvTranspose2d
from dlbook.layers.unpool import MaxUnpool2d
from dlbook.layers.upsample import Upsample
from dlbook.utils import make_rng

DIGIT_SHAPE = (1, 28, 28)
"""Channels, height, width of one digit image."""
DECODERS = ("transpose", "nearest", "bilinear")
"""The upsampling choices of the decoder."""
ENCODER_LAYERS = 6
"""The first six layers (two conv-ReLU-pool stages) form the encoder; the rest decode."""


def _plan(code_channels: int, width: int, decoder: str) -> list[tuple]:
    """The architecture as (kind, arguments...) steps."""
    for name, value in (("code_channels", code_channels), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"conv_autoencoder expected {name} to be a positive int; "
                             f"got {value!r}")
    if decoder not in DECODERS:
        raise ValueError(f"conv_autoencoder expected decoder to be one of {DECODERS}; "
                         f"got {decoder!r}")
    steps = [("conv", 1, width), ("relu",), ("pool",),
             ("conv", width, code_channels), ("relu",), ("pool",)]
    for c_in, c_out in ((code_channels, width), (width, 1)):
        if decoder == "transpose":
            steps.append(("convT", c_in, c_out))
        else:
            steps += [("up", decoder), ("conv", c_in, c_out)]
        steps.append(("relu",) if c_out == width else ("sigmoid",))
    return steps


def conv_autoencoder(code_channels: int = 4, width: int = 16, decoder: str = "transpose",
                     rng: int | np.random.Generator | None = None, dtype=np.float32) -> Sequential:
    """The autoencoder of the module docstring in numpy (chapter 19).

    Shapes: x (N, 1, 28, 28) in [0, 1] -> reconstruction (N, 1, 28, 28) in (0, 1);
    the code after layer ``ENCODER_LAYERS`` is (N, code_channels, 7, 7).
    Weights come from ``rng`` (He initialisation); the first convolution skips
    dx, since its input is data.
    """
    rng = make_rng(rng, "conv_autoencoder")
    layers: list[Layer] = []
    for kind, *args in _plan(code_channels, width, decoder):
        if kind == "conv":
            layers.append(Conv2d(*args, 3, padding=1, rng=rng, dtype=dtype,
                                 input_grad=bool(layers)))
        elif kind == "convT":
            layers.append(ConvTranspose2d(*args, 3, stride=2, padding=1, output_padding=1,
                                          rng=rng, dtype=dtype))
        elif kind == "up":
            layers.append(Upsample(2, mode=args[0]))
        else:
            layers.append({"relu": ReLU, "sigmoid": Sigmoid, "pool": lambda: MaxPool2d(2)}[kind]())
    return Sequential(*layers)


def encoder_decoder(model) -> tuple:
    """Split an autoencoder (numpy or torch Sequential) into (encoder, decoder) sharing its layers.

    Shapes: encoder (N, 1, 28, 28) -> code (N, c, 7, 7); decoder code -> (N, 1, 28, 28) (chapter 19).
    """
    layers = list(model)
    if len(layers) <= ENCODER_LAYERS:
        raise ValueError(f"encoder_decoder expected an autoencoder with more than "
                         f"{ENCODER_LAYERS} layers; got {len(layers)}")
    if isinstance(model, Sequential):
        return Sequential(*layers[:ENCODER_LAYERS]), Sequential(*layers[ENCODER_LAYERS:])
    return model[:ENCODER_LAYERS], model[ENCODER_LAYERS:]  # torch.nn.Sequential slices


class UnpoolAutoencoder(Layer):
    """The conv autoencoder with a max-unpooling decoder that reuses the encoder's switches (chapter 19).

    ::

        encoder  conv1 3x3 (1 -> w) ReLU  pool1 2x2, keeps switches s1   (N, w, H/2, W/2)
                 conv2 3x3 (w -> c) ReLU  pool2 2x2, keeps switches s2   (N, c, H/4, W/4): the code
        decoder  unpool2(code, s2)  conv3 3x3 (c -> w) ReLU             (N, w, H/2, W/2)
                 unpool1(., s1)     conv4 3x3 (w -> 1) Sigmoid          (N, 1, H, W)

    Shapes: x (N, 1, H, W) with H and W multiples of 4 -> reconstruction (N, 1, H, W);
    :meth:`encode` gives (code, (s1, s2)) and :meth:`decode` needs both: the
    decoder reads the positions of the maxima, not just the code. Weights come
    from ``rng`` (He initialisation) in the order conv1 .. conv4. ``backward``
    returns dx (the switches are piecewise constant in x: no gradient flows
    through them).
    """

    def __init__(self, code_channels: int = 4, width: int = 16,
                 rng: int | np.random.Generator | None = None, dtype=np.float32) -> None:
        super().__init__()
        _plan(code_channels, width, "transpose")  # the same argument checks
        rng = make_rng(rng, "UnpoolAutoencoder")
        conv = lambda c_in, c_out: Conv2d(c_in, c_out, 3, padding=1, rng=rng, dtype=dtype)
        self.conv1, self.relu1, self.pool1 = (conv(1, width), ReLU(),
                                              MaxPool2d(2, return_indices=True))
        self.conv2, self.relu2, self.pool2 = (conv(width, code_channels), ReLU(),
                                              MaxPool2d(2, return_indices=True))
        self.unpool2, self.conv3, self.relu3 = MaxUnpool2d(2), conv(code_channels, width), ReLU()
        self.unpool1, self.conv4, self.sigmoid = MaxUnpool2d(2), conv(width, 1), Sigmoid()

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """x (N, 1, H, W) -> (code (N, c, H/4, W/4), switches (s1 (N, w, H/2, W/2), s2 like code))."""
        x = np.asarray(x)
        if x.ndim != 4 or x.shape[1] != 1 or x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(f"UnpoolAutoencoder expected x of shape (N, 1, H, W) with H and W "
                             f"multiples of 4; got shape {x.shape}")
        h, s1 = self.pool1(self.relu1(self.conv1(x)))
        code, s2 = self.pool2(self.relu2(self.conv2(h)))
        return code, (s1, s2)

    def decode(self, code: np.ndarray, switches: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """(code (N, c, h, w), (s1, s2)) -> reconstruction (N, 1, 4h, 4w): unpool, conv, unpool, conv."""
        s1, s2 = switches
        h = self.relu3(self.conv3(self.unpool2(code, s2)))
        return self.sigmoid(self.conv4(self.unpool1(h, s1)))

    def forward(self, x: np.ndarray) -> np.ndarray:
        """decode(encode(x)). (N, 1, H, W) -> (N, 1, H, W)."""
        return self.decode(*self.encode(x))

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dx by the chain rule in reverse: each unpooling gathers, each pooling scatters back."""
        for layer in (self.sigmoid, self.conv4, self.unpool1, self.relu3, self.conv3, self.unpool2,
                      self.pool2, self.relu2, self.conv2, self.pool1, self.relu1, self.conv1):
            dout = layer.backward(dout)
        return dout
