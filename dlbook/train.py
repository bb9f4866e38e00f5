"""One training loop for every numpy model of the book (chapters 4-8, used to the end).

``fit`` repeats one update per batch::

    model.zero_grad(); loss = step(model, batch)      # forward, loss, backward
    clip_grad_norm_(...); optimizer.step()            # optional clipping, then the update

and records what happened in a :class:`History`. What differs between
models is only the ``step``: the default runs a loss layer on ``model(x)``;
a language model carries its state from window to window
(:class:`dlbook.models.rnnlm.TBPTTStep`); word2vec's models are their own
loss. ``fit`` knows nothing about plotting; ``dlbook.plot.plot_history``
draws the history.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from dlbook._checks import check_non_negative_int, check_positive_int
from dlbook.data.split import iterate_minibatches
from dlbook.layers.base import eval_mode
from dlbook.optim.clip import clip_grad_norm_
from dlbook.utils import make_rng

EVAL_BATCH = 1024
"""Batch size for evaluation (no gradients are kept, so it can be large)."""


class History:
    """Metrics of one ``fit`` run by name: ``history.loss`` (one per update), ``history.val_acc`` ...

    Per update: ``loss`` and ``grad_norm`` (before clipping). Per epoch: ``lr``
    (at the epoch's start), ``epoch_loss`` (mean training loss of the epoch's
    updates, weighted by batch size) and whatever the ``metrics`` return
    (e.g. ``train_loss``, ``val_acc``). Every entry is a list of floats.
    """

    def __init__(self, **metrics: list[float]) -> None:
        self.metrics: dict[str, list[float]] = {k: [float(v) for v in vals] for k, vals in metrics.items()}

    def log(self, **values: float) -> None:
        """Append one value to each named list."""
        for name, value in values.items():
            self.metrics.setdefault(name, []).append(float(value))

    def __getattr__(self, name: str) -> list[float]:
        metrics = self.__dict__.get("metrics", {})
        if name in metrics:
            return metrics[name]
        raise AttributeError(f"History has no metric {name!r}; it has {sorted(metrics)}")

    def __getitem__(self, name: str) -> list[float]:
        return self.metrics[name]

    def as_dict(self) -> dict[str, list[float]]:
        """The non-empty metrics by name."""
        return {k: v for k, v in self.metrics.items() if v}


class Minibatches:
    """Shuffled (xb, yb) mini-batches of (X, y), a fresh order from ``rng`` on every pass.

    Shapes: X (N, ...), y (N, ...) -> batches xb (B, ...), yb (B, ...), B <= batch_size.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, batch_size: int = 64, shuffle: bool = True,
                 rng: int | np.random.Generator | None = None):
        if len(X) != len(y):
            raise ValueError(f"Minibatches expected X and y with the same length; "
                             f"got {len(X)} and {len(y)}")
        self.X, self.y, self.shuffle = X, y, shuffle
        self.batch_size = check_positive_int(batch_size, "Minibatches", "batch_size")
        self.rng = make_rng(rng, "Minibatches")

    def __iter__(self):
        return iterate_minibatches(self.X, self.y, self.batch_size, self.shuffle, self.rng)


def supervised_step(loss_fn) -> Callable:
    """The default step: loss = loss_fn(model(x), y), then model.backward(loss_fn.backward())."""

    def step(model, batch) -> float:
        xb, yb = batch
        loss = loss_fn(model(xb), yb)
        model.backward(loss_fn.backward())
        return loss

    return step


