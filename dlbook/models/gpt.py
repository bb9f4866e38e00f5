"""A tiny decoder-only Transformer language model ("tiny GPT") in numpy, and its PyTorch twin (chapter 18).

    x_0 = token_embedding(ids) + position(0..T-1)
    x_l = PreNormBlock_l(x_{l-1}, causal mask),  l = 1..L
    logits = LayerNorm(x_L) W_head + b_head

Each block is a :class:`dlbook.layers.transformer.TransformerEncoderLayer`
with ``norm_first=True`` and ``is_causal=True``: position t only attends to
positions <= t, so the logits at t are a prediction of token t + 1 from the
prefix, and one forward pass trains all T predictions at once.

``gpt_torch(**model.config)`` builds the same network from ``torch.nn``
layers, and :func:`copy_gpt_to_torch` / :func:`copy_torch_to_gpt` move the
weights across (parameter names follow PyTorch's ``state_dict``), for the
cross-check and for larger runs on a GPU.
"""

from __future__ import annotations

import numpy as np

from dlbook.layers.base import Layer
from dlbook._checks import check_positive_int
from dlbook.functional import softmax
from dlbook.layers.container import LayerList
from dlbook.layers.embedding import Embedding
from dlbook.layers.linear import Linear
from dlbook.layers.multihead import MultiheadAttention
from dlbook.layers.norm import LayerNorm
from dlbook.layers.positional import PositionalEncoding
from dlbook.layers.transformer import TransformerEncoderLayer
from dlbook.utils import make_rng

INIT_STD = 0.02
"""Every weight matrix and embedding starts as N(0, INIT_STD^2), biases at 0 (GPT-2's recipe);
the matrices that write into the residual stream (W_o, linear2) get INIT_STD / sqrt(2 L)."""

FF_MULTIPLIER = 4
"""dim_feedforward defaults to FF_MULTIPLIER * d_model, as in the Transformer and GPT papers."""

POSITIONAL = ("learned", "sinusoidal")


