"""The twins of multi-head attention, the Transformer layers, the encoder-decoder and the tiny GPT (chapter 18).

``torch.nn.MultiheadAttention`` keeps the three input projections transposed
and stacked in one matrix, and the output projection as a Linear; ours are
four ``Linear`` sublayers ``q_proj``, ``k_proj``, ``v_proj``, ``out_proj``:

    in_proj_weight (3E, E) = [q_proj.W.T; k_proj.W.T; v_proj.W.T]
    in_proj_bias (3E,) = [q_proj.b; k_proj.b; v_proj.b]
    out_proj.weight (E, E) = out_proj.W.T               out_proj.bias (E,) = out_proj.b

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
from dlbook.models.transformer_seq2seq import TransformerSeq2Seq
from dlbook.twins.registry import Ref, WeightMap, build, linear_refs, register, weight_map


def attention_projections(mha: MultiheadAttention) -> list[tuple[object, str, str]]:
    """(owner, weight key, bias key) of the q, k, v and output projections, in that order.

    Shapes: each weight (E, E) as used in ``x @ W``, each bias (E,) (absent
    when the layer has no bias). The owners are the Linear sublayers ``q_proj``,
    ``k_proj``, ``v_proj`` and ``out_proj``, with keys ``W`` and ``b``.
    """
    return [(getattr(mha, p), "W", "b") for p in PROJECTIONS]


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


class TransformerSeq2SeqTwin(nn.Module):
    """:class:`dlbook.models.transformer_seq2seq.TransformerSeq2Seq` around a ``torch.nn.Transformer``.

    Shapes: forward(src (N, S), tgt_in (N, T) LongTensors) -> logits (N, T, V),
    teacher forced. ``transformer`` is ``nn.Transformer(batch_first=True)``
    (its final ``encoder.norm`` and ``decoder.norm`` are our ``encoder_norm``
    and ``decoder_norm``), called with torch's causal ``tgt_mask`` (True = NOT
    allowed) and the source padding as ``src_key_padding_mask`` and
    ``memory_key_padding_mask``.
    """

    def __init__(self, model: TransformerSeq2Seq):
        super().__init__()
        c = model.config
        self.learned, self.pad_index = c["positional"] == "learned", model.pad_index
        self.src_emb, self.tgt_emb = build(model.src_emb), build(model.tgt_emb)
        if self.learned:
            self.src_pos, self.tgt_pos = build(model.src_pos), build(model.tgt_pos)
        else:  # the fixed sinusoids: a buffer that is not part of the state_dict
            pe = torch.as_tensor(np.asarray(model.pe, dtype=np.float64))
            self.register_buffer("pe", pe, persistent=False)
        self.transformer = nn.Transformer(
            c["d_model"], c["nhead"], c["num_encoder_layers"], c["num_decoder_layers"],
            c["dim_feedforward"], c["dropout"], layer_norm_eps=model.encoder_norm.eps,
            batch_first=True, norm_first=c["norm_first"])
        self.transformer.encoder.use_nested_tensor = False  # keep padded rows (as ours) in eval
        self.head = build(model.head)

    def _embed(self, side: str, ids):
        x = getattr(self, f"{side}_emb")(ids)  # (N, T, E)
        T = ids.shape[1]
        return x + (getattr(self, f"{side}_pos").weight[:T] if self.learned
                    else self.pe[:T].to(x.dtype))

    def forward(self, src, tgt_in):
        """src (N, S), tgt_in (N, T) int64 -> logits (N, T, V)."""
        T = tgt_in.shape[1]
        padding = src == self.pad_index  # (N, S), True = padding in torch too
        not_allowed = torch.ones(T, T, dtype=torch.bool, device=src.device).triu(1)
        h = self.transformer(self._embed("src", src), self._embed("tgt", tgt_in),
                             tgt_mask=not_allowed, src_key_padding_mask=padding,
                             memory_key_padding_mask=padding, tgt_is_causal=True)
        return self.head(h)


def _seq2seq_refs(model: TransformerSeq2Seq) -> WeightMap:
    refs = {}
    for side in ("src", "tgt"):
        refs.update(weight_map(getattr(model, f"{side}_emb"), f"{side}_emb."))
        if model.config["positional"] == "learned":
            refs.update(weight_map(getattr(model, f"{side}_pos"), f"{side}_pos."))
    for part in ("encoder", "decoder"):
        for i, layer in enumerate(getattr(model, f"{part}_layers")):
            refs.update(weight_map(layer, f"transformer.{part}.layers.{i}."))
        refs.update(weight_map(getattr(model, f"{part}_norm"), f"transformer.{part}.norm."))
    refs.update(weight_map(model.head, "head."))
    return refs


register(MultiheadAttention, _mha, _mha_refs)
register(TransformerEncoderLayer, lambda l: nn.TransformerEncoderLayer(**_layer_kwargs(l)),
         _transformer_refs)
register(TransformerDecoderLayer, lambda l: nn.TransformerDecoderLayer(**_layer_kwargs(l)),
         _transformer_refs)
register(GPT, GPTTwin, _gpt_refs)
register(TransformerSeq2Seq, TransformerSeq2SeqTwin, _seq2seq_refs)
