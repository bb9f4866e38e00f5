"""Exercise checkers: run hidden tests on a reader's function and say what is wrong.

Each ``check_*`` takes the reader's function, runs it on inputs the reader
has not seen, compares with the package's tested implementation and returns
a :class:`Report` that prints "all N checks passed" or names the first
problems it found in words a learner can act on: a wrong shape, a gradient
off by a constant factor, a transposed result, a missing sum over the batch,
NaN on extreme inputs. Usable in Colab with no instructor::

    from dlbook.book.checkers import check_softmax
    check_softmax(my_softmax)

Chapters 3, 4, 5, 6 and 9 point to them from their exercises.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from dlbook.functional import cross_entropy_grad, sigmoid, softmax
from dlbook.layers.im2col import conv_output_size
from dlbook.diagnostics.numgrad import numerical_gradient

MATCH_TOL = 1e-6
"""Relative tolerance for a reader's float64 result to count as equal to the reference."""


@dataclass
class Report:
    """What a checker found: ``passed`` is True when every hidden test passed."""

    exercise: str
    checks: int = 0
    problems: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def __repr__(self) -> str:
        if self.passed:
            return f"{self.exercise}: all {self.checks} checks passed."
        lines = [f"{self.exercise}: {len(self.problems)} of {self.checks} checks failed."]
        lines += [f"  - {p}" for p in self.problems[:5]]
        return "\n".join(lines + [f"  hint: {h}" for h in self.hints])

    def __bool__(self) -> bool:
        return self.passed


def diagnose(got, expected, what: str) -> str | None:
    """None when ``got`` matches ``expected``; otherwise a sentence saying how it differs."""
    got = np.asarray(got, dtype=np.float64) if got is not None else None
    if got is None:
        return f"{what}: your function returned None (did you forget `return`?)"
    if got.shape != expected.shape:
        if got.shape == expected.T.shape and got.ndim == 2:
            return f"{what}: shape {got.shape} is the transpose of the expected {expected.shape}"
        return f"{what}: expected shape {expected.shape}, got {got.shape}"
    if not np.all(np.isfinite(got)):
        return f"{what}: contains NaN or inf (is it numerically stable for large inputs?)"
    if np.allclose(got, expected, rtol=MATCH_TOL, atol=MATCH_TOL):
        return None
    if got.ndim == 0:
        return f"{what}: expected {expected:.6g}, got {got:.6g}"
    if np.allclose(got, -expected, rtol=MATCH_TOL, atol=MATCH_TOL):
        return f"{what}: has the wrong sign"
    nonzero = np.abs(expected) > MATCH_TOL
    if nonzero.any():
        ratio = got[nonzero] / expected[nonzero]
        if np.allclose(ratio, ratio.flat[0], rtol=1e-4) and np.allclose(got[~nonzero], 0, atol=MATCH_TOL):
            return f"{what}: off by a constant factor {ratio.flat[0]:.4g}"
    if got.ndim == 2 and got.shape[0] == got.shape[1] and np.allclose(got, expected.T, rtol=MATCH_TOL):
        return f"{what}: is transposed"
    worst = float(np.max(np.abs(got - expected)))
    return f"{what}: differs from the correct values (largest difference {worst:.3g})"


def _run(report: Report, what: str, call: Callable[[], object], expected) -> None:
    report.checks += 1
    try:
        with np.errstate(all="ignore"):
            got = call()
    except Exception as err:  # the reader's code: report any failure in words
        report.problems.append(f"{what}: raised {type(err).__name__}: {err}")
        return
    problem = diagnose(got, np.asarray(expected, dtype=np.float64), what)
    if problem:
        report.problems.append(problem)


def check_sigmoid(fn: Callable[[np.ndarray], np.ndarray]) -> Report:
    """Hidden tests for a reader's sigmoid (chapter 3): values, shape, stability at ±1000."""
    report = Report("sigmoid")
    rng = np.random.default_rng(3)
    for x in (rng.normal(size=7), rng.normal(size=(3, 4)) * 5, np.array([-1000.0, 0.0, 1000.0])):
        _run(report, f"sigmoid of an array of shape {x.shape}", lambda x=x: fn(x.copy()), sigmoid(x))
    return report