class GPT(Layer):
    """logits = head(LayerNorm(blocks(embed(ids) + pos))), causal self-attention in every block.

    Shapes: ids (N, T) integers in [0, V), T <= block_size -> logits (N, T, V).
    backward(dlogits (N, T, V)) -> None (ids have no gradient). Sublayers
    ``tok_emb``, ``pos_emb`` (learned positions only), ``blocks.i``, ``ln_f``,
    ``head``. ``positional="sinusoidal"`` uses the fixed encoding instead of a
    learned table. Initialisation: see ``INIT_STD`` (Radford et al., 2019). Chapter 18.
    """

    def __init__(self, vocab_size: int, block_size: int, d_model: int = 64, nhead: int = 4,
                 num_layers: int = 2, dim_feedforward: int | None = None, dropout: float = 0.0,
                 positional: str = "learned",
                 rng: int | np.random.Generator | None = None, dtype=np.float32):
        super().__init__()
        if positional not in POSITIONAL:
            raise ValueError(f"GPT expected positional in {POSITIONAL}; got {positional!r}")
        dim_feedforward = FF_MULTIPLIER * d_model if dim_feedforward is None else dim_feedforward
        self.config = dict(vocab_size=check_positive_int(vocab_size, "GPT", "vocab_size"),
                           block_size=check_positive_int(block_size, "GPT", "block_size"),
                           d_model=d_model, nhead=nhead,
                           num_layers=check_positive_int(num_layers, "GPT", "num_layers"),
                           dim_feedforward=dim_feedforward, dropout=dropout, positional=positional)
        rng = make_rng(rng, "GPT")
        self.tok_emb = Embedding(vocab_size, d_model, rng=rng, dtype=dtype)
        if positional == "learned":
            self.pos_emb = Embedding(block_size, d_model, rng=rng, dtype=dtype)
        else:
            self.pos_emb = PositionalEncoding(d_model, max_len=block_size, dtype=dtype)
        self.blocks = LayerList(TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                                        norm_first=True, rng=rng, dtype=dtype)
                                for _ in range(num_layers))
        self.ln_f = LayerNorm(d_model, dtype=dtype)
        self.head = Linear(d_model, vocab_size, rng=rng, dtype=dtype)
        self._init_weights(rng)

    def _init_weights(self, rng: np.random.Generator) -> None:
        """N(0, INIT_STD^2) weights, N(0, (INIT_STD / sqrt(2 L))^2) for residual outputs."""
        residual_std = INIT_STD / np.sqrt(2 * self.config["num_layers"])
        for name, p in self.params.items():
            if name.endswith((".W", "W_q", "W_k", "W_v", "W_o")):
                std = residual_std if name.endswith(("W_o", "linear2.W")) else INIT_STD
                p[...] = rng.normal(0.0, std, p.shape)

    def forward(self, ids: np.ndarray) -> np.ndarray:
        """Next-token logits at every position. Shapes: (N, T) -> (N, T, V)."""
        ids = np.asarray(ids)
        if ids.ndim != 2 or not 1 <= ids.shape[1] <= self.config["block_size"]:
            raise ValueError(f"GPT.forward expected ids of shape (N, T) with 1 <= T <= block_size "
                             f"= {self.config['block_size']}; got shape {ids.shape}")
        x = self.tok_emb(ids)  # (N, T, E)
        if self.config["positional"] == "learned":
            x = x + self.pos_emb(np.arange(ids.shape[1]))  # (T, E) broadcasts over N
        else:
            x = self.pos_emb(x)
        for block in self.blocks:
            x = block(x, is_causal=True)
        return self.head(self.ln_f(x))

    def backward(self, dlogits: np.ndarray) -> None:
        """Accumulate every parameter gradient from dlogits (N, T, V); returns None."""
        dx = self.ln_f.backward(self.head.backward(dlogits))
        for block in reversed(self.blocks):
            dx = block.backward(dx)
        if self.config["positional"] == "learned":
            self.pos_emb.backward(dx.sum(axis=0))  # the position rows are shared by the batch
        else:
            dx = self.pos_emb.backward(dx)
        self.tok_emb.backward(dx)
        return None

    def generate(self, ids: np.ndarray, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None,
                 rng: int | np.random.Generator | None = None) -> np.ndarray:
        """Append max_new_tokens sampled tokens, each from softmax(logits / temperature).

        Shapes: ids (T0,) or (N, T0) -> (T0 + max_new_tokens,) or (N, T0 + max_new_tokens).
        Only the last block_size tokens are fed back; ``top_k`` keeps the k most
        likely tokens. Runs in evaluation mode and restores the mode afterwards.
        """
        ids = np.asarray(ids, dtype=np.int64)
        squeeze = ids.ndim == 1
        ids = ids[None] if squeeze else ids
        check_positive_int(max_new_tokens, "GPT.generate", "max_new_tokens")
        if not temperature > 0:
            raise ValueError(f"GPT.generate expected temperature > 0; got {temperature}")
        rng, was_training = make_rng(rng, "GPT.generate"), self.training
        self.eval()
        try:
            for _ in range(max_new_tokens):
                logits = self.forward(ids[:, -self.config["block_size"]:])[:, -1]  # (N, V)
                logits = logits.astype(np.float64) / temperature
                if top_k is not None and top_k < logits.shape[-1]:
                    kth = np.sort(logits, axis=-1)[:, -top_k][:, None]
                    logits = np.where(logits < kth, -np.inf, logits)
                cdf = np.cumsum(softmax(logits), axis=-1)  # inverse-CDF sampling
                u = rng.random((len(ids), 1)) * cdf[:, -1:]
                nxt = np.minimum((cdf < u).sum(axis=-1), logits.shape[-1] - 1)
                ids = np.concatenate([ids, nxt[:, None]], axis=1)
        finally:
            self.train(was_training)
        return ids[0] if squeeze else ids

    def __repr__(self) -> str:
        c = self.config
        return (f"GPT(vocab_size={c['vocab_size']}, block_size={c['block_size']}, "
                f"d_model={c['d_model']}, nhead={c['nhead']}, num_layers={c['num_layers']}, "
                f"positional={c['positional']!r})")


# ---------------------------------------------------------------------------
# PyTorch names for our parameters (numpy only) and the twin (imports torch)

def _multihead_pieces(mha: MultiheadAttention, prefix: str) -> dict[str, list[np.ndarray]]:
    """torch name -> our arrays in torch's orientation (views: W.T), stacked along axis 0 by torch."""
    p = mha.params
    pieces = {prefix + "in_proj_weight": [p["W_q"].T, p["W_k"].T, p["W_v"].T],
              prefix + "out_proj.weight": [p["W_o"].T]}
    if "b_q" in p:
        pieces[prefix + "in_proj_bias"] = [p["b_q"], p["b_k"], p["b_v"]]
        pieces[prefix + "out_proj.bias"] = [p["b_o"]]
    return pieces


def _encoder_layer_pieces(layer: TransformerEncoderLayer, prefix: str) -> dict[str, list[np.ndarray]]:
    pieces = _multihead_pieces(layer.self_attn, prefix + "self_attn.")
    for name in ("linear1", "linear2"):
        lin = getattr(layer.ff, name)
        pieces[f"{prefix}{name}.weight"] = [lin.params["W"].T]
        pieces[f"{prefix}{name}.bias"] = [lin.params["b"]]
    for i, norm in enumerate(layer.norms, start=1):
        pieces[f"{prefix}norm{i}.weight"] = [norm.params["gamma"]]
        pieces[f"{prefix}norm{i}.bias"] = [norm.params["beta"]]
    return pieces


