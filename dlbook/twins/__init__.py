"""PyTorch twins: every numpy layer and model of the book as the same ``torch.nn`` program (chapters 1-19).

Importing this package imports torch and fills one registry (numpy type ->
twin), so that::

    from dlbook.twins import as_tensor, copy_weights, to_numpy, to_torch, torch_grads

    twin = to_torch(model)                  # the torch.nn module, same weights, same mode
    copy_weights(twin, model)               # ... and back into the numpy arrays, in place
    torch_grads(model, twin)                # torch's gradients under our names: compare with model.grads

work for every registered layer and model and for any ``Sequential`` of
them. Arrays cross with :func:`as_tensor` and :func:`to_numpy`;
:func:`default_device` picks CUDA, then Apple MPS, then the CPU.

Modules: :mod:`~dlbook.twins.tensors` (arrays, devices, torch references of
:mod:`dlbook.functional`), :mod:`~dlbook.twins.registry` (the registry and the
weight-map format), :mod:`~dlbook.twins.convert` (the generic functions), and
the registrations: :mod:`~dlbook.twins.layers`, :mod:`~dlbook.twins.recurrent`,
:mod:`~dlbook.twins.seq2seq`, :mod:`~dlbook.twins.transformer`,
:mod:`~dlbook.twins.autoencoder`. A new twin is
one :func:`register` call there (and one factory in ``tests/twins/test_twins.py``).
"""

# importing the registration modules fills the registry
from dlbook.twins import autoencoder, layers, recurrent, seq2seq, transformer  # noqa: F401
from dlbook.twins.convert import copy_weights, to_torch, torch_grads, torch_state_dict
from dlbook.twins.registry import register, registered_types
from dlbook.twins.tensors import (REFERENCE, as_tensor, available_devices, default_device,
                                  to_numpy, value_and_grad)

__all__ = ["REFERENCE", "as_tensor", "available_devices", "copy_weights", "default_device",
           "register", "registered_types", "to_numpy", "to_torch", "torch_grads",
           "torch_state_dict", "value_and_grad"]