def check_softmax(fn: Callable[[np.ndarray], np.ndarray]) -> Report:
    """Hidden tests for a row-wise softmax of (N, C) scores (chapter 3)."""
    report = Report("softmax")
    rng = np.random.default_rng(4)
    for x in (rng.normal(size=(4, 3)), rng.normal(size=(1, 5)), rng.normal(size=(3, 6)) * 10 + 1000):
        _run(report, f"softmax of scores of shape {x.shape}", lambda x=x: fn(x.copy()), softmax(x, axis=-1))
    return report


def check_cross_entropy_grad(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Report:
    """Hidden tests for dL/dz of the mean cross-entropy: (softmax(z) - onehot(y)) / N (chapter 3)."""
    report = Report("cross_entropy_grad")
    rng = np.random.default_rng(5)
    for n, c in ((4, 3), (1, 5), (8, 10)):
        z, y = rng.normal(size=(n, c)), rng.integers(0, c, size=n)
        _run(report, f"gradient for logits of shape {(n, c)}", lambda z=z, y=y: fn(z.copy(), y.copy()),
             cross_entropy_grad(z, y))
    return report


def check_numerical_gradient(fn: Callable[[Callable, np.ndarray], np.ndarray]) -> Report:
    """Hidden tests for a central-difference gradient ``fn(f, x)`` (chapter 4)."""
    report = Report("numerical_gradient")
    rng = np.random.default_rng(6)
    for f, name in ((lambda x: float(np.sum(x ** 3)), "sum(x**3)"),
                    (lambda x: float(np.sum(np.sin(x)) * x.flat[0]), "sum(sin x) * x[0]")):
        x = rng.normal(size=(2, 3))
        _run(report, f"gradient of {name}", lambda f=f, x=x: fn(f, x.copy()), numerical_gradient(f, x))
    return report


def check_affine_backward(fn: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple]) -> Report:
    """Hidden tests for ``fn(dout, x, W) -> (dx, dW, db)`` of y = x W + b (chapter 5)."""
    report = Report("affine_backward")
    rng = np.random.default_rng(7)
    for n, d, h in ((5, 4, 3), (1, 3, 2), (6, 2, 2)):
        x, w, dout = rng.normal(size=(n, d)), rng.normal(size=(d, h)), rng.normal(size=(n, h))
        expected = (dout @ w.T, x.T @ dout, dout.sum(axis=0))
        for i, name in enumerate(("dx", "dW", "db")):
            _run(report, f"{name} for x {x.shape}, W {w.shape}",
                 lambda x=x, w=w, dout=dout, i=i: fn(dout.copy(), x.copy(), w.copy())[i], expected[i])
    if any("db" in p and "shape" in p for p in report.problems):
        report.hints.append("db must sum dout over the batch axis: dout.sum(axis=0)")
    return report


def check_value_sin(fn: Callable) -> Report:
    """Hidden tests for ``value_sin(v)`` building a ``dlbook.autograd.Value`` node (chapter 6)."""
    from dlbook.autograd import Value

    report = Report("value_sin")
    for x0 in (1.0, -2.5, 0.0):
        def grad(x0=x0):
            x = Value(x0)
            out = fn(x) * x
            out.backward()
            return x.grad
        _run(report, f"d/dx [sin(x) x] at x = {x0}", grad, math.cos(x0) * x0 + math.sin(x0))
        _run(report, f"sin({x0})", lambda x0=x0: fn(Value(x0)).data, math.sin(x0))
    return report


def check_conv_output_size(fn: Callable[[int, int, int, int], int]) -> Report:
    """Hidden tests for ``fn(n, k, s, p)``: the output size of a convolution (chapter 9)."""
    report = Report("conv_output_size")
    for n, k, s, p in ((7, 3, 1, 0), (7, 3, 2, 1), (8, 3, 2, 1), (5, 5, 1, 2), (10, 4, 3, 0), (28, 5, 1, 0)):
        _run(report, f"n={n}, k={k}, s={s}, p={p}", lambda a=(n, k, s, p): fn(*a),
             conv_output_size(n, k, s, p))
    if report.problems:
        report.hints.append("the number of window positions needs a floor: (n + 2p - k) // s + 1")
    return report
