"""The twins of chapter 19's models with their own forward: the unpooling autoencoder, the VAE.

Each twin holds the torch module of every numpy sublayer under the same
name (``conv1``, ``pool1``, ``unpool1`` ...; ``enc``, ``fc_mu``, ``dec`` ...),
so the weight maps are the sublayers' own, prefixed, and ``forward`` is the
numpy ``forward`` written in torch: ``torch.nn.MaxPool2d(return_indices=True)``
hands its switches to ``torch.nn.MaxUnpool2d``, and the VAE takes its noise
``eps`` as an input, as ours does.
"""

from __future__ import annotations

import torch
from torch import nn

from dlbook.models.autoencoder import UnpoolAutoencoder
from dlbook.models.vae import VAE
from dlbook.twins.registry import WeightMap, build, register, weight_map


class _ChildrenTwin(nn.Module):
    """A module with the torch twin of each of ``model``'s sublayers, under the same names."""

    def __init__(self, model) -> None:
        super().__init__()
        for name, sub in model.named_children():
            self.add_module(name, build(sub))


def _children_weights(model) -> WeightMap:
    """Every sublayer's weight map, its names prefixed with the sublayer's name."""
    refs: WeightMap = {}
    for name, sub in model.named_children():
        refs.update(weight_map(sub, f"{name}."))
    return refs


class UnpoolAutoencoderTwin(_ChildrenTwin):
    """:class:`dlbook.models.autoencoder.UnpoolAutoencoder` in torch.nn (chapter 19).

    Shapes: x (N, 1, H, W), H and W multiples of 4 -> (N, 1, H, W).
    """

    def encode(self, x):
        """x (N, 1, H, W) -> (code (N, c, H/4, W/4), switches (s1, s2)), as the numpy encode."""
        h, s1 = self.pool1(self.relu1(self.conv1(x)))
        code, s2 = self.pool2(self.relu2(self.conv2(h)))
        return code, (s1, s2)

    def decode(self, code, switches):
        """(code, (s1, s2)) -> (N, 1, H, W): unpool, conv, unpool, conv."""
        s1, s2 = switches
        h = self.relu3(self.conv3(self.unpool2(code, s2)))
        return self.sigmoid(self.conv4(self.unpool1(h, s1)))

    def forward(self, x):
        """decode(encode(x)). (N, 1, H, W) -> (N, 1, H, W)."""
        return self.decode(*self.encode(x))


class VAETwin(_ChildrenTwin):
    """:class:`dlbook.models.vae.VAE` in torch.nn (chapter 19).

    Shapes: x (N, D), eps (N, L) -> (logits (N, D), mu (N, L), logvar (N, L)).
    """

    def forward(self, x, eps):
        """z = mu + exp(logvar / 2) eps, then the decoder's logits."""
        h = self.enc_relu(self.enc(x))
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        return self.dec(mu + torch.exp(0.5 * logvar) * eps), mu, logvar


register(UnpoolAutoencoder, UnpoolAutoencoderTwin, _children_weights)
register(VAE, VAETwin, _children_weights)
