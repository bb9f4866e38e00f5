"""The layer protocol shared by every layer and model of the book (chapters 5 and 8).

**Parameters.** A layer registers the arrays it learns with :meth:`Layer.add_param`;
each gets a zero gradient array of the same shape, allocated once. ``params``
and ``grads`` are dicts with the same keys. Optimizers (chapter 7) hold
references to the arrays from ``parameters()`` and update them in place, so a
parameter array is never rebound. Arrays that are state but not learned
(BatchNorm's running statistics) are registered with :meth:`Layer.add_buffer`.

**Composition** works as in ``torch.nn.Module``: a layer assigned as an
attribute (``self.fc1 = Linear(4, 8)``) is registered as a sublayer, and
``parameters()``, ``named_parameters()`` (names like ``"encoder.0.W"``),
``zero_grad()``, ``train()``/``eval()``, ``state_dict()`` and
``load_state_dict()`` walk the whole tree. A list of layers goes in a
:class:`~dlbook.layers.container.LayerList`.

**The backward contract.** ``forward(*inputs)`` caches what the backward pass
needs; ``backward(dout)`` *adds* dL/dparam into ``grads`` (gradients
accumulate until ``zero_grad()``), never modifies ``dout``, and returns the
gradients of the forward's float-array inputs, in the forward's order: one
array, or a tuple when there are several. State that goes in (an initial
hidden state h0, an encoder's memory) comes back as a returned gradient,
never through an attribute. Integer inputs (token ids, targets) get no
gradient. A loss is a layer whose ``forward(logits, targets)`` returns a
float and whose ``backward()`` starts the chain.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import numpy as np

from dlbook._checks import as_float_array


class Layer:
    """Base class: own ``params``/``grads``/buffers, registered sublayers, ``training`` flag.

    Subclasses call ``super().__init__()`` first, register parameters with
    :meth:`add_param`, assign sublayers as attributes and implement ``forward``
    and ``backward``. Shapes: defined by each subclass.
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_modules", {})
        self._params: dict[str, np.ndarray] = {}
        self._grads: dict[str, np.ndarray] = {}
        self._buffers: dict[str, np.ndarray] = {}
        self.training: bool = True

    # registration --------------------------------------------------------

    def __setattr__(self, name: str, value) -> None:
        modules = self.__dict__.get("_modules")
        if isinstance(value, Layer):
            if modules is None:
                raise RuntimeError(f"{type(self).__name__}: call super().__init__() before "
                                   f"assigning the sublayer {name!r}")
            modules[name] = value
        elif modules is not None:
            modules.pop(name, None)
        object.__setattr__(self, name, value)

    def add_module(self, name: str, layer: "Layer") -> "Layer":
        """Register ``layer`` under ``name`` (for names that are not identifiers, e.g. "0")."""
        if not isinstance(layer, Layer):
            raise TypeError(f"{type(self).__name__}.add_module expected a Layer; "
                            f"got {type(layer).__name__}")
        self._modules[str(name)] = layer
        return layer

    def add_param(self, name: str, value: np.ndarray) -> np.ndarray:
        """Register a parameter and allocate its zero gradient; returns the parameter."""
        self._params[name] = value
        self._grads[name] = np.zeros_like(value)
        return value

    def add_buffer(self, name: str, value: np.ndarray) -> np.ndarray:
        """Register an array that is saved with the model but not learned; sets ``self.name``."""
        self._buffers[name] = value
        object.__setattr__(self, name, value)
        return value

    # the tree ------------------------------------------------------------

    def named_children(self) -> Iterator[tuple[str, "Layer"]]:
        """Yield ``(name, sublayer)`` for the direct sublayers, in registration order."""
        yield from self._modules.items()

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Layer"]]:
        """Yield ``(name, layer)`` for this layer ("") and every layer below it, each once."""
        seen: set[int] = set()

        def walk(layer: Layer, name: str):
            if id(layer) in seen:
                return
            seen.add(id(layer))
            yield name, layer
            for child_name, child in layer._modules.items():
                yield from walk(child, f"{name}.{child_name}" if name else child_name)

        yield from walk(self, prefix)

    def modules(self) -> Iterator["Layer"]:
        """Yield this layer and every layer below it."""
        for _, layer in self.named_modules():
            yield layer

    def _named(self, kind: str) -> Iterator[tuple[str, np.ndarray]]:
        """Yield (dotted name, array) of every ``_params``/``_grads``/``_buffers`` array, each once."""
        seen: set[int] = set()
        for prefix, layer in self.named_modules():
            own = getattr(layer, kind)
            for key, array in own.items():
                if id(array) not in seen:  # a tied weight is listed once, under its first name
                    seen.add(id(array))
                    yield (f"{prefix}.{key}" if prefix else key), array

    def named_parameters(self) -> Iterator[tuple[str, np.ndarray]]:
        """Yield ``(name, param)`` over the whole tree, names like ``"encoder.0.W"``."""
        yield from self._named("_params")

    def parameters(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(param, grad)`` pairs over the whole tree: the arrays, for in-place updates."""
        seen: set[int] = set()
        for _, layer in self.named_modules():
            for key, param in layer._params.items():
                if id(param) not in seen:
                    seen.add(id(param))
                    yield param, layer._grads[key]

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Name -> parameter: the layer's own dict, or the whole tree's for a composite."""
        return self._params if not self._modules else dict(self.named_parameters())

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """Name -> gradient, with the keys of ``params`` (the arrays the backward adds into)."""
        return self._grads if not self._modules else dict(self._named("_grads"))

    def num_parameters(self) -> int:
        """The number of learned numbers in the whole tree (tied weights counted once)."""
        return sum(int(p.size) for p, _ in self.parameters())

    def zero_grad(self) -> None:
        """Reset every gradient of the tree to 0 in place (the arrays themselves are kept)."""
        for _, grad in self.parameters():
            grad.fill(0)

    def train(self, mode: bool = True) -> "Layer":
        """Set training mode on this layer and every sublayer (``mode=False``: evaluation)."""
        for layer in self.modules():
            layer.training = bool(mode)
        return self

    def eval(self) -> "Layer":
        """Evaluation mode everywhere below (dropout off, BatchNorm uses running stats)."""
        return self.train(False)

    # saving --------------------------------------------------------------

    def state_dict(self) -> dict[str, np.ndarray]:
        """A flat dict name -> copy of every parameter and buffer (running statistics)."""
        state = {name: p.copy() for name, p in self.named_parameters()}
        state.update((name, b.copy()) for name, b in self._named("_buffers"))
        return state

    def load_state_dict(self, state: dict, strict: bool = True) -> None:
        """Copy arrays from ``state`` into the model's own arrays, in place.

        Everything is checked before anything is copied: a missing or unexpected
        key (with ``strict=True``) or a shape mismatch raises ``ValueError`` and
        leaves the model unchanged.
        """
        if not isinstance(state, dict):
            raise TypeError(f"{type(self).__name__}.load_state_dict expected a dict name -> "
                            f"array; got {type(state).__name__}")
        own = dict(self.named_parameters())
        own.update(self._named("_buffers"))
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        wrong = [f"{k}: expected {own[k].shape}, got {np.shape(state[k])}"
                 for k in own if k in state and np.shape(state[k]) != own[k].shape]
        problems = ([f"missing keys {missing}"] if missing and strict else []) + \
                   ([f"unexpected keys {unexpected}"] if unexpected and strict else []) + \
                   ([f"wrong shapes ({'; '.join(wrong)})"] if wrong else [])
        if problems:
            raise ValueError(f"{type(self).__name__}.load_state_dict: {', '.join(problems)}")
        for key, target in own.items():
            if key in state:
                target[...] = state[key]

    # calling -------------------------------------------------------------

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        """The part of ``repr`` inside the parentheses; subclasses name their sizes here."""
        return ", ".join(f"{k}={v.shape}" for k, v in self._params.items())

    def __repr__(self) -> str:
        if not self._modules:
            return f"{type(self).__name__}({self.extra_repr()})"
        inner = "".join(f"\n  ({name}): " + repr(m).replace("\n", "\n  ")
                        for name, m in self._modules.items())
        return f"{type(self).__name__}({self.extra_repr()}{inner}\n)"

    # helpers for subclasses ------------------------------------------------

    def _cached(self, value):
        """Return a value saved by forward, or explain that forward has not run."""
        if value is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return value

    def _check_dout(self, dout, shape: tuple[int, ...]) -> np.ndarray:
        """Validate that the upstream gradient has the shape of the forward output."""
        dout = as_float_array(dout, f"{type(self).__name__}.backward", "dout")
        if dout.shape != shape:
            raise ValueError(f"{type(self).__name__}.backward expected dout of shape {shape} "
                             f"(the shape of the forward output); got shape {dout.shape}")
        return dout


@contextmanager
def eval_mode(model: Layer):
    """``with eval_mode(model):`` evaluation mode inside, each layer's own mode restored after."""
    modes = [(layer, layer.training) for layer in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for layer, mode in modes:
            layer.training = mode
