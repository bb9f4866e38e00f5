"""Pairing a numpy network with its torch twin, layer by layer (chapters 10 and 19).

The weight-copying functions of :mod:`dlbook.models.cifar` and
:mod:`dlbook.models.autoencoder` share these checks.
"""

from __future__ import annotations


def paired_layers(numpy_model, torch_model, kinds, where: str) -> list[tuple]:
    """[(numpy layer, torch module), ...] for the layers whose class name is in ``kinds``.

    Shapes: none. Pairs in order; ``ValueError`` naming ``where`` unless both
    models have the same sequence of such layers.
    """
    ours = [layer for layer in numpy_model if type(layer).__name__ in kinds]
    theirs = [m for m in torch_model.modules() if type(m).__name__ in kinds]
    if [type(m).__name__ for m in ours] != [type(m).__name__ for m in theirs]:
        raise ValueError(f"{where} expected the same layers with parameters in both models; "
                         f"got {[type(m).__name__ for m in ours]} and "
                         f"{[type(m).__name__ for m in theirs]}")
    return list(zip(ours, theirs))


def both_have(value, target, layer, name: str, where: str) -> bool:
    """True if numpy ``value`` and torch ``target`` both exist and have one shape; False if neither.

    Shapes: value (torch's layout) and target alike. ``ValueError`` naming
    ``where`` when only one model has the parameter or the shapes differ.
    """
    kind = type(layer).__name__
    if (value is None) != (target is None):
        raise ValueError(f"{where}: {kind} has a bias in only one of the two models")
    if value is None:
        return False
    if tuple(target.shape) != value.shape:
        raise ValueError(f"{where}: {kind} expected shape {tuple(target.shape)} for {name}, "
                         f"which has shape {value.shape} in the numpy model")
    return True
