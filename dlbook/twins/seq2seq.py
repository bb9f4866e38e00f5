"""The twins of the encoder-decoder models (chapters 16-17).

The same program written twice: ``torch.nn.Embedding``, a batch-first
``torch.nn.LSTM`` (or ``GRU``) and ``torch.nn.Linear`` wired exactly as
:class:`dlbook.models.seq2seq.Seq2Seq`, under the same names
(``encoder.embed``, ``encoder.rnn``, ``decoder.embed``, ``decoder.rnn``,
``decoder.out``); for :class:`dlbook.models.attention_seq2seq.AttentionSeq2Seq`
the attention step is ``torch.nn.functional.scaled_dot_product_attention``
with the bool mask True = real source token (the same convention as ours).
"""

from __future__ import annotations

import torch
import torch.nn.functional as TF
from torch import nn

from dlbook.models.attention_seq2seq import AttentionSeq2Seq
from dlbook.models.seq2seq import Seq2Seq
from dlbook.twins.registry import WeightMap, build, register, weight_map

PARTS = {"encoder": ("embed", "rnn"), "decoder": ("embed", "rnn", "out")}
"""The sublayers of the encoder and the decoder, named as in numpy and in the twin."""


def reverse_padded(ids, lengths):
    """Reverse the first lengths[n] ids of row n, padding left in place. (N, T), (N,) -> (N, T)."""
    t = torch.arange(ids.shape[1], device=ids.device)[None, :]
    L = lengths[:, None]
    return torch.gather(ids, 1, torch.where(t < L, L - 1 - t, t))


class Seq2SeqTwin(nn.Module):
    """:class:`dlbook.models.seq2seq.Seq2Seq` in torch.nn (plain, reversed, peeky; LSTM or GRU).

    Shapes: forward(src (N, Ts), tgt_in (N, Tt) LongTensors) -> logits (N, Tt, V),
    teacher forced, as ``Seq2Seq.forward``. The decoder starts from the
    encoder's hidden state at each source's last real token (c_0 = 0).
    """

    def __init__(self, model: Seq2Seq):
        super().__init__()
        for part, names in PARTS.items():
            layers = getattr(model, part)
            self.add_module(part, nn.ModuleDict({n: build(getattr(layers, n)) for n in names}))
        self.pad_index, self.reverse_source, self.peeky = (model.pad_index, model.reverse_source,
                                                           model.peeky)

    def forward(self, src, tgt_in):
        """src (N, S), tgt_in (N, T) int64 -> logits (N, T, V)."""
        lengths = (src != self.pad_index).sum(dim=1)  # (N,)
        if self.reverse_source:
            src = reverse_padded(src, lengths)
        enc_out, _ = self.encoder["rnn"](self.encoder["embed"](src))  # (N, Ts, H)
        context = enc_out[torch.arange(len(src), device=src.device), lengths - 1]  # (N, H)
        x = self.decoder["embed"](tgt_in)  # (N, Tt, E)
        peek = context[:, None, :].expand(-1, x.shape[1], -1)  # (N, Tt, H)
        if self.peeky:
            x = torch.cat([x, peek], dim=2)
        h0 = context[None]  # (1, N, H): torch keeps a layer axis
        state = (h0, torch.zeros_like(h0)) if isinstance(self.decoder["rnn"], nn.LSTM) else h0
        h, _ = self.decoder["rnn"](x, state)  # (N, Tt, H)
        return self.decoder["out"](self.features(h, enc_out, lengths, peek))

    def features(self, h, enc_out, lengths, peek):
        """What the output layer reads: h, or [h; context] when peeky. (N, Tt, H or 2H)."""
        return torch.cat([h, peek], dim=2) if self.peeky else h


class AttentionSeq2SeqTwin(Seq2SeqTwin):
    """:class:`dlbook.models.attention_seq2seq.AttentionSeq2Seq` in torch.nn.

    Shapes: as :class:`Seq2SeqTwin`; the output layer reads [c_t; h_t] (N, Tt, 2H)
    with c = scaled_dot_product_attention(h, enc_out, enc_out) over the real tokens.
    """

    def __init__(self, model: AttentionSeq2Seq):
        super().__init__(model)
        self.scale = model.decoder.scale

    def features(self, h, enc_out, lengths, peek):
        real = torch.arange(enc_out.shape[1], device=h.device)[None, :] < lengths[:, None]
        ctx = TF.scaled_dot_product_attention(h, enc_out, enc_out, attn_mask=real[:, None, :],
                                              scale=self.scale)  # (N, Tt, H)
        return torch.cat([ctx, h], dim=2)


def _seq2seq_refs(model: Seq2Seq) -> WeightMap:
    refs: WeightMap = {}
    for part, names in PARTS.items():
        for name in names:
            refs.update(weight_map(getattr(getattr(model, part), name), f"{part}.{name}."))
    return refs


register(Seq2Seq, Seq2SeqTwin, _seq2seq_refs)
register(AttentionSeq2Seq, AttentionSeq2SeqTwin, _seq2seq_refs)
