"""One small classifier in PyTorch and in Keras 3, and graphs captured from it (chapter 22).

The model is the MLP of Part II, x -> ReLU(x W_1 + b_1) W_2 + b_2, written
twice: as a ``torch.nn.Module`` trained by an explicit loop, and as a Keras
model trained by ``compile``/``fit``. Keras runs on its PyTorch backend
(``KERAS_BACKEND=torch``, set before Keras is first imported; no TensorFlow).
With the same initial weights, the same minibatches and plain SGD, the two
follow the same trajectory up to float32 rounding.

The second half captures a static graph from the eager model:
``torch.jit.trace`` records one run, ``torch.export`` demands a graph
without data-dependent Python control flow, and ``torch.compile`` splits
the program into graphs where it must. torch and keras are imported inside
the functions.
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np

from dlbook._checks import check_positive_int
from dlbook.utils import make_rng

KERAS_BACKEND = "torch"
"""The Keras backend this book uses: PyTorch, so no TensorFlow is needed."""


def make_torch_mlp(in_features: int, hidden: int, n_classes: int, seed: int = 0):
    """Linear(D, H) - ReLU - Linear(H, C) as ``torch.nn.Sequential``, seeded without touching torch's global RNG.

    Shapes: x (N, D) -> logits (N, C).
    """
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.nn.Sequential(torch.nn.Linear(in_features, hidden), torch.nn.ReLU(),
                                   torch.nn.Linear(hidden, n_classes))


def import_keras():
    """Import Keras 3 on its PyTorch backend; RuntimeError if Keras already runs on another one."""
    os.environ.setdefault("KERAS_BACKEND", KERAS_BACKEND)
    if "keras" not in sys.modules and os.environ["KERAS_BACKEND"] != KERAS_BACKEND:
        raise RuntimeError(f"import_keras: KERAS_BACKEND is {os.environ['KERAS_BACKEND']!r}; "
                           f"this book runs Keras on {KERAS_BACKEND!r}")
    import keras

    if keras.backend.backend() != KERAS_BACKEND:
        raise RuntimeError(f"import_keras: Keras was already imported with the "
                           f"{keras.backend.backend()!r} backend; restart and set "
                           f"KERAS_BACKEND={KERAS_BACKEND!r} first")
    return keras


def make_keras_mlp(in_features: int, hidden: int, n_classes: int):
    """The same network as a Keras ``Sequential``: Dense(H, relu) - Dense(C), logits out.

    Shapes: x (N, D) -> logits (N, C). Keras stores Dense kernels as (D, H) = torch's weight.T.
    """
    keras = import_keras()
    return keras.Sequential([keras.Input((in_features,)),
                             keras.layers.Dense(hidden, activation="relu"),
                             keras.layers.Dense(n_classes)])


def copy_torch_to_keras(torch_model, keras_model) -> None:
    """Give the Keras model the torch model's weights: kernel = weight.T, bias = bias.

    Shapes: each torch Linear weight (H, D) -> Dense kernel (D, H).
    """
    linears = [m for m in torch_model if hasattr(m, "weight")]
    dense = [layer for layer in keras_model.layers if layer.get_weights()]
    if len(linears) != len(dense):
        raise ValueError(f"copy_torch_to_keras expected as many Linear as Dense layers; "
                         f"got {len(linears)} and {len(dense)}")
    for lin, layer in zip(linears, dense):
        layer.set_weights([lin.weight.detach().cpu().numpy().T, lin.bias.detach().cpu().numpy()])


def epoch_orders(n: int, epochs: int, seed: int) -> list[np.ndarray]:
    """One random permutation of range(n) per epoch: the minibatch order both frameworks share.

    Shapes: -> epochs arrays of shape (n,).
    """
    rng = make_rng(seed, "epoch_orders")
    return [rng.permutation(check_positive_int(n, "epoch_orders", "n"))
            for _ in range(check_positive_int(epochs, "epoch_orders", "epochs"))]


def train_torch(model, X: np.ndarray, y: np.ndarray, epochs: int, batch_size: int,
                lr: float, seed: int = 0, device=None) -> list[float]:
    """The PyTorch style: an explicit loop of forward, loss, backward and an SGD step.

    Shapes: X (N, D) float32, y (N,) int64 -> one mean training loss per epoch.
    """
    import torch

    device = torch.device("cpu" if device is None else device)
    model.to(device)
    Xt, yt = torch.as_tensor(X, device=device), torch.as_tensor(y, device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses = []
    for order in epoch_orders(len(X), epochs, seed):
        total = 0.0
        for start in range(0, len(X), batch_size):
            idx = torch.as_tensor(order[start:start + batch_size], device=device)
            loss = loss_fn(model(Xt[idx]), yt[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        losses.append(total / len(X))
    return losses


def train_keras(model, X: np.ndarray, y: np.ndarray, epochs: int, batch_size: int,
                lr: float, seed: int = 0) -> list[float]:
    """The Keras style: declare optimizer and loss with ``compile``, then ``fit`` runs the loop.

    Shapes: X (N, D) float32, y (N,) int64 -> one mean training loss per epoch.
    Each epoch is fit on the data in the order of :func:`epoch_orders` with
    ``shuffle=False``, so the minibatches equal those of :func:`train_torch`.
    """
    keras = import_keras()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    losses = []
    for order in epoch_orders(len(X), epochs, seed):
        history = model.fit(X[order], y[order], batch_size=batch_size, epochs=1,
                            shuffle=False, verbose=0)
        losses.append(float(history.history["loss"][0]))
    return losses


def torch_accuracy(model, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows whose largest logit is the label (no gradients kept)."""
    import torch

    device = next(model.parameters()).device
    with torch.no_grad():
        pred = model(torch.as_tensor(X, device=device)).argmax(dim=1).cpu().numpy()
    return float(np.mean(pred == y))