def _gpt_pieces(model: GPT) -> dict[str, list[np.ndarray]]:
    pieces = {"tok_emb.weight": [model.tok_emb.params["W"]]}
    if model.config["positional"] == "learned":
        pieces["pos_emb.weight"] = [model.pos_emb.params["W"]]
    for i, block in enumerate(model.blocks):
        pieces.update(_encoder_layer_pieces(block, f"blocks.{i}."))
    pieces.update({"ln_f.weight": [model.ln_f.params["gamma"]], "ln_f.bias": [model.ln_f.params["beta"]],
                   "head.weight": [model.head.params["W"].T], "head.bias": [model.head.params["b"]]})
    return pieces


def _joined(pieces: dict[str, list[np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: v[0] if len(v) == 1 else np.concatenate(v) for k, v in pieces.items()}


def multihead_state_dict(mha: MultiheadAttention, prefix: str = "") -> dict[str, np.ndarray]:
    """Our W_q..b_o under torch.nn.MultiheadAttention's names: in_proj_weight =
    concat(W_q.T, W_k.T, W_v.T), in_proj_bias = concat(b_q, b_k, b_v), out_proj = W_o.T, b_o."""
    return _joined(_multihead_pieces(mha, prefix))


def encoder_layer_state_dict(layer: TransformerEncoderLayer,
                             prefix: str = "") -> dict[str, np.ndarray]:
    """A TransformerEncoderLayer's parameters under torch.nn.TransformerEncoderLayer's names
    (linear1/linear2 = ff.linear1/ff.linear2 transposed; norm weight/bias = gamma/beta)."""
    return _joined(_encoder_layer_pieces(layer, prefix))


def gpt_state_dict(model: GPT) -> dict[str, np.ndarray]:
    """Every parameter of ``model`` under the names of ``gpt_torch(**model.config).state_dict()``."""
    return _joined(_gpt_pieces(model))


def gpt_torch(vocab_size: int, block_size: int, d_model: int = 64, nhead: int = 4,
              num_layers: int = 2, dim_feedforward: int | None = None, dropout: float = 0.0,
              positional: str = "learned"):
    """The same network as :class:`GPT` from torch.nn layers (a torch.nn.Module; imports torch).

    Shapes: ids (N, T) LongTensor -> logits (N, T, V). Blocks are
    ``torch.nn.TransformerEncoderLayer(batch_first=True, norm_first=True)``
    with the bool causal mask in torch's convention (True = not allowed).
    """
    import torch
    from torch import nn

    dim_feedforward = FF_MULTIPLIER * d_model if dim_feedforward is None else dim_feedforward

    class TorchGPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok_emb = nn.Embedding(vocab_size, d_model)
            if positional == "learned":
                self.pos_emb = nn.Embedding(block_size, d_model)
            else:
                pe = torch.as_tensor(PositionalEncoding(d_model, block_size, dtype=np.float64).pe)
                self.register_buffer("pe", pe, persistent=False)  # float64; cast at use
            self.blocks = nn.ModuleList(nn.TransformerEncoderLayer(
                d_model, nhead, dim_feedforward, dropout, batch_first=True, norm_first=True)
                for _ in range(num_layers))
            self.ln_f = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, vocab_size)

        def forward(self, ids):
            T = ids.shape[1]
            x = self.tok_emb(ids)
            pos = self.pos_emb.weight[:T] if positional == "learned" else self.pe[:T].to(x.dtype)
            x = x + pos
            not_allowed = torch.ones(T, T, dtype=torch.bool, device=ids.device).triu(1)
            for block in self.blocks:
                x = block(x, src_mask=not_allowed, is_causal=True)
            return self.head(self.ln_f(x))

    return TorchGPT()


def copy_gpt_to_torch(model: GPT, module) -> None:
    """Overwrite the torch twin's parameters with ours (keeps its device and dtype)."""
    import torch

    own = module.state_dict()
    with torch.no_grad():
        for name, value in gpt_state_dict(model).items():
            own[name].copy_(torch.as_tensor(np.ascontiguousarray(value)))


def copy_torch_to_gpt(module, model: GPT) -> None:
    """Overwrite our parameters in place with the torch twin's (e.g. after training it on a GPU)."""
    own = module.state_dict()
    for name, pieces in _gpt_pieces(model).items():
        value = own[name].detach().cpu().numpy()
        for piece, part in zip(pieces, np.split(value, len(pieces))):  # in_proj: q, k, v rows
            piece[...] = part  # a view (W.T) writes through to W
