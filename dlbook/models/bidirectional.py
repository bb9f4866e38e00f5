"""A bidirectional recurrent layer: one pass left to right, one right to left, concatenated (chapter 15).

At step t the forward layer has read x_1 .. x_t and the backward layer x_T .. x_t,
so their concatenation summarises the whole sequence around t:

    out_t = [ h_t^fwd ; h_t^bwd ],   h^fwd = cell_f(x_1..x_T),   h^bwd = reverse(cell_b(reverse(x))).

Running the second cell on the time-reversed sequence and reversing its output
back is all there is to it; the backward pass does the same in reverse and
adds the two input gradients. It fits tasks that see the whole sequence at
once (tagging, classification, an encoder), never a language model, whose
prediction at t must not see x_{t+1}.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import check_positive_int
from dlbook.layers.base import Layer
from dlbook.models.cells import check_cell, make_cell
from dlbook.utils import make_rng


class Bidirectional(Layer):
    """out = concat(fwd(x), flip(bwd(flip(x)))) along the features (chapter 15).

    Shapes: x (N, T, D) -> out (N, T, 2H); the first H features come from the
    left-to-right layer. Sequences must not be padded (the reversal would put
    the padding first). Parameters are named ``fwd.W_x`` ..., ``bwd.W_x`` ...
    PyTorch: ``torch.nn.LSTM(D, H, bidirectional=True, batch_first=True)``,
    whose ``*_reverse`` weights are those of ``bwd``.
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int,
                 rng: int | np.random.Generator | None = None, dtype=np.float32):
        super().__init__()
        self.cell = check_cell(cell, "Bidirectional")
        D = check_positive_int(input_size, "Bidirectional", "input_size")
        self.hidden_size = check_positive_int(hidden_size, "Bidirectional", "hidden_size")
        rng = make_rng(rng, "Bidirectional")
        self.fwd = make_cell(self.cell, D, self.hidden_size, rng=rng, dtype=dtype)
        self.bwd = make_cell(self.cell, D, self.hidden_size, rng=rng, dtype=dtype)
        self._NT = None  # (N, T) of the latest forward

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Both directions from zero states. Shapes: (N, T, D) -> (N, T, 2H)."""
        out_f = self.fwd.forward(x)  # (N, T, H); checks x
        out_b = self.bwd.forward(np.asarray(x)[:, ::-1])[:, ::-1]  # reversed in, reversed back
        self._NT = out_f.shape[:2]
        return np.concatenate([out_f, out_b], axis=2)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dx = dx_fwd + flip(dx_bwd). Shapes: dout (N, T, 2H) -> dx (N, T, D)."""
        H = self.hidden_size
        dout = self._check_dout(dout, self._cached(self._NT) + (2 * H,))
        dx_f = self.fwd.backward(dout[:, :, :H])
        dx_b = self.bwd.backward(np.ascontiguousarray(dout[:, ::-1, H:]))  # in reversed time
        return dx_f + dx_b[:, ::-1]

    def __repr__(self) -> str:
        return (f"Bidirectional(cell={self.cell!r}, input_size={self.fwd.input_size}, "
                f"hidden_size={self.hidden_size})")
