"""PyTorch twins of the recurrent models, with our weights copied in (chapters 14-15 cross-checks).

torch stores a recurrent layer's weights transposed and split differently:
``weight_ih_l{k}`` = W_x^T (G H, D), ``weight_hh_l{k}`` = W_h^T (G H, H),
with G = 1 (RNN), 4 (LSTM, gates i, f, g, o) or 3 (GRU, gates r, z, n), and
two bias vectors. RNN and LSTM use only their sum, so ours (``b``) goes into
``bias_ih`` and ``bias_hh`` is set to 0; the GRU needs both, because the
hidden-side bias of its n gate is multiplied by r: ``bias_ih`` = b_x,
``bias_hh`` = b_h. torch is imported inside the functions only.
"""

from __future__ import annotations

import numpy as np

from dlbook.models.cells import torch_cell_name
from dlbook.models.rnnlm import RNNLM


def copy_cell_to_torch(layer, module, layer_index: int = 0, reverse: bool = False) -> None:
    """Overwrite the weights of layer ``layer_index`` of a torch RNN/LSTM/GRU with ours.

    ``reverse=True`` fills the ``_reverse`` weights of a bidirectional module.
    Shapes: ours W_x (D, G H), W_h (H, G H) -> torch (G H, D), (G H, H).
    """
    import torch

    suffix = f"_l{layer_index}" + ("_reverse" if reverse else "")
    p = layer.params
    values = {"weight_ih": p["W_x"].T, "weight_hh": p["W_h"].T}
    if "b_x" in p:  # GRU: two separate biases
        values.update(bias_ih=p["b_x"], bias_hh=p["b_h"])
    elif "b" in p:
        values.update(bias_ih=p["b"], bias_hh=np.zeros_like(p["b"]))
    with torch.no_grad():
        for name, value in values.items():
            target = getattr(module, name + suffix)
            target.copy_(torch.as_tensor(np.ascontiguousarray(value), dtype=target.dtype))


def rnnlm_to_torch(model: RNNLM, device: str = "cpu"):
    """A float64 ``torch.nn.Module`` computing the same logits as ``model`` (evaluation mode).

    nn.Embedding -> nn.RNN/LSTM/GRU(num_layers, batch_first=True) -> nn.Linear, with
    every weight copied; a tied model gets ``decoder.weight = embedding.weight``.
    Its ``forward(ids (N, T) LongTensor)`` returns logits (N, T, V). Dropout is
    left out: compare the two models in evaluation mode.
    """
    import torch
    from torch import nn

    class TorchRNNLM(nn.Module):
        def __init__(self):
            super().__init__()
            V, E, H = model.vocab_size, model.embedding_dim, model.hidden_size
            self.embedding = nn.Embedding(V, E)
            rnn_class = getattr(nn, torch_cell_name(model.cell))
            self.rnn = rnn_class(E, H, num_layers=model.num_layers, batch_first=True)
            self.decoder = nn.Linear(H, V)
            if model.tie_weights:
                self.decoder.weight = self.embedding.weight

        def forward(self, ids):
            out, _ = self.rnn(self.embedding(ids))
            return self.decoder(out)

    twin = TorchRNNLM().double()
    with torch.no_grad():
        twin.embedding.weight.copy_(torch.as_tensor(model.embedding.params["W"]))
        for k, layer in enumerate(model.rnn):
            copy_cell_to_torch(layer, twin.rnn, layer_index=k)
        if not model.tie_weights:
            twin.decoder.weight.copy_(torch.as_tensor(model.fc.params["W"].T))
        twin.decoder.bias.copy_(torch.as_tensor(model.fc.params["b"]))
    return twin.to(device).eval()
