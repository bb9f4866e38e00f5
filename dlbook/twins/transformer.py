"""The twins of multi-head attention, the Transformer layers and the tiny GPT (chapter 18).

``torch.nn.MultiheadAttention`` keeps the three input projections transposed
and stacked in one matrix, and the output projection as a Linear:

    in_proj_weight (3E, E) = [W_q.T; W_k.T; W_v.T]    in_proj_bias (3E,) = [b_q; b_k; b_v]
    out_proj.weight (E, E) = W_o.T                     out_proj.bias (E,) = b_o

Only :func:`attention_projections` knows where our four projections live.
``torch.nn.TransformerEncoderLayer`` / ``DecoderLayer`` (``batch_first=True``)
name the feed-forward Linears ``linear1``/``linear2`` (ours: ``ff.linear1``/
``ff.linear2``); ``self_attn``, ``multihead_attn`` and ``norm1..3`` are named
as ours. Careful with masks: torch reads a bool ``attn_mask`` as True = NOT
allowed (ours: True = may attend), so pass it ``~mask``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dlbook.layers.multihead import PROJECTIONS, MultiheadAttention
from dlbook.layers.transformer import TransformerDecoderLayer, TransformerEncoderLayer
from dlbook.models.gpt import GPT
from dlbook.twins.registry import Ref, WeightMap, build, linear_refs, register, weight_map


def attention_projections(mha: MultiheadAttention) -> list[tuple[object, str, str]]:
    """(owner, weight key, bias key) of the q, k, v and output projections, in that order.

    Shapes: each weight (E, E) as used in ``x @ W``, each bias (E,) (absent
    when the layer has no bias). Ours are ``W_q`` ... ``W_o`` and ``b_q`` ... ``b_o``.
    """
    return [(mha, f"W_{p}", f"b_{p}") for p in PROJECTIONS]


def _has_bias(mha: MultiheadAttention) -> bool:
    owner, _, b = attention_projections(mha)[3]
    return b in owner._params


def _mha_refs(mha: MultiheadAttention) -> WeightMap:
    q, k, v, o = attention_projections(mha)
    refs = {"in_proj_weight": tuple(Ref(owner, w, True) for owner, w, _ in (q, k, v)),
            "out_proj.weight": (Ref(o[0], o[1], True),)}
    if _has_bias(mha):
        refs["in_proj_bias"] = tuple(Ref(owner, b) for owner, _, b in (q, k, v))
        refs["out_proj.bias"] = (Ref(o[0], o[2]),)
    return refs


def _mha(mha: MultiheadAttention) -> nn.Module:
    return nn.MultiheadAttention(mha.embed_dim, mha.num_heads, bias=_has_bias(mha),
                                 batch_first=True)


def _layer_kwargs(layer) -> dict:
    return dict(d_model=layer.d_model, nhead=layer.nhead,
                dim_feedforward=layer.ff.linear1.out_features, dropout=layer.ff.dropout.p,
                layer_norm_eps=layer.norms[0].eps, batch_first=True, norm_first=layer.norm_first)


def _transformer_refs(layer) -> WeightMap:
    refs = weight_map(layer.self_attn, "self_attn.")
    if hasattr(layer, "multihead_attn"):
        refs.update(weight_map(layer.multihead_attn, "multihead_attn."))
    refs.update(linear_refs(layer.ff.linear1, "linear1."))
    refs.update(linear_refs(layer.ff.linear2, "linear2."))
    for i, norm in enumerate(layer.norms, start=1):
        refs.update(weight_map(norm, f"norm{i}."))
    return refs


class GPTTwin(nn.Module):
    """:class:`dlbook.models.gpt.GPT` in torch.nn: the same sublayer names, pre-norm encoder blocks.

    Shapes: ids (N, T) LongTensor, T <= block_size -> logits (N, T, V). Each
    block is ``torch.nn.TransformerEncoderLayer(batch_first=True,
    norm_first=True)`` run with the causal mask in torch's convention.
    """

    def __init__(self, model: GPT):
        super().__init__()
        self.learned = model.config["positional"] == "learned"
        self.tok_emb = build(model.tok_emb)
        if self.learned:
            self.pos_emb = build(model.pos_emb)
        else:  # the fixed sinusoids: a buffer that is not part of the state_dict
            pe = torch.as_tensor(np.asarray(model.pos_emb.pe, dtype=np.float64))
            self.register_buffer("pe", pe, persistent=False)
        self.blocks = nn.ModuleList(build(block) for block in model.blocks)
        self.ln_f = build(model.ln_f)
        self.head = build(model.head)

    def forward(self, ids):
        """ids (N, T) int64 -> logits (N, T, V)."""
        T = ids.shape[1]
        x = self.tok_emb(ids)  # (N, T, E)
        x = x + (self.pos_emb.weight[:T] if self.learned else self.pe[:T].to(x.dtype))
        not_allowed = torch.ones(T, T, dtype=torch.bool, device=ids.device).triu(1)
        for block in self.blocks:
            x = block(x, src_mask=not_allowed, is_causal=True)
        return self.head(self.ln_f(x))


def _gpt_refs(model: GPT) -> WeightMap:
    refs = weight_map(model.tok_emb, "tok_emb.")
    if model.config["positional"] == "learned":
        refs.update(weight_map(model.pos_emb, "pos_emb."))
    for i, block in enumerate(model.blocks):
        refs.update(weight_map(block, f"blocks.{i}."))
    refs.update(weight_map(model.ln_f, "ln_f."))
    refs.update(weight_map(model.head, "head."))
    return refs


register(MultiheadAttention, _mha, _mha_refs)
register(TransformerEncoderLayer, lambda l: nn.TransformerEncoderLayer(**_layer_kwargs(l)),
         _transformer_refs)
register(TransformerDecoderLayer, lambda l: nn.TransformerDecoderLayer(**_layer_kwargs(l)),
         _transformer_refs)
register(GPT, GPTTwin, _gpt_refs)
