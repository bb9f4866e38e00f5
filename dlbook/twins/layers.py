"""The twins of the feed-forward layers and of ``Sequential`` (chapters 5-12, 19).

Name map (ours -> ``torch.nn``), everything else is torch's layout already:

    Linear                W (D, H) -> weight (H, D) = W.T,  b -> bias
    Conv1d, Conv2d        W -> weight, b -> bias            (F, C, k...) in both
    ConvTranspose2d       W -> weight, b -> bias            (C_in, C_out, kh, kw) in both
    BatchNorm1d/2d        gamma, beta -> weight, bias; running_mean, running_var as they are
    LayerNorm             gamma, beta -> weight, bias
    Embedding(Bag)        W (V, E) -> weight
    Sequential            layer i -> module i (names "i.weight", ...), each by the registry
    ResidualBlock         conv1, bn1, conv2, bn2, shortcut.0, shortcut.1 -> the same names

Layers without parameters (activations, pooling, unpooling, Flatten, Upsample,
Dropout) map to the torch module of the same name and settings.
"""

from __future__ import annotations

from torch import nn

from dlbook.layers.activation import ReLU, Sigmoid, Tanh
from dlbook.layers.container import Sequential
from dlbook.layers.conv import Conv2d
from dlbook.layers.conv1d import Conv1d
from dlbook.layers.conv_transpose import ConvTranspose2d
from dlbook.layers.dropout import Dropout
from dlbook.layers.embedding import Embedding, EmbeddingBag
from dlbook.layers.linear import Linear
from dlbook.layers.norm import BatchNorm1d, BatchNorm2d, LayerNorm
from dlbook.layers.pool import AvgPool2d, MaxPool2d
from dlbook.layers.pool1d import MaxPool1d
from dlbook.layers.reshape import Flatten
from dlbook.layers.residual import ResidualBlock
from dlbook.layers.unpool import MaxUnpool2d
from dlbook.layers.upsample import Upsample
from dlbook.twins.registry import Ref, WeightMap, build, linear_refs, register, weight_map


def _has_bias(layer) -> bool:
    return "b" in layer._params


def _weight_and_bias(layer) -> WeightMap:
    """W -> weight and b -> bias, no transpose (convolutions: torch's layout already)."""
    refs = {"weight": (Ref(layer, "W"),)}
    if _has_bias(layer):
        refs["bias"] = (Ref(layer, "b"),)
    return refs


def _affine(layer) -> WeightMap:
    """gamma -> weight, beta -> bias (when the layer is affine)."""
    if "gamma" not in layer._params:
        return {}
    return {"weight": (Ref(layer, "gamma"),), "bias": (Ref(layer, "beta"),)}


def _batch_norm(layer) -> WeightMap:
    return {**_affine(layer), "running_mean": (Ref(layer, "running_mean"),),
            "running_var": (Ref(layer, "running_var"),)}


def _sequential(layer: Sequential) -> WeightMap:
    refs: WeightMap = {}
    for i, sub in enumerate(layer):
        refs.update(weight_map(sub, f"{i}."))
    return refs


def _upsample(layer: Upsample) -> nn.Module:
    align = layer.align_corners if layer.mode != "nearest" else None  # torch: linear modes only
    return nn.Upsample(scale_factor=tuple(float(s) for s in layer.scale_factor), mode=layer.mode,
                       align_corners=align)


register(Linear, lambda l: nn.Linear(l.in_features, l.out_features, bias=_has_bias(l)), linear_refs)
register(Conv1d, lambda l: nn.Conv1d(l.in_channels, l.out_channels, l.kernel_size, l.stride,
                                     l.padding, l.dilation, bias=_has_bias(l)), _weight_and_bias)
register(Conv2d, lambda l: nn.Conv2d(l.in_channels, l.out_channels, l.kernel_size, l.stride,
                                     l.padding, l.dilation, bias=_has_bias(l)), _weight_and_bias)
register(ConvTranspose2d,
         lambda l: nn.ConvTranspose2d(l.in_channels, l.out_channels, l.kernel_size, l.stride,
                                      l.padding, l.output_padding, bias=_has_bias(l),
                                      dilation=l.dilation), _weight_and_bias)
register(BatchNorm1d, lambda l: nn.BatchNorm1d(l.num_features, l.eps, l.momentum, l.affine),
         _batch_norm)
register(BatchNorm2d, lambda l: nn.BatchNorm2d(l.num_features, l.eps, l.momentum, l.affine),
         _batch_norm)
register(LayerNorm, lambda l: nn.LayerNorm(l.normalized_shape, l.eps, l.affine), _affine)
register(Embedding, lambda l: nn.Embedding(l.num_embeddings, l.embedding_dim, l.padding_idx),
         lambda l: {"weight": (Ref(l, "W"),)})
register(EmbeddingBag, lambda l: nn.EmbeddingBag(l.num_embeddings, l.embedding_dim, mode=l.mode,
                                                 padding_idx=l.padding_idx),
         lambda l: {"weight": (Ref(l, "W"),)})
register(Dropout, lambda l: nn.Dropout(l.p))
register(ReLU, lambda l: nn.ReLU())
register(Sigmoid, lambda l: nn.Sigmoid())
register(Tanh, lambda l: nn.Tanh())
register(MaxPool2d, lambda l: nn.MaxPool2d(l.kernel_size, l.stride, l.padding,
                                           return_indices=l.return_indices))
register(MaxUnpool2d, lambda l: nn.MaxUnpool2d(l.kernel_size, l.stride, l.padding))
register(AvgPool2d, lambda l: nn.AvgPool2d(l.kernel_size, l.stride, l.padding))
register(MaxPool1d, lambda l: nn.MaxPool1d(l.kernel_size, l.stride, l.padding))
register(Flatten, lambda l: nn.Flatten(l.start_dim, l.end_dim))
register(Upsample, _upsample)
register(Sequential, lambda l: nn.Sequential(*(build(sub) for sub in l)), _sequential)


class ResidualBlockTwin(nn.Module):
    """:class:`dlbook.layers.residual.ResidualBlock` in torch.nn, with the same sublayer names (chapter 10).

    Shapes: x (N, C_in, H, W) -> (N, C_out, H_out, W_out).
    """

    def __init__(self, block: ResidualBlock):
        super().__init__()
        self.conv1, self.bn1 = build(block.conv1), build(block.bn1)
        self.conv2, self.bn2 = build(block.conv2), build(block.bn2)
        self.shortcut = None if block.shortcut is None else build(block.shortcut)
        self.residual = block.residual

    def forward(self, x):
        """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); no sum when not residual."""
        s = self.bn2(self.conv2(nn.functional.relu(self.bn1(self.conv1(x)))))
        if self.residual:
            s = s + (x if self.shortcut is None else self.shortcut(x))
        return nn.functional.relu(s)


def _residual_block(block: ResidualBlock) -> WeightMap:
    refs: WeightMap = {}
    for name in ("conv1", "bn1", "conv2", "bn2", "shortcut"):
        sub = getattr(block, name)
        if sub is not None:
            refs.update(weight_map(sub, f"{name}."))
    return refs


register(ResidualBlock, ResidualBlockTwin, _residual_block)
