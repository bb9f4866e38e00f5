"""A small multilayer perceptron with a dict of parameters (chapters 3 and 4).

Chapter 3 runs its forward pass; chapter 4 trains it with *numerical*
gradients, the slow but obviously-correct method that backpropagation
(chapter 5) replaces. Parameters live in ``params`` as ``W1, b1, W2, b2, ...``
so that training code can loop over them by name.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from dlbook._checks import as_float_array, check_positive_int
from dlbook.functional import accuracy, cross_entropy, relu
from dlbook.diagnostics.numgrad import DEFAULT_H, numerical_gradient
from dlbook.utils import make_rng


class MLP:
    """x -> act(x W1 + b1) -> ... -> x W_L + b_L (logits); no activation on the last layer.

    Shapes: input (N, sizes[0]) -> logits (N, sizes[-1]).
    Weights start as N(0, 2 / fan_in) (He scaling, explained in chapter 8),
    biases at 0. float64 by default because numerical gradients need it.
    """

    def __init__(self, sizes: Sequence[int], activation: Callable[[np.ndarray], np.ndarray] = relu,
                 rng: int | np.random.Generator | None = None, dtype=np.float64):
        if len(sizes) < 2:
            raise ValueError(f"MLP expected at least 2 layer sizes (input, output); got {list(sizes)}")
        self.sizes = [check_positive_int(s, "MLP", "each layer size") for s in sizes]
        self.activation = activation
        rng = make_rng(rng)
        self.params: dict[str, np.ndarray] = {}
        for i, (fan_in, fan_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            std = np.sqrt(2.0 / fan_in)
            self.params[f"W{i}"] = (std * rng.standard_normal((fan_in, fan_out))).astype(dtype)
            self.params[f"b{i}"] = np.zeros(fan_out, dtype=dtype)

    @property
    def num_layers(self) -> int:
        """Number of affine layers (weight matrices)."""
        return len(self.sizes) - 1

    def forward_all(self, x: np.ndarray) -> list[np.ndarray]:
        """Every layer's output, input first and logits last.

        Shapes: x (N, D) -> [ (N, D), (N, H1), ..., (N, C) ].
        """
        x = as_float_array(x, "MLP.forward", "x")
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"MLP.forward expected x of shape (N, {self.sizes[0]}); got shape {x.shape}")
        outs = [x]
        for i in range(1, self.num_layers + 1):
            z = outs[-1] @ self.params[f"W{i}"] + self.params[f"b{i}"]
            outs.append(z if i == self.num_layers else self.activation(z))
        return outs

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Logits. Shapes: x (N, D) -> (N, C)."""
        return self.forward_all(x)[-1]

    __call__ = forward

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted class per row. Shapes: x (N, D) -> (N,) int."""
        return self.forward(x).argmax(axis=1)

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        """Mean softmax cross-entropy of the logits against labels. Shapes: x (N, D), y (N,)."""
        return cross_entropy(self.forward(x), y)

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        """Fraction of rows classified correctly."""
        return accuracy(self.forward(x), y)

    def numerical_gradients(self, x: np.ndarray, y: np.ndarray,
                            h: float = DEFAULT_H) -> dict[str, np.ndarray]:
        """dLoss/dparam for every parameter by central differences (2 forward passes each).

        Shapes: same keys and shapes as ``params``. Cost: 2 * num_parameters
        forward passes, the reason chapter 5 needs backpropagation.
        """
        return {name: numerical_gradient(lambda _: self.loss(x, y), p, h)
                for name, p in self.params.items()}

    def num_parameters(self) -> int:
        """Total number of scalar parameters."""
        return sum(p.size for p in self.params.values())

    def sgd_step(self, grads: dict[str, np.ndarray], lr: float) -> None:
        """In-place gradient-descent update p <- p - lr * grad for every parameter."""
        for name, p in self.params.items():
            p -= lr * grads[name]