def evaluate(model, loss_fn, X: np.ndarray, y: np.ndarray, batch_size: int = EVAL_BATCH) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on (X, y) in evaluation mode, batch by batch.

    Shapes: X (N, ...), y (N,) integer labels. The model's training flags are restored.
    Accuracy is computed for classification logits (N, C); it is NaN otherwise.
    """
    total_loss, correct = 0.0, 0
    with eval_mode(model):
        for start in range(0, len(X), batch_size):
            xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            out = model(xb)
            total_loss += loss_fn(out, yb) * len(xb)
            if out.ndim == 2 and np.issubdtype(np.asarray(yb).dtype, np.integer):
                correct += int(np.sum(out.argmax(axis=1) == yb))
            else:
                correct = -1
    acc = correct / len(X) if correct >= 0 else float("nan")
    return total_loss / len(X), acc


def evaluate_on(loss_fn, **splits: tuple[np.ndarray, np.ndarray]) -> Callable:
    """A metric for ``fit``: loss and accuracy on each named split, e.g. ``train=(X, y), val=(Xv, yv)``."""

    def metric(model) -> dict[str, float]:
        out = {}
        for name, (X, y) in splits.items():
            out[f"{name}_loss"], out[f"{name}_acc"] = evaluate(model, loss_fn, X, y)
        return out

    return metric


def _batch_size(batch) -> int:
    first = batch[0] if isinstance(batch, (tuple, list)) else batch
    return len(first) if hasattr(first, "__len__") else 1


def _grad_norm(pairs, clip_norm: float | None) -> float:
    """The global gradient norm (float64), clipped in place to ``clip_norm`` when given."""
    if clip_norm is not None:
        return clip_grad_norm_(pairs, clip_norm)
    return float(np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for _, g in pairs)))


def fit(model, batches: Iterable, optimizer, epochs: int | None = 1, step: Callable | None = None,
        loss_fn=None, metrics: Iterable[Callable] = (), scheduler=None,
        clip_norm: float | None = None, max_steps: int | None = None,
        progress: bool = False) -> History:
    """Train ``model`` in place: one ``step`` and one ``optimizer.step()`` per batch; return the History.

    ``batches`` is iterated once per epoch (a :class:`Minibatches` reshuffles on
    each pass). ``step(model, batch) -> loss`` does forward and backward; by
    default :func:`supervised_step` with ``loss_fn``. ``optimizer=None`` means
    the step updates the parameters itself (chapter 4's numerical gradients).
    After each epoch every ``metrics`` callable ``model -> dict`` is logged and
    ``scheduler.step()`` runs. ``max_steps`` stops after that many updates
    (``epochs=None``: as many passes as that takes). ``progress`` shows a tqdm
    bar (chapters leave it off: its timings change every run).
    """
    if step is None:
        if loss_fn is None:
            raise ValueError("fit expected a loss_fn or a step function; got neither")
        step = supervised_step(loss_fn)
    if epochs is None and max_steps is None:
        raise ValueError("fit expected epochs or max_steps; got neither")
    epochs = None if epochs is None else check_positive_int(epochs, "fit", "epochs")
    if max_steps is not None:
        max_steps = check_non_negative_int(max_steps, "fit", "max_steps")
    history, updates = History(), 0
    total = max_steps if epochs is None else epochs
    bar = _progress(total, progress, "updates" if epochs is None else "epochs")
    epoch = 0
    while (epochs is None or epoch < epochs) and (max_steps is None or updates < max_steps):
        if hasattr(model, "train"):
            model.train()
        if optimizer is not None and hasattr(optimizer, "lr"):
            history.log(lr=optimizer.lr)
        total_loss, seen = 0.0, 0
        for batch in batches:
            if optimizer is not None:
                model.zero_grad()
            loss = step(model, batch)
            if optimizer is not None:
                history.log(grad_norm=_grad_norm(list(model.parameters()), clip_norm))
                optimizer.step()
            history.log(loss=loss)
            n = _batch_size(batch)
            total_loss, seen, updates = total_loss + loss * n, seen + n, updates + 1
            if bar is not None and epochs is None:
                bar.update(1)
            if max_steps is not None and updates == max_steps:
                break
        history.log(epoch_loss=total_loss / max(seen, 1))
        for metric in metrics:
            history.log(**metric(model))
        if scheduler is not None:
            scheduler.step()
        if bar is not None and epochs is not None:
            bar.set_postfix(loss=f"{history.epoch_loss[-1]:.4f}")
            bar.update(1)
        epoch += 1
    if bar is not None:
        bar.close()
    return history


def train_epoch(model, loss_fn, optimizer, X, y, batch_size: int, rng: np.random.Generator,
                clip_norm: float | None = None) -> float:
    """One pass over (X, y) in shuffled mini-batches with :func:`fit`; returns the mean training loss."""
    history = fit(model, Minibatches(X, y, batch_size, rng=rng), optimizer, epochs=1,
                  loss_fn=loss_fn, clip_norm=clip_norm)
    return history.epoch_loss[0]


def _progress(total: int, enabled: bool, unit: str):
    """A tqdm progress bar, or None."""
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=unit, unit=unit[:-1])
