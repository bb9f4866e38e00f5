"""PyTorch twins of the sequence-to-sequence models, with the numpy weights copied (chapters 16-17).

The same program written twice: ``torch.nn.Embedding``, ``torch.nn.LSTM`` (or
``GRU``) and ``torch.nn.Linear`` wired exactly as
:class:`dlbook.models.seq2seq.Seq2Seq` (and, for
:class:`dlbook.models.attention_seq2seq.AttentionSeq2Seq`, the attention step
done by ``torch.nn.functional.scaled_dot_product_attention``). Autograd then
gives the gradients that the numpy backward passes must reproduce.

Name map (ours -> torch): embedding W = weight; LSTM W_x = weight_ih_l0.T,
W_h = weight_hh_l0.T, b = bias_ih_l0 (bias_hh_l0 = 0); GRU b_x = bias_ih_l0,
b_h = bias_hh_l0; Linear W = weight.T, b = bias. torch is imported inside the
functions only.
"""

from __future__ import annotations

import numpy as np

from dlbook.layers.lstm import LSTM


def _torch_rnn(rnn, device, dtype):
    """A torch LSTM/GRU holding a copy of a dlbook LSTM/GRU's weights."""
    import torch

    cls = torch.nn.LSTM if isinstance(rnn, LSTM) else torch.nn.GRU
    twin = cls(rnn.input_size, rnn.hidden_size, batch_first=True, device=device, dtype=dtype)
    p = rnn.params
    with torch.no_grad():
        twin.weight_ih_l0.copy_(torch.as_tensor(p["W_x"].T.copy()))
        twin.weight_hh_l0.copy_(torch.as_tensor(p["W_h"].T.copy()))
        if isinstance(rnn, LSTM):
            twin.bias_ih_l0.copy_(torch.as_tensor(p["b"]))
            twin.bias_hh_l0.zero_()
        else:
            twin.bias_ih_l0.copy_(torch.as_tensor(p["b_x"]))
            twin.bias_hh_l0.copy_(torch.as_tensor(p["b_h"]))
    return twin


def _rnn_grads(rnn, twin) -> dict[str, np.ndarray]:
    g = {"W_x": twin.weight_ih_l0.grad.T, "W_h": twin.weight_hh_l0.grad.T}
    if isinstance(rnn, LSTM):
        g["b"] = twin.bias_ih_l0.grad
    else:
        g["b_x"], g["b_h"] = twin.bias_ih_l0.grad, twin.bias_hh_l0.grad
    return {k: v.detach().cpu().numpy() for k, v in g.items()}


def _torch_linear(layer, device, dtype):
    import torch

    D, H = layer.params["W"].shape
    twin = torch.nn.Linear(D, H, device=device, dtype=dtype)
    with torch.no_grad():
        twin.weight.copy_(torch.as_tensor(layer.params["W"].T.copy()))
        twin.bias.copy_(torch.as_tensor(layer.params["b"]))
    return twin


def _torch_embedding(layer, device, dtype):
    import torch

    twin = torch.nn.Embedding(layer.num_embeddings, layer.embedding_dim,
                              padding_idx=layer.padding_idx, device=device, dtype=dtype)
    with torch.no_grad():
        twin.weight.copy_(torch.as_tensor(layer.params["W"]))
    return twin


def torch_seq2seq_loss(model, src: np.ndarray, tgt: np.ndarray, device: str = "cpu",
                       dtype=None) -> tuple[float, dict[str, np.ndarray]]:
    """The teacher-forced loss computed by a torch twin of ``model``, and its gradients.

    The loss is our ``SequenceCrossEntropyLoss(ignore_index=pad)`` of
    ``model(src, tgt[:, :-1])`` and ``tgt[:, 1:]``. Shapes: src (N, Ts), tgt
    (N, Tt) whole target rows ``<bos> ... <eos>`` -> (loss, {name: gradient})
    with our parameter names ("encoder.rnn.W_x", ...) and shapes.
    ``dtype`` defaults to float64. Works for ``Seq2Seq`` (plain, reversed,
    peeky; LSTM or GRU) and ``AttentionSeq2Seq``. Chapters 16 and 17.
    """
    import torch
    import torch.nn.functional as TF

    from dlbook.models.attention_seq2seq import AttentionSeq2Seq, source_mask

    dtype = torch.float64 if dtype is None else dtype
    attention = isinstance(model, AttentionSeq2Seq)
    ids, lengths = model.prepare_source(src)  # validation and reversal as in numpy
    enc, dec = model.encoder, model.decoder
    mods = {"encoder.embed": _torch_embedding(enc.embed, device, dtype),
            "encoder.rnn": _torch_rnn(enc.rnn, device, dtype),
            "decoder.embed": _torch_embedding(dec.embed, device, dtype),
            "decoder.rnn": _torch_rnn(dec.rnn, device, dtype),
            "decoder.out": _torch_linear(dec.out, device, dtype)}
    src_t = torch.as_tensor(ids, device=device)
    tgt_t = torch.as_tensor(np.asarray(tgt, dtype=np.int64), device=device)
    rows = torch.arange(len(ids), device=device)
    enc_out, _ = mods["encoder.rnn"](mods["encoder.embed"](src_t))  # (N, Ts, H)
    context = enc_out[rows, torch.as_tensor(lengths - 1, device=device)]  # (N, H)
    x = mods["decoder.embed"](tgt_t[:, :-1])  # teacher forcing
    T = x.shape[1]
    peek = context[:, None, :].expand(-1, T, -1)
    if model.peeky:
        x = torch.cat([x, peek], dim=2)
    h0 = context[None]  # (1, N, H): torch keeps a layer axis
    state = (h0, torch.zeros_like(h0)) if isinstance(enc.rnn, LSTM) else h0
    h, _ = mods["decoder.rnn"](x, state)
    if attention:
        mask = torch.as_tensor(source_mask(lengths, ids.shape[1]), device=device)
        ctx = TF.scaled_dot_product_attention(h, enc_out, enc_out, attn_mask=mask,
                                              scale=dec.scale)
        z = torch.cat([ctx, h], dim=2)
    else:
        z = torch.cat([h, peek], dim=2) if model.peeky else h
    logits = mods["decoder.out"](z)
    loss = TF.cross_entropy(logits.reshape(-1, logits.shape[2]), tgt_t[:, 1:].reshape(-1),
                            ignore_index=model.pad_index)
    loss.backward()
    grads = {}
    for name, mod in mods.items():
        if name.endswith("rnn"):
            part = _rnn_grads(enc.rnn if name.startswith("encoder") else dec.rnn, mod)
        elif name.endswith("embed"):
            part = {"W": mod.weight.grad.detach().cpu().numpy()}
        else:
            part = {"W": mod.weight.grad.T.detach().cpu().numpy(),
                    "b": mod.bias.grad.detach().cpu().numpy()}
        grads.update({f"{name}.{k}": v for k, v in part.items()})
    return float(loss.item()), grads
