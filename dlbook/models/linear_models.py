"""Linear models trained by gradient descent (chapter 2).

Every model here scores a batch with the same affine map ``s = X @ w + b``
and differs only in the loss applied to the scores:

* :class:`LinearRegression`: mean squared error, with a closed-form fit too;
* :class:`LogisticRegression`: the log loss, on labels {0, 1} (binary
  cross-entropy) or, equivalently, on labels {-1, +1} (the logistic loss);
* :class:`LinearSVM`: the hinge loss on labels {-1, +1}.

``loss(X, y)`` returns the *cost* that training minimises: the mean of the
per-example losses plus the L2 penalty ``(l2 / 2) ||w||^2`` (the bias is not
penalised). Because the score is affine in (w, b), all three models share one
gradient rule: with ``g = dcost/ds`` (one entry per example),
``dw = X^T g + l2 w`` and ``db = sum(g)``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlbook import functional as F
from dlbook._checks import as_float_array, check_positive_int
from dlbook.utils import make_rng

INIT_STD = 0.01
"""Standard deviation of the random initial weights (the bias starts at 0)."""

LABELS_01 = (0, 1)
"""Label set of the binary cross-entropy form of logistic regression."""

LABELS_PM1 = (-1, 1)
"""Label set of the SVM and of the logistic-loss form of logistic regression."""

SVM_L2 = 1e-2
"""Default L2 strength of :class:`LinearSVM` (the lambda of its penalty)."""


def affine(X: np.ndarray, W: np.ndarray, b) -> np.ndarray:
    """The affine map ``X W + b``; each row of X is one example (chapter 2).

    Shapes: X (N, D), W (D,), b scalar -> (N,);
            X (N, D), W (D, K), b (K,) -> (N, K)  (b is broadcast over the rows).
    """
    X = as_float_array(X, "affine", "X")
    W = as_float_array(W, "affine", "W")
    b = as_float_array(b, "affine", "b")
    if X.ndim != 2 or W.ndim not in (1, 2) or X.shape[1] != W.shape[0]:
        raise ValueError(f"affine expected X of shape (N, D) and W of shape (D,) or "
                         f"(D, K) with the same D; got X {X.shape} and W {W.shape}")
    if b.shape not in ((), W.shape[1:]):
        raise ValueError(f"affine expected b of shape {W.shape[1:]} or a scalar; "
                         f"got shape {b.shape}")
    return X @ W + b


def _check_number(value, where: str, name: str, positive: bool) -> float:
    """Return ``value`` as a float if finite and > 0 (or >= 0 if not ``positive``)."""
    bound = "> 0" if positive else ">= 0"
    expected = f"{where} expected {name} to be a finite float {bound}"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{expected}; got {type(value).__name__}")
    if not np.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{expected}; got {value}")
    return float(value)


def gradient_descent(grad_fn: Callable[[np.ndarray], np.ndarray], w0, lr: float,
                     steps: int) -> np.ndarray:
    """Run ``w <- w - lr * grad_fn(w)`` for ``steps`` steps; return every iterate.

    Shapes: w0 (...) -> trajectory (steps + 1, ...): row 0 is w0, row t is w
    after t steps (a scalar w0 gives shape (steps + 1,)). Chapter 2 plots it.
    """
    lr = _check_number(lr, "gradient_descent", "lr", positive=True)
    steps = check_positive_int(steps, "gradient_descent", "steps")
    w = np.array(as_float_array(w0, "gradient_descent", "w0"))  # a copy of w0
    trajectory = [w]
    for _ in range(steps):
        g = np.asarray(grad_fn(w))
        if g.shape != w.shape:
            raise ValueError(f"gradient_descent expected grad_fn to return shape "
                             f"{w.shape}; got shape {g.shape}")
        w = w - lr * g
        trajectory.append(w)
    return np.stack(trajectory)


class _LinearModel:
    """Parameters ``w`` (D,) and ``b`` (0-d, so it can be updated in place), the
    affine score, the cost, its gradient and a gradient-descent fit.

    Subclasses set ``labels`` (allowed target values; None for real targets) and
    define ``_losses`` (per example), ``_mean_loss`` and ``_dscores`` (its d/ds).
    """

    labels: tuple[int, int] | None = None

    def __init__(self, n_features: int, l2: float = 0.0,
                 rng: int | np.random.Generator | None = None, dtype=np.float64):
        name = type(self).__name__
        self.n_features = check_positive_int(n_features, name, "n_features")
        self.l2 = _check_number(l2, name, "l2", positive=False)
        init = INIT_STD * make_rng(rng).standard_normal(self.n_features)
        self.w = init.astype(dtype)
        self.b = np.zeros((), dtype=dtype)

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The parameter arrays themselves (not copies): {"w": (D,), "b": ()}."""
        return {"w": self.w, "b": self.b}

    def _where(self, method: str) -> str:
        return f"{type(self).__name__}.{method}"

    def _check_X(self, X, method: str) -> np.ndarray:
        X = as_float_array(X, self._where(method), "X")
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"{self._where(method)} expected X of shape "
                             f"(N, {self.n_features}); got shape {X.shape}")
        return X

    def _check_Xy(self, X, y, method: str) -> tuple[np.ndarray, np.ndarray]:
        X = self._check_X(X, method)
        y = as_float_array(y, self._where(method), "y")
        where = self._where(method)
        if y.shape != (X.shape[0],):
            raise ValueError(f"{where} expected y of shape ({X.shape[0]},) to match "
                             f"X {X.shape}; got y of shape {y.shape}")
        if self.labels is not None and not np.all(np.isin(y, self.labels)):
            low, high = self.labels
            raise ValueError(f"{where} expected labels in {{{low}, {high}}}; "
                             f"got values {np.unique(y)[:5].tolist()}")
        return X, y

    def scores(self, X: np.ndarray) -> np.ndarray:
        """The affine score s = X w + b. Shapes: X (N, D) -> (N,)."""
        return affine(self._check_X(X, "scores"), self.w, self.b)

    def per_example_loss(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Each example's loss, without the penalty. Shapes: (N, D), (N,) -> (N,)."""
        X, y = self._check_Xy(X, y, "per_example_loss")
        return self._losses(affine(X, self.w, self.b), y)

    def penalty(self) -> float:
        """The L2 penalty (l2 / 2) ||w||^2 (the bias is not penalised)."""
        return 0.5 * self.l2 * float(self.w @ self.w)

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """Cost = mean loss + (l2 / 2) ||w||^2. Shapes: X (N, D), y (N,) -> scalar."""
        X, y = self._check_Xy(X, y, "loss")
        return self._mean_loss(affine(X, self.w, self.b), y) + self.penalty()

    def gradients(self, X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        """Cost gradient: with g = d(mean loss)/ds, dw = X^T g + l2 w and db = sum(g).

        Shapes: X (N, D), y (N,) -> {"w": (D,), "b": ()}.
        """
        X, y = self._check_Xy(X, y, "gradients")
        g = self._dscores(affine(X, self.w, self.b), y)  # (N,), one entry per example
        return {"w": X.T @ g + self.l2 * self.w, "b": np.sum(g)}

    def fit_gd(self, X: np.ndarray, y: np.ndarray, lr: float,
               steps: int) -> list[float]:
        """Full-batch gradient descent from the current parameters (updated in place).

        Returns the cost before the first step and after each step (steps + 1).
        For the SVM the hinge's gradient is a subgradient (subgradient descent).
        """
        lr = _check_number(lr, self._where("fit_gd"), "lr", positive=True)
        steps = check_positive_int(steps, self._where("fit_gd"), "steps")
        X, y = self._check_Xy(X, y, "fit_gd")
        history = [self.loss(X, y)]
        for _ in range(steps):
            grads = self.gradients(X, y)
            self.w -= lr * grads["w"]
            self.b -= lr * grads["b"]
            history.append(self.loss(X, y))
        return history

class LinearRegression(_LinearModel):
    """Least squares: cost = mean((X w + b - y)^2) + (l2 / 2) ||w||^2 (ridge if l2 > 0).

    Shapes: X (N, D), y (N,) real targets. Chapter 2 derives the normal
    equations and the gradient dw = (2/N) X^T (X w + b - y) + l2 w.
    """

    def _losses(self, s, y):
        return (s - y) ** 2

    def _mean_loss(self, s, y):
        return F.mse_loss(s, y)

    def _dscores(self, s, y):
        return F.mse_loss_grad(s, y)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted targets: the score itself. Shapes: X (N, D) -> (N,)."""
        return self.scores(X)

    def fit_closed_form(self, X: np.ndarray, y: np.ndarray) -> "LinearRegression":
        """Set (w, b) to the exact minimiser of the cost; returns self.

        Solves least squares on the augmented matrix A = [X, 1] with
        ``np.linalg.lstsq`` (an SVD) and never forms inv(A^T A), which squares
        A's condition number and fails when columns are collinear. For l2 > 0,
        rows sqrt(N l2 / 2) [I, 0] with zero targets are appended to A.
        """
        X, y = self._check_Xy(X, y, "fit_closed_form")
        n, d = X.shape
        A = np.column_stack([X, np.ones(n)])  # (N, D+1): b weighs a constant 1
        target = y
        if self.l2 > 0:  # ridge as least squares; the bias column is not penalised
            ridge_rows = np.sqrt(n * self.l2 / 2) * np.eye(d, d + 1)  # (D, D+1)
            A = np.vstack([A, ridge_rows])
            target = np.concatenate([y, np.zeros(d)])
        theta, *_ = np.linalg.lstsq(A, target, rcond=None)  # (D+1,)
        self.w[...] = theta[:d]
        self.b[...] = theta[d]
        return self


class _LinearClassifier(_LinearModel):
    """A linear classifier: predicts the higher label where the score is > 0."""

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted labels (from ``self.labels``). Shapes: X (N, D) -> (N,) int64."""
        low, high = self.labels
        return np.where(self.scores(X) > 0, high, low).astype(np.int64)

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        """Fraction of examples whose predicted label equals y."""
        X, y = self._check_Xy(X, y, "accuracy")
        return float(np.mean(self.predict(X) == y))


class LogisticRegression(_LinearClassifier):
    """P(y = 1 | x) = sigmoid(x w + b), trained with the log loss (chapter 2).

    ``labels=(0, 1)``: cost = mean(softplus(s) - y s), the binary cross-entropy;
    ``labels=(-1, 1)``: cost = mean(softplus(-y s)), the logistic loss. The two
    are equal for y01 = (y + 1) / 2. Shapes: X (N, D), y (N,).
    """

    def __init__(self, n_features: int, l2: float = 0.0,
                 labels: tuple[int, int] = LABELS_01,
                 rng: int | np.random.Generator | None = None, dtype=np.float64):
        if tuple(labels) not in (LABELS_01, LABELS_PM1):
            raise ValueError(f"LogisticRegression expected labels (0, 1) or (-1, 1); "
                             f"got {labels!r}")
        self.labels = tuple(labels)
        super().__init__(n_features, l2, rng, dtype)

    def _losses(self, s, y):
        if self.labels == LABELS_01:
            return F.softplus(s) - y * s
        return F.softplus(-y * s)

    def _mean_loss(self, s, y):
        if self.labels == LABELS_01:
            return F.binary_cross_entropy_with_logits(s, y)
        return F.logistic_loss(s, y)

    def _dscores(self, s, y):
        if self.labels == LABELS_01:
            return F.binary_cross_entropy_with_logits_grad(s, y)
        return F.logistic_loss_grad(s, y)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """P(y = higher label | x) = sigmoid(x w + b). Shapes: X (N, D) -> (N,)."""
        return F.sigmoid(self.scores(X))


class LinearSVM(_LinearClassifier):
    """Soft-margin linear SVM: cost = mean(max(0, 1 - y s)) + (l2 / 2) ||w||^2.

    Labels y in {-1, +1}. Trained by subgradient descent (``fit_gd``): an example
    contributes -y x only while its margin y s < 1. Shapes: X (N, D), y (N,).
    """

    labels = LABELS_PM1

    def __init__(self, n_features: int, l2: float = SVM_L2,
                 rng: int | np.random.Generator | None = None, dtype=np.float64):
        super().__init__(n_features, l2, rng, dtype)

    def _losses(self, s, y):
        return np.maximum(0.0, 1.0 - y * s)

    def _mean_loss(self, s, y):
        return F.hinge_loss(s, y)

    def _dscores(self, s, y):
        return F.hinge_loss_grad(s, y)
