"""Mixed precision: 16-bit floats where they are safe, float32 where they are not (chapter 22).

float16 and bfloat16 both take 16 bits but split them differently: float16
keeps 10 mantissa bits and 5 exponent bits (largest value 65504), bfloat16
keeps float32's 8 exponent bits and only 7 mantissa bits (largest value
about 3.4e38, but only 2-3 significant digits). ``torch.autocast`` runs
matrix products in the 16-bit type and keeps the weights, the reductions and
the loss in float32 ("mixed" precision); with float16 the loss is also
scaled so that small gradients do not underflow to zero. torch is imported
inside the functions.
"""

from __future__ import annotations

import numpy as np

from dlbook._checks import check_positive_int
from dlbook.scale.frameworks import epoch_orders, make_torch_mlp

DTYPE_NAMES = ("float32", "bfloat16", "float16")
"""The floating-point formats compared in chapter 22."""


def _torch_dtype(name: str, where: str):
    import torch

    if name not in DTYPE_NAMES:
        raise ValueError(f"{where} expected dtype to be one of {DTYPE_NAMES}; got {name!r}")
    return getattr(torch, name)


def float_limits(name: str) -> dict[str, float | int]:
    """Largest value, smallest normal, smallest subnormal, machine epsilon and bit split of a format.

    Shapes: scalars. ``eps`` is the gap between 1 and the next larger number.
    """
    import torch

    info = torch.finfo(_torch_dtype(name, "float_limits"))
    mantissa = int(round(-np.log2(info.eps)))
    return {"max": float(info.max), "tiny": float(info.tiny),
            "subnormal": float(info.smallest_normal * info.eps), "eps": float(info.eps),
            "exponent_bits": info.bits - 1 - mantissa, "mantissa_bits": mantissa}


def round_trip(values, name: str) -> np.ndarray:
    """Convert float64 values to a format and back: what survives the trip.

    Shapes: values (...) -> (...) float64 (inf where the format overflows, 0 where it underflows).
    """
    import torch

    t = torch.as_tensor(np.asarray(values, dtype=np.float64))
    return t.to(_torch_dtype(name, "round_trip")).to(torch.float64).numpy()


def autocast_dtypes(model, x: np.ndarray, device_type: str = "cpu",
                    dtype: str = "bfloat16") -> dict[str, str]:
    """The dtypes inside ``torch.autocast``: a parameter, the logits, and a loss on them.

    Shapes: x (N, D) -> {"parameter": ..., "logits": ..., "loss": ...} dtype names.
    Autocast casts the inputs of matrix products to ``dtype``, but the
    parameters stay float32 and the cross-entropy is computed in float32.
    """
    import torch

    device = next(model.parameters()).device
    xt = torch.as_tensor(x, device=device)
    with torch.autocast(device_type=device_type, dtype=_torch_dtype(dtype, "autocast_dtypes")):
        logits = model(xt)
        loss = torch.nn.functional.cross_entropy(logits, logits.argmax(dim=1))
    name = lambda t: str(t.dtype).removeprefix("torch.")  # noqa: E731
    return {"parameter": name(next(model.parameters())), "logits": name(logits),
            "loss": name(loss)}


def train_mixed_precision(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
                          dtype: str = "float32", hidden: int = 64, epochs: int = 10,
                          batch_size: int = 32, lr: float = 0.1, seed: int = 0,
                          device=None) -> dict[str, float]:
    """Train the chapter's MLP with its forward pass in ``dtype``; report test loss and accuracy.

    Shapes: X (N, D) float32, y (N,) int64 -> {"test_loss", "test_accuracy", "train_loss"}.
    ``float32`` runs without autocast; ``bfloat16`` and ``float16`` run the
    forward pass and the loss under ``torch.autocast`` (float16 with a
    ``GradScaler``). The initial weights and the minibatch order depend on
    ``seed`` only, so the formats are compared on identical runs.
    """
    import torch

    torch_dtype = _torch_dtype(dtype, "train_mixed_precision")
    device = torch.device("cpu" if device is None else device)
    epochs = check_positive_int(epochs, "train_mixed_precision", "epochs")
    use_autocast = dtype != "float32"
    model = make_torch_mlp(X.shape[1], hidden, int(y.max()) + 1, seed=seed).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == "float16")
    Xt, yt = torch.as_tensor(X, device=device), torch.as_tensor(y, device=device)

    def forward_loss(xb, yb):
        with torch.autocast(device_type=device.type, dtype=torch_dtype, enabled=use_autocast):
            return torch.nn.functional.cross_entropy(model(xb), yb)

    for order in epoch_orders(len(X), epochs, seed):
        total = 0.0
        for start in range(0, len(X), batch_size):
            idx = torch.as_tensor(order[start:start + batch_size], device=device)
            loss = forward_loss(Xt[idx], yt[idx])
            optimizer.zero_grad()
            scaler.scale(loss).backward()  # float16: loss x scale, so gradients stay representable
            scaler.step(optimizer)  # unscales first; skips the step if a gradient overflowed
            scaler.update()
            total += loss.item() * len(idx)
    with torch.no_grad():
        Xs, ys = torch.as_tensor(X_test, device=device), torch.as_tensor(y_test, device=device)
        test_loss = forward_loss(Xs, ys).item()
        with torch.autocast(device_type=device.type, dtype=torch_dtype, enabled=use_autocast):
            pred = model(Xs).argmax(dim=1)
    return {"train_loss": total / len(X), "test_loss": test_loss,
            "test_accuracy": float((pred == ys).float().mean().item())}