def keras_accuracy(model, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows whose largest logit (``model.predict``) is the label."""
    return float(np.mean(model.predict(X, verbose=0).argmax(axis=1) == y))


# --- graphs: eager, traced, exported, compiled -------------------------------------------

def branchy(x):
    """Data-dependent control flow: 2 x when sum(x) > 0, else -x (works on torch tensors).

    Shapes: x (...) -> (...). A trace records only the branch its example input took.
    """
    if x.sum() > 0:
        return 2 * x
    return -x


def trace(fn, example):
    """``torch.jit.trace(fn, example)``, returning (traced function, list of warning messages).

    The warnings are caught instead of printed: the tracer's own warnings are
    the lesson (it cannot record Python control flow), and torch 2.13 also
    marks ``torch.jit.trace`` as deprecated in favour of export and compile.
    """
    import torch

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        traced = torch.jit.trace(fn, example)
    messages = [f"{w.category.__name__}: {str(w.message).splitlines()[0]}" for w in caught
                if w.category is not DeprecationWarning]
    return traced, list(dict.fromkeys(messages))  # each distinct warning once


def export_graph(module, example):
    """``torch.export.export``: one static graph of ATen operations, or the error that stops it.

    Returns (exported program or None, the name of the exception or None).
    Export refuses Python branches on tensor values instead of guessing.
    """
    import contextlib
    import io
    import logging

    import torch

    log = logging.getLogger("torch.fx.experimental.symbolic_shapes")
    level = log.level
    log.setLevel(logging.ERROR)  # export logs the failed guard before raising
    dump = io.StringIO()  # ... and prints the partial graph; the error's name is the lesson
    try:
        with contextlib.redirect_stdout(dump), contextlib.redirect_stderr(dump):
            return torch.export.export(module, (example,)), None
    except Exception as err:  # noqa: BLE001 - the kind of failure is what we report
        return None, type(err).__name__
    finally:
        log.setLevel(level)


def graph_ops(exported) -> list[str]:
    """The ATen operators of an exported program's graph, in execution order."""
    return [str(node.target) for node in exported.graph.nodes if node.op == "call_function"]


def compile_graphs(fn, example, backend: str = "aot_eager"):
    """``torch.compile(fn, backend=backend)``, and how many graphs Dynamo cut ``fn`` into.

    Returns (compiled function, number of graphs, number of graph breaks).
    TorchDynamo reads the Python bytecode and captures one graph per stretch
    of tensor code; where Python must decide something from a tensor's value
    it breaks the graph, runs that bit of Python, and continues in a new
    graph. ``aot_eager`` captures and replays the graphs without generating
    code; the default backend ``inductor`` also compiles them (C++ on a CPU,
    Triton on a GPU), which makes the first call far slower.
    """
    import torch

    torch._dynamo.reset()
    explanation = torch._dynamo.explain(fn)(example)
    return (torch.compile(fn, backend=backend), explanation.graph_count,
            explanation.graph_break_count)


def as_module(fn):
    """Wrap a tensor function in a ``torch.nn.Module`` (what ``torch.export`` takes)."""
    import torch

    class Wrapped(torch.nn.Module):
        def forward(self, x):
            return fn(x)

    return Wrapped()
