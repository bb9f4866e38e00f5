"""The twins of RNN, LSTM, GRU, the bidirectional layer and the recurrent language model (chapters 14-15).

torch.nn's recurrent layers (``batch_first=True``) store each weight
transposed, (G H, D), and keep two bias vectors, with G = 1 (RNN), 4 (LSTM,
gates i, f, g, o) or 3 (GRU, gates r, z, n), in the same order as ours:

    dlbook               torch.nn (layer k; "_reverse" for the backward direction)
    W_x                  weight_ih_lk.T
    W_h                  weight_hh_lk.T
    b  (RNN, LSTM)       bias_ih_lk + bias_hh_lk   (only their sum enters the math)
    b_x, b_h (GRU)       bias_ih_lk, bias_hh_lk    (b_hn sits inside the reset: not mergeable)

Copying ours into torch puts b in ``bias_ih`` and zeros in ``bias_hh``; copying
back stores their sum. The language model's twin is Embedding -> one
``num_layers`` RNN/LSTM/GRU -> Linear, with the output weight tied to the
embedding when ours is.
"""

from __future__ import annotations

from torch import nn

from dlbook.layers.gru import GRU
from dlbook.layers.lstm import LSTM
from dlbook.layers.rnn import RNN
from dlbook.models.bidirectional import Bidirectional
from dlbook.models.rnnlm import RNNLM
from dlbook.twins.registry import Ref, WeightMap, build, register, weight_map

TORCH_CLASSES = {RNN: nn.RNN, LSTM: nn.LSTM, GRU: nn.GRU}
"""Our recurrent layer -> the torch.nn class of its twin."""


def cell_refs(cell, suffix: str = "_l0") -> WeightMap:
    """One recurrent layer's weights under torch's names for layer/direction ``suffix``.

    Shapes: W_x (D, G H) -> weight_ih (G H, D), W_h (H, G H) -> weight_hh
    (G H, H); biases (G H,) as in the module docstring.
    """
    refs: WeightMap = {f"weight_ih{suffix}": (Ref(cell, "W_x", True),),
                       f"weight_hh{suffix}": (Ref(cell, "W_h", True),)}
    if "b_x" in cell._params:  # GRU: two separate biases
        refs[f"bias_ih{suffix}"], refs[f"bias_hh{suffix}"] = (Ref(cell, "b_x"),), (Ref(cell, "b_h"),)
    elif "b" in cell._params:  # RNN, LSTM: torch's two biases add up to ours
        refs[f"bias_ih{suffix}"] = refs[f"bias_hh{suffix}"] = (Ref(cell, "b"),)
    return refs


def torch_recurrent(cell, input_size: int | None = None, **kwargs) -> nn.Module:
    """The batch-first ``torch.nn.RNN``/``LSTM``/``GRU`` with ``cell``'s sizes, bias and nonlinearity."""
    cls = next(torch_cls for ours, torch_cls in TORCH_CLASSES.items() if isinstance(cell, ours))
    if cls is nn.RNN:
        kwargs["nonlinearity"] = cell.nonlinearity
    return cls(cell.input_size if input_size is None else input_size, cell.hidden_size,
               bias=cell.bias, batch_first=True, **kwargs)


def _stacked_cells(model: RNNLM) -> WeightMap:
    refs: WeightMap = {}
    for k, cell in enumerate(model.rnn):
        refs.update({"rnn." + name: r for name, r in cell_refs(cell, f"_l{k}").items()})
    return refs


class RNNLMTwin(nn.Module):
    """:class:`dlbook.models.rnnlm.RNNLM` in torch.nn: embedding -> dropout -> rnn -> dropout -> fc.

    Shapes: ids (N, T) LongTensor -> logits (N, T, V). ``rnn`` is one
    ``num_layers`` batch-first RNN/LSTM/GRU (torch's dropout between its
    layers); with ``tie_weights`` ``fc.weight`` is ``embedding.weight``.
    """

    def __init__(self, model: RNNLM):
        super().__init__()
        self.embedding = build(model.embedding)
        self.rnn = torch_recurrent(model.rnn[0], num_layers=model.num_layers,
                                   dropout=model.dropout if model.num_layers > 1 else 0.0)
        self.drop = nn.Dropout(model.dropout)
        self.fc = nn.Linear(model.hidden_size, model.vocab_size, bias="b" in model.fc._params)
        if model.tie_weights:
            self.fc.weight = self.embedding.weight

    def forward(self, ids):
        """ids (N, T) int64 -> logits (N, T, V)."""
        out, _ = self.rnn(self.drop(self.embedding(ids)))  # (N, T, H)
        return self.fc(self.drop(out))


def _rnnlm_refs(model: RNNLM) -> WeightMap:
    refs = {**weight_map(model.embedding, "embedding."), **_stacked_cells(model)}
    if not model.tie_weights:
        refs["fc.weight"] = (Ref(model.fc, "W", True),)
    if "b" in model.fc._params:
        refs["fc.bias"] = (Ref(model.fc, "b"),)
    return refs


def _bidirectional(layer: Bidirectional) -> nn.Module:
    return torch_recurrent(layer.fwd, bidirectional=True)


for _ours in TORCH_CLASSES:
    register(_ours, torch_recurrent, cell_refs)
register(Bidirectional, _bidirectional,
         lambda l: {**cell_refs(l.fwd, "_l0"), **cell_refs(l.bwd, "_l0_reverse")})
register(RNNLM, RNNLMTwin, _rnnlm_refs)
