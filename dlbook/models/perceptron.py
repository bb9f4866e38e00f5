"""The perceptron (chapter 1): a step of an affine score, its learning rule, logic gates.

A perceptron computes ``y_hat = step(x . w + b)``: 1 when the score is positive,
0 otherwise. Chapter 1 sets ``w`` and ``b`` by hand to build AND, NAND and OR,
learns them with the perceptron rule, shows that no single perceptron computes
XOR, and computes XOR with two layers of gates.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from dlbook._checks import as_float_array, check_positive_int
from dlbook.functional import step
from dlbook.utils import make_rng

GATE_PARAMS: dict[str, tuple[tuple[float, float], float]] = {
    # x1 + x2 > 1.5: only (1, 1) fires; the line lies halfway between
    # (1, 1) and the points (0, 1), (1, 0).
    "and": ((1.0, 1.0), -1.5),
    # x1 + x2 > 0.5: any input at 1 fires; the line lies halfway between
    # (0, 0) and the points (0, 1), (1, 0).
    "or": ((1.0, 1.0), -0.5),
    # AND with every sign flipped: step(-s) = 1 - step(s) whenever s != 0.
    "nand": ((-1.0, -1.0), 1.5),
}
"""Hand-set (w, b) of the two-input gates of chapter 1: name -> ((w1, w2), b)."""


def _check_inputs(x, n_features: int, where: str) -> np.ndarray:
    """Return ``x`` as a float array of shape (N, n_features), or raise naming ``where``."""
    x = as_float_array(x, where, "x")
    if x.ndim != 2 or x.shape[1] != n_features:
        raise ValueError(
            f"{where} expected x of shape (N, {n_features}); got shape {x.shape}"
        )
    return x


def _check_binary_labels(y, n: int, where: str) -> np.ndarray:
    """Return labels as an int64 array of shape (n,) holding only 0 and 1, or raise."""
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(
            f"{where} expected y of shape ({n},) to match x; got shape {y.shape}"
        )
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
        raise TypeError(f"{where} expected y to hold binary labels 0/1; got dtype {y.dtype}")
    values = np.unique(y)
    if not np.all(np.isin(values, (0, 1))):
        raise ValueError(
            f"{where} expected y to hold binary labels 0/1; got values {values.tolist()}"
        )
    return y.astype(np.int64)


def _check_learning_rate(lr, where: str) -> float:
    """Return ``lr`` as a float if it is finite and positive, else raise."""
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where} expected lr to be a float; got {type(lr).__name__}")
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"{where} expected lr to be a finite float > 0; got {lr}")
    return float(lr)


class Perceptron:
    """y_hat = step(x . w + b), where step(s) = 1 if s > 0 else 0 (chapter 1).

    Shapes: w (D,), b a scalar; x (N, D) -> scores and predictions (N,).
    The weights start at zero unless given; :meth:`fit` continues from the
    current weights, so calling it twice trains for longer.
    """

    def __init__(self, n_features: int, w: np.ndarray | None = None, b: float = 0.0,
                 dtype=np.float64):
        self.n_features = check_positive_int(n_features, "Perceptron", "n_features")
        if w is None:
            w = np.zeros(self.n_features, dtype=dtype)
        w = as_float_array(w, "Perceptron", "w").astype(dtype)  # a copy, never an alias
        if w.shape != (self.n_features,):
            raise ValueError(
                f"Perceptron expected w of shape ({self.n_features},); got shape {w.shape}"
            )
        if isinstance(b, bool) or not isinstance(b, (int, float, np.integer, np.floating)):
            raise TypeError(f"Perceptron expected a float bias b; got {type(b).__name__}")
        if not np.isfinite(b):
            raise ValueError(f"Perceptron expected a finite bias b; got {b}")
        self.w = w
        self.b = float(b)

    def score(self, x: np.ndarray) -> np.ndarray:
        """The affine score s = x . w + b, before the step.

        Shapes: x (N, D) -> (N,).
        """
        x = _check_inputs(x, self.n_features, "Perceptron.score")
        return x @ self.w + self.b

    def forward(self, x: np.ndarray) -> np.ndarray:
        """step(x . w + b) as floats 0.0 / 1.0. Shapes: x (N, D) -> (N,)."""
        return step(self.score(x))

    __call__ = forward

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted labels 0 / 1. Shapes: x (N, D) -> (N,) int64."""
        return self.forward(x).astype(np.int64)

    def _update(self, x: np.ndarray, y: int, lr: float) -> int:
        """The rule on one checked example; returns 1 for a mistake, else 0."""
        y_hat = int(x @ self.w + self.b > 0)
        error = y - y_hat  # +1: missed a positive, -1: fired on a negative
        if error != 0:
            self.w += lr * error * x
            self.b += lr * error
        return int(error != 0)

    def update(self, x: np.ndarray, y: int, lr: float = 1.0) -> int:
        """The perceptron rule on one example: w += lr (y - y_hat) x, b += lr (y - y_hat).

        Shapes: x (D,), y a label 0 / 1. Returns 1 if the example was
        misclassified (and the weights moved), else 0.
        """
        x = as_float_array(x, "Perceptron.update", "x")
        if x.shape != (self.n_features,):
            raise ValueError(
                f"Perceptron.update expected x of shape ({self.n_features},); "
                f"got shape {x.shape}"
            )
        if isinstance(y, (bool, np.bool_)) or y not in (0, 1):
            raise ValueError(f"Perceptron.update expected a label y in {{0, 1}}; got {y!r}")
        return self._update(x, int(y), _check_learning_rate(lr, "Perceptron.update"))

    def fit(self, X: np.ndarray, y: np.ndarray, lr: float = 1.0,
            epochs: int = 100, rng: int | np.random.Generator | None = None,
            shuffle: bool = True) -> list[int]:
        """Apply the perceptron rule to every example, epoch after epoch.

        Shapes: X (N, D), y (N,) labels 0 / 1. Each epoch visits the examples
        in a fresh random order drawn from ``rng`` (in the given order when
        ``shuffle`` is False). Stops after the first epoch with no mistakes.
        Returns the number of mistakes in each epoch that ran.
        """
        X = _check_inputs(X, self.n_features, "Perceptron.fit")
        y = _check_binary_labels(y, len(X), "Perceptron.fit")
        lr = _check_learning_rate(lr, "Perceptron.fit")
        epochs = check_positive_int(epochs, "Perceptron.fit", "epochs")
        gen = make_rng(rng) if shuffle else None
        history: list[int] = []
        for _ in range(epochs):
            order = gen.permutation(len(X)) if shuffle else np.arange(len(X))
            mistakes = sum(self._update(X[i], int(y[i]), lr) for i in order)
            history.append(mistakes)
            if mistakes == 0:
                break
        return history


