"""Random expressions differentiated twice: by dlbook.autograd and by torch.autograd (float64).

A seeded generator builds expression trees over 3-4 input variables from the
whole op set. Ops with a restricted domain only ever see arguments inside it:
log takes exp(a), a*a + 1 or sigmoid(a); division is by b*b + 1 or exp(b);
fractional powers act on a*a + 1. Expressions whose value or gradient
overflows (exp of a large number) are redrawn. One interpreter evaluates a
tree for Value, Tensor and torch alike, since all three spell the functions as
methods (``a.exp()``, ``a.sum(axis, keepdims)``).
"""

from functools import lru_cache

import numpy as np
import pytest

from dlbook.autograd import Tensor, Value

torch = pytest.importorskip("torch")

N_SCALAR, N_TENSOR = 200, 50
RTOL = 1e-9
ZERO_SCALE = 1e-6  # the scale used when torch's whole result is 0 (e.g. behind a dead ReLU)
MAX_DEPTH = 5
MAGNITUDE = 1e6  # redraw expressions whose value or gradient is larger than this
UNARY = ["neg", "tanh", "sigmoid", "relu", "exp", "log_exp", "log_sq", "log_sig", "pow_int",
         "pow_frac", "rconst"]
BINARY = ["add", "sub", "mul", "div_sq", "div_exp"]
REDUCE = ["sum", "mean", "log_softmax", "sum_all"]  # Tensor expressions only


def _random_tree(rng, n_vars, depth, shapes=None):
    """A random expression tree (nested tuples). With ``shapes``, also return its shape."""
    leaf_p = 0.0 if depth < 2 else 0.3 if depth < MAX_DEPTH else 1.0
    if rng.random() < leaf_p:
        if rng.random() < 0.15:
            return ("const", round(float(rng.uniform(-2, 2)), 3)), ()
        i = int(rng.integers(n_vars))
        return ("var", i), (shapes[i] if shapes else ())
    kinds = UNARY + BINARY + (REDUCE if shapes else [])
    kind = kinds[rng.integers(len(kinds))]
    a, sa = _random_tree(rng, n_vars, depth + 1, shapes)
    if kind in BINARY:
        b, sb = _random_tree(rng, n_vars, depth + 1, shapes)
        return (kind, a, b), np.broadcast_shapes(sa, sb)
    if kind == "pow_int":
        return (kind, a, int(rng.integers(2, 4))), sa
    if kind == "pow_frac":
        return (kind, a, float(rng.choice([0.5, -0.5, 1.5, -1.5]))), sa
    if kind == "rconst":
        return (kind, a, int(rng.integers(4)), round(float(rng.uniform(0.5, 2)), 3)), sa
    if kind in ("sum", "mean", "log_softmax"):
        if len(sa) == 0:
            return ("tanh", a), sa
        axis = int(rng.integers(len(sa)))
        shape = sa if kind == "log_softmax" else sa[:axis] + (1,) + sa[axis + 1:]
        return (kind, a, axis), shape
    return (kind, a), (() if kind == "sum_all" else sa)


def evaluate(tree, xs):
    """Evaluate a tree on Values, Tensors or torch tensors ``xs``."""
    kind, args = tree[0], tree[1:]
    if kind == "var":
        return xs[args[0]]
    if kind == "const":
        return args[0]
    a = _lift(evaluate(args[0], xs), xs[0])
    if kind in BINARY:
        b = _lift(evaluate(args[1], xs), xs[0])
        if kind == "div_sq":
            return a / (b * b + 1.0)
        if kind == "div_exp":
            return a / _call(b, "exp")
        return {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b}[kind]()
    if kind == "neg":
        return -a
    if kind in ("tanh", "sigmoid", "relu", "exp"):
        return _call(a, kind)
    if kind == "log_exp":
        return _call(_call(a, "exp"), "log")
    if kind == "log_sq":
        return _call(a * a + 1.0, "log")
    if kind == "log_sig":
        return _call(_call(a, "sigmoid"), "log")
    if kind == "pow_int":
        return a ** args[1]
    if kind == "pow_frac":
        return (a * a + 1.0) ** args[1]
    if kind == "rconst":
        c = args[2]
        return [lambda: c + a, lambda: c - a, lambda: c * a, lambda: c / (a * a + 1.0)][args[1]]()
    if kind == "sum_all":
        return a.sum()
    if kind == "log_softmax":
        return a.log_softmax(args[1])
    return getattr(a, kind)(args[1], True)  # sum / mean with keepdims


def _call(a, name):
    return getattr(a, name)()


def _lift(a, like):
    """A constant as a 0-d node of ``like``'s kind (Value, Tensor or torch), so methods exist."""
    if not isinstance(a, float):
        return a
    if isinstance(like, (Value, Tensor)):
        return type(like)(a)
    return torch.tensor(a, dtype=like.dtype, device=like.device)


def variables(tree):
    """The set of input indices a tree uses."""
    own = {tree[1]} if tree[0] == "var" else set()
    return own.union(*(variables(a) for a in tree[1:] if isinstance(a, tuple)))


