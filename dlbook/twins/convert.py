"""Build a PyTorch twin, copy weights either way, and read torch's gradients under our names.

All four functions dispatch through the registry of :mod:`dlbook.twins.registry`
(one entry per numpy type), so they work for every registered layer and
model, and for any ``Sequential`` of them. Chapters 10-19 use them in their
PyTorch cross-checks.
"""

from __future__ import annotations

import numpy as np
import torch

from dlbook.layers.base import Layer
from dlbook.twins.registry import Ref, build, split, stacked, weight_map
from dlbook.twins.tensors import default_device, supported_dtype

TORCH_DTYPES = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32,
                np.dtype(np.float16): torch.float16}
"""numpy dtype -> the torch dtype a twin gets by default."""

UNMAPPED_BUFFERS = ("num_batches_tracked",)
"""torch buffers with no numpy counterpart (BatchNorm counts its steps; we do not)."""


def _model_dtype(model: Layer) -> torch.dtype:
    first = next(iter(model.named_parameters()), None)
    if first is None:
        return torch.get_default_dtype()
    return TORCH_DTYPES.get(first[1].dtype, torch.get_default_dtype())


def to_torch(model: Layer, device=None, dtype: torch.dtype | None = None):
    """The ``torch.nn`` module equivalent to ``model``, holding the same weights (chapters 10-19).

    Shapes: the twin takes and returns what ``model`` does, as tensors (a
    recurrent twin returns torch's ``(out, h_n)``). ``device`` defaults to
    :func:`dlbook.twins.default_device`, ``dtype`` to the model's (float64
    for a float64 model; float32 on MPS). The twin is in ``model``'s
    training/evaluation mode. ``TypeError`` for a type without a registered twin.
    """
    if not isinstance(model, Layer):
        raise TypeError(f"to_torch expected a dlbook Layer; got {type(model).__name__} "
                        f"(for an array use dlbook.twins.as_tensor)")
    device = torch.device(default_device() if device is None else device)
    dtype = supported_dtype(device, _model_dtype(model) if dtype is None else dtype)
    module = build(model).to(device=device, dtype=dtype)
    copy_weights(model, module)
    return module.train(model.training)


def _pairs(layer: Layer, module, where: str) -> list[tuple[str, object, tuple[Ref, ...]]]:
    """(torch name, tensor, numpy pieces) for every mapped tensor, after checking both sides."""
    wmap = weight_map(layer)
    theirs = module.state_dict(keep_vars=True)
    missing = [name for name in wmap if name not in theirs]
    if missing:
        raise ValueError(f"{where}: the torch module is not the twin of {type(layer).__name__}: "
                         f"it has no {missing[:4]} (its tensors: {list(theirs)[:6]} ...)")
    covered = {id(theirs[name]) for name in wmap}
    extra = [name for name, t in theirs.items()
             if id(t) not in covered and not name.endswith(UNMAPPED_BUFFERS)]
    if extra:
        raise ValueError(f"{where}: the torch module has tensors that {type(layer).__name__} "
                         f"lacks: {extra[:4]}")
    mapped = {id(r.owner._params.get(r.key)) for refs in wmap.values() for r in refs}
    unmapped = [name for name, a in layer.named_parameters() if id(a) not in mapped]
    if unmapped:
        raise ValueError(f"{where}: {type(layer).__name__} has parameters with no place in "
                         f"torch: {unmapped[:4]}")
    pairs = []
    for name, refs in wmap.items():
        shape = stacked(refs, Ref.array).shape
        if tuple(theirs[name].shape) != shape:
            raise ValueError(f"{where}: {type(layer).__name__} expected {name} of shape {shape} "
                             f"in the torch module; got {tuple(theirs[name].shape)}")
        pairs.append((name, theirs[name], refs))
    return pairs


def _is_module(obj) -> bool:
    return isinstance(obj, torch.nn.Module)


def copy_weights(src, dst) -> None:
    """Copy every parameter and buffer from ``src`` to ``dst``: numpy -> torch or torch -> numpy.

    Shapes: each array goes into the twin's tensor in torch's layout (Linear
    W (D, H) <-> weight (H, D); q, k, v stacked in ``in_proj_weight``).
    Torch tensors keep their dtype and device; numpy arrays are overwritten
    in place (optimizers keep working). ``ValueError`` when ``dst`` is not
    ``src``'s twin (names or shapes differ). Chapters 10-19.
    """
    if isinstance(src, Layer) and _is_module(dst):
        _numpy_to_torch(src, dst)
    elif _is_module(src) and isinstance(dst, Layer):
        _torch_to_numpy(src, dst)
    else:
        raise TypeError(f"copy_weights expected a dlbook Layer and a torch.nn.Module (either "
                        f"order); got {type(src).__name__} and {type(dst).__name__}")


def _numpy_to_torch(layer: Layer, module) -> None:
    seen: set[tuple] = set()
    with torch.no_grad():
        for _, tensor, refs in _pairs(layer, module, "copy_weights"):
            ident = tuple(r.ident() for r in refs)
            if ident in seen:  # a second torch tensor for the same numbers: torch adds them
                tensor.zero_()
                continue
            seen.add(ident)
            tensor.copy_(torch.as_tensor(np.ascontiguousarray(stacked(refs, Ref.array))))


def _torch_to_numpy(module, layer: Layer) -> None:
    sums: dict[tuple, tuple[np.ndarray, tuple[Ref, ...]]] = {}
    for _, tensor, refs in _pairs(layer, module, "copy_weights"):
        value = tensor.detach().cpu().numpy()
        ident = tuple(r.ident() for r in refs)
        sums[ident] = (sums[ident][0] + value, refs) if ident in sums else (value, refs)
    for value, refs in sums.values():
        for r, part in zip(refs, split(value, refs)):
            r.array()[...] = part  # in place; a transposed Ref writes through its view


def torch_state_dict(model: Layer) -> dict[str, np.ndarray]:
    """``model``'s parameters and buffers under its twin's ``state_dict`` names, in torch's layout.

    Shapes: each array as the twin's tensor (e.g. ``in_proj_weight`` (3E, E)).
    A second torch tensor for the same numbers (``bias_hh_l0`` of an LSTM) is
    zeros. Load it with ``module.load_state_dict({k: torch.as_tensor(v) ...})``.
    """
    out, seen = {}, set()
    for name, refs in weight_map(model).items():
        ident = tuple(r.ident() for r in refs)
        value = stacked(refs, Ref.array)
        out[name] = np.zeros(value.shape, value.dtype) if ident in seen else np.array(value, order="C")
        seen.add(ident)
    return out


def torch_grads(model: Layer, module) -> dict[str, np.ndarray]:
    """The gradients of the twin's parameters under ``model``'s names and in its layout.

    Shapes: like ``model.grads`` (same keys, same shapes), ready to compare
    after both backward passes. ``ValueError`` if a parameter has no gradient.
    """
    names = {id(a): n for n, a in model.named_parameters()}
    out: dict[str, np.ndarray] = {}
    for name, tensor, refs in _pairs(model, module, "torch_grads"):
        if not isinstance(tensor, torch.nn.Parameter) or refs[0].grad() is None:
            continue  # buffers (running statistics) have no gradient
        if tensor.grad is None:
            raise ValueError(f"torch_grads: {name} has no gradient; run backward first")
        value = tensor.grad.detach().cpu().numpy()
        for r, part in zip(refs, split(value, refs)):
            key = names[id(r.owner._params[r.key])]
            out.setdefault(key, part.T if r.transpose else part)  # a repeated Ref: torch's grads agree
    return out
