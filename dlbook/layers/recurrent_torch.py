"""PyTorch twins of RNN, LSTM and GRU: the weight mapping, both ways (chapters 14-15).

torch.nn's recurrent layers store each weight transposed, (gates H, D), and
keep two bias vectors, bias_ih and bias_hh:

    dlbook        torch.nn (batch_first=True, one layer)
    W_x           weight_ih_l0.T
    W_h           weight_hh_l0.T
    b  (RNN, LSTM) bias_ih_l0 + bias_hh_l0   (only their sum ever enters the math)
    b_x, b_h (GRU) bias_ih_l0, bias_hh_l0    (b_hn sits inside the reset: not mergeable)

The gate blocks are in the same order on both sides (LSTM i, f, g, o; GRU
r, z, n). torch is imported inside the functions only, so importing this
module stays cheap.
"""

from __future__ import annotations

import numpy as np

from dlbook.layers.gru import GRU
from dlbook.layers.lstm import LSTM
from dlbook.layers.rnn import RNN

_TORCH_NAMES = {"W_x": "weight_ih_l0", "W_h": "weight_hh_l0"}


def _check_layer(layer, where: str) -> None:
    if not isinstance(layer, (RNN, LSTM, GRU)):
        raise TypeError(f"{where} expected a dlbook RNN, LSTM or GRU; got {type(layer).__name__}")


def torch_twin(layer, device=None, dtype=None):
    """A ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` (batch_first) holding the same weights as ``layer``.

    Shapes: as ``layer`` (N, T, D) -> (N, T, H). ``dtype`` defaults to the
    layer's (torch.float64 for a float64 layer), ``device`` to CPU.
    """
    import torch

    _check_layer(layer, "torch_twin")
    if dtype is None:
        dtype = torch.float64 if layer.dtype == np.float64 else torch.float32
    kwargs = dict(bias=layer.bias, batch_first=True, device=device, dtype=dtype)
    if isinstance(layer, RNN):
        module = torch.nn.RNN(layer.input_size, layer.hidden_size,
                              nonlinearity=layer.nonlinearity, **kwargs)
    else:
        cls = torch.nn.LSTM if isinstance(layer, LSTM) else torch.nn.GRU
        module = cls(layer.input_size, layer.hidden_size, **kwargs)
    return copy_to_torch(layer, module)


def copy_to_torch(layer, module):
    """Overwrite ``module``'s weights with ``layer``'s (RNN/LSTM: bias_hh_l0 = 0); returns it."""
    import torch

    _check_layer(layer, "copy_to_torch")
    p = layer.params
    values = {"weight_ih_l0": p["W_x"].T, "weight_hh_l0": p["W_h"].T}
    if isinstance(layer, GRU) and layer.bias:
        values.update(bias_ih_l0=p["b_x"], bias_hh_l0=p["b_h"])
    elif layer.bias:
        values.update(bias_ih_l0=p["b"], bias_hh_l0=np.zeros_like(p["b"]))
    with torch.no_grad():
        for name, value in values.items():
            target = getattr(module, name)
            if tuple(target.shape) != value.shape:
                raise ValueError(f"copy_to_torch expected {name} of shape {value.shape} in "
                                 f"{type(module).__name__}; got {tuple(target.shape)}")
            target.copy_(torch.as_tensor(np.ascontiguousarray(value)))
    return module


def copy_from_torch(module, layer) -> None:
    """Overwrite ``layer``'s weights with ``module``'s (RNN/LSTM: b = bias_ih + bias_hh)."""
    _check_layer(layer, "copy_from_torch")
    for key, value in params_from_torch(module, layer, grads=False).items():
        layer.params[key][...] = value  # in place: optimizers hold these arrays


def params_from_torch(module, layer, grads: bool = False) -> dict[str, np.ndarray]:
    """``module``'s weights (or, with ``grads=True``, their gradients) under ``layer``'s names.

    Shapes: as ``layer.params``. The gradient of b is that of bias_ih_l0
    (torch's two RNN/LSTM biases receive the same gradient).
    """
    _check_layer(layer, "params_from_torch")

    def get(name: str) -> np.ndarray:
        t = getattr(module, name)
        t = t.grad if grads else t
        if t is None:
            raise ValueError(f"params_from_torch: {name} has no gradient; run backward first")
        return t.detach().cpu().numpy()

    out = {key: get(name).T for key, name in _TORCH_NAMES.items()}
    if isinstance(layer, GRU) and layer.bias:
        out.update(b_x=get("bias_ih_l0"), b_h=get("bias_hh_l0"))
    elif layer.bias:
        out["b"] = get("bias_ih_l0") if grads else get("bias_ih_l0") + get("bias_hh_l0")
    return out