def show(tree):
    """The expression as text, for failure messages."""
    kind, args = tree[0], tree[1:]
    if kind == "var":
        return f"x{args[0]}"
    if kind == "const":
        return repr(args[0])
    inner = ", ".join(show(a) if isinstance(a, tuple) else repr(a) for a in args)
    return f"{kind}({inner})"


def _bounded(*arrays):
    return all(np.all(np.isfinite(a)) and np.all(np.abs(a) < MAGNITUDE) for a in arrays)


@lru_cache(maxsize=None)
def scalar_cases():
    """N_SCALAR (tree, inputs) pairs whose Value results are finite and moderate."""
    rng, cases = np.random.default_rng(2024), []
    while len(cases) < N_SCALAR:
        n_vars = int(rng.integers(3, 5))
        tree, _ = _random_tree(rng, n_vars, 0)
        inputs = [float(v) for v in rng.normal(size=n_vars)]
        if len(variables(tree)) < n_vars:
            continue  # every input must take part
        xs = [Value(v) for v in inputs]
        out = evaluate(tree, xs)
        out.backward()
        if _bounded(out.data, [x.grad for x in xs]):
            cases.append((tree, inputs))
    return cases


@lru_cache(maxsize=None)
def tensor_cases():
    """N_TENSOR (tree, inputs, dout) triples over broadcastable shapes."""
    rng, cases = np.random.default_rng(7), []
    while len(cases) < N_TENSOR:
        n, d = int(rng.integers(2, 5)), int(rng.integers(2, 6))
        choices = [(n, d), (d,), (n, 1), (1, d), (), (1, 1)]
        n_vars = int(rng.integers(3, 5))
        shapes = [(n, d)] + [choices[i] for i in rng.integers(len(choices), size=n_vars - 1)]
        tree, shape = _random_tree(rng, n_vars, 0, shapes)
        inputs = [rng.normal(size=s) for s in shapes]
        dout = rng.normal(size=shape)
        if len(variables(tree)) < n_vars:
            continue
        xs = [Tensor(v) for v in inputs]
        out = evaluate(tree, xs)
        out.backward(dout)
        if _bounded(out.data, *[x.grad for x in xs]):
            cases.append((tree, inputs, dout))
    return cases


def assert_agree(ours, theirs, what):
    """|ours - theirs| <= RTOL * max|theirs| entrywise: relative error measured against the
    array's largest entry, so an entry that cancels to nearly 0 is not held to 1e-9 of itself."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    scale = max(ZERO_SCALE, float(np.max(np.abs(theirs), initial=0.0)))
    assert ours.shape == theirs.shape, what
    assert np.all(np.abs(ours - theirs) <= RTOL * scale), (
        f"{what}: max diff {np.max(np.abs(ours - theirs)):.3e} at scale {scale:.3e}")


def torch_value_and_grads(tree, inputs, device, dout=None):
    ts = [torch.tensor(np.asarray(v), dtype=torch.float64, device=device, requires_grad=True)
          for v in inputs]
    out = evaluate(tree, ts)
    weight = torch.ones_like(out) if dout is None else torch.tensor(dout, device=device)
    grads = torch.autograd.grad((out * weight).sum(), ts, allow_unused=True)
    grads = [np.zeros(np.shape(v)) if g is None else g.cpu().numpy() for v, g in zip(inputs, grads)]
    return out.detach().cpu().numpy(), grads


def test_generators_cover_the_whole_op_set():
    used = set()

    def collect(tree):
        used.add(tree[0])
        for a in tree[1:]:
            if isinstance(a, tuple):
                collect(a)
    for case in scalar_cases() + tensor_cases():
        collect(case[0])
    assert set(UNARY + BINARY + REDUCE) <= used
    assert len(scalar_cases()) >= 200 and len(tensor_cases()) >= 50


@pytest.mark.parametrize("index", range(N_SCALAR))
def test_random_scalar_expression_matches_torch(index, device):
    tree, inputs = scalar_cases()[index]
    xs = [Value(v) for v in inputs]
    out = evaluate(tree, xs)
    out.backward()
    value, grads = torch_value_and_grads(tree, inputs, device)
    what = show(tree)
    assert_agree(out.data, value, f"value of {what}")
    assert_agree([x.grad for x in xs], grads, f"gradient of {what}")


@pytest.mark.parametrize("index", range(N_TENSOR))
def test_random_tensor_expression_matches_torch(index, device):
    tree, inputs, dout = tensor_cases()[index]
    xs = [Tensor(v) for v in inputs]
    out = evaluate(tree, xs)
    out.backward(dout)
    value, grads = torch_value_and_grads(tree, inputs, device, dout)
    what = show(tree)
    assert_agree(out.data, value, f"value of {what}")
    for i, (x, g) in enumerate(zip(xs, grads)):
        assert_agree(x.grad, g, f"gradient wrt x{i} {x.shape} of {what}")