def novikoff_bound(X: np.ndarray, y: np.ndarray, w: np.ndarray,
                   b: float) -> float:
    """Novikoff's bound (R / gamma)^2 on the perceptron's number of mistakes.

    Shapes: X (N, D), y (N,) labels 0 / 1, w (D,). With x~ = (x, 1),
    u = (w, b) / |(w, b)| and t = 2y - 1: R = max |x~|, gamma = min t u . x~.
    The separator (w, b) certifies the bound; raises ``ValueError`` unless
    it separates the data (gamma > 0).
    """
    where = "novikoff_bound"
    w = as_float_array(w, where, "w")
    if w.ndim != 1:
        raise ValueError(f"{where} expected w of shape (D,); got shape {w.shape}")
    X = _check_inputs(X, len(w), where)
    y = _check_binary_labels(y, len(X), where)
    X_aug = np.column_stack([X, np.ones(len(X))])  # (N, D + 1): x~ = (x, 1)
    u = np.append(w.astype(np.float64), float(b))  # (D + 1,)
    norm = np.linalg.norm(u)
    if norm == 0:
        raise ValueError(f"{where} expected a non-zero separator (w, b); "
                         "got all zeros")
    gamma = float(np.min((2 * y - 1) * (X_aug @ u)) / norm)
    if gamma <= 0:
        raise ValueError(f"{where} expected (w, b) to separate the data with "
                         f"margin > 0; got margin {gamma:.3g}")
    radius = float(np.max(np.linalg.norm(X_aug, axis=1)))
    return (radius / gamma) ** 2


def gate_perceptron(name: str) -> Perceptron:
    """A two-input perceptron with the hand-set (w, b) of :data:`GATE_PARAMS`."""
    if name not in GATE_PARAMS:
        raise ValueError(
            f"gate_perceptron expected a name in {sorted(GATE_PARAMS)}; got {name!r}"
        )
    w, b = GATE_PARAMS[name]
    return Perceptron(2, w=np.array(w), b=b)


def and_gate(x: np.ndarray) -> np.ndarray:
    """AND as one perceptron: step(x1 + x2 - 1.5). Shapes: x (N, 2) -> (N,) int64."""
    return gate_perceptron("and").predict(_check_inputs(x, 2, "and_gate"))


def or_gate(x: np.ndarray) -> np.ndarray:
    """OR as one perceptron: step(x1 + x2 - 0.5). Shapes: x (N, 2) -> (N,) int64."""
    return gate_perceptron("or").predict(_check_inputs(x, 2, "or_gate"))


def nand_gate(x: np.ndarray) -> np.ndarray:
    """NAND as one perceptron: step(-x1 - x2 + 1.5). Shapes: x (N, 2) -> (N,) int64."""
    return gate_perceptron("nand").predict(_check_inputs(x, 2, "nand_gate"))


def xor_gate(x: np.ndarray) -> np.ndarray:
    """XOR with two layers: AND(NAND(x), OR(x)).

    Shapes: x (N, 2) -> hidden (N, 2) -> (N,) int64.
    """
    x = _check_inputs(x, 2, "xor_gate")
    hidden = np.column_stack([nand_gate(x), or_gate(x)])  # (N, 2): layer 1
    return and_gate(hidden)


def format_truth_table(X: np.ndarray, columns: Mapping[str, np.ndarray]) -> str:
    """A truth table as text: one row per input, one column per named output.

    Shapes: X (N, D) inputs; each column (N,). Inputs print as x1 .. xD.
    """
    X = as_float_array(X, "format_truth_table", "X")
    if X.ndim != 2:
        raise ValueError(f"format_truth_table expected X of shape (N, D); got shape {X.shape}")
    cols = {name: np.asarray(v) for name, v in columns.items()}
    for name, v in cols.items():
        if v.shape != (len(X),):
            raise ValueError(
                f"format_truth_table expected column {name!r} of shape ({len(X)},); "
                f"got shape {v.shape}"
            )
    names = [f"x{j + 1}" for j in range(X.shape[1])] + list(cols)
    widths = [max(len(n), 2) for n in names]
    lines = ["  ".join(n.rjust(wd) for n, wd in zip(names, widths))]
    for i in range(len(X)):
        cells = [f"{v:g}" for v in X[i]] + [f"{cols[n][i]:g}" for n in cols]
        lines.append("  ".join(c.rjust(wd) for c, wd in zip(cells, widths)))
    return "\n".join(lines)
