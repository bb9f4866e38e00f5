"""The array engine dlbook.autograd.Tensor: every op's gradient against central differences,
broadcasting reduced back to each operand's shape, a two-layer MLP against torch, bad input."""

import numpy as np
import pytest

import dlbook.functional as F
from dlbook.autograd import Tensor, Value, cross_entropy, render, zero_grad
from dlbook.autograd.tensor import _unbroadcast
from dlbook.diagnostics.numgrad import numerical_gradient, relative_error

GRAD_TOL = 1e-7
TORCH_TOL = 1e-10
RNG = np.random.default_rng(6)
LABELS = np.array([0, 2, 1, 2])


def positive(*shape):
    return RNG.uniform(0.5, 2.0, size=shape)


def away_from_zero(*shape):
    return RNG.choice([-1.0, 1.0], size=shape) * RNG.uniform(0.2, 2.0, size=shape)


# name, function of Tensors, inputs (numpy arrays)
CASES = [
    ("add", lambda a, b: a + b, [RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))]),
    ("sub", lambda a, b: a - b, [RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))]),
    ("mul", lambda a, b: a * b, [RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))]),
    ("div", lambda a, b: a / b, [RNG.normal(size=(3, 4)), away_from_zero(3, 4)]),
    ("neg", lambda a: -a, [RNG.normal(size=(3, 4))]),
    ("radd", lambda a: 2.0 + a, [RNG.normal(size=(3, 4))]),
    ("rsub", lambda a: 2.0 - a, [RNG.normal(size=(3, 4))]),
    ("rmul", lambda a: 2.0 * a, [RNG.normal(size=(3, 4))]),
    ("rtruediv", lambda a: 2.0 / a, [away_from_zero(3, 4)]),
    ("array_op_tensor", lambda a: np.full((3, 4), 1.5) * a - np.ones(4), [RNG.normal(size=(3, 4))]),
    ("pow2", lambda a: a ** 2, [RNG.normal(size=(3, 4))]),
    ("pow3", lambda a: a ** 3, [away_from_zero(3, 4)]),
    ("sqrt", lambda a: a ** 0.5, [positive(3, 4)]),
    ("pow-1.5", lambda a: a ** -1.5, [positive(3, 4)]),
    ("matmul", lambda a, b: a @ b, [RNG.normal(size=(3, 4)), RNG.normal(size=(4, 2))]),
    ("sum_all", lambda a: a.sum(), [RNG.normal(size=(3, 4))]),
    ("sum_axis0", lambda a: a.sum(axis=0), [RNG.normal(size=(3, 4))]),
    ("sum_axes_keepdims", lambda a: a.sum(axis=(0, 2), keepdims=True), [RNG.normal(size=(2, 3, 4))]),
    ("sum_negative_axis", lambda a: a.sum(axis=-1), [RNG.normal(size=(2, 3, 4))]),
    ("mean_all", lambda a: a.mean(), [RNG.normal(size=(3, 4))]),
    ("mean_axis1", lambda a: a.mean(axis=1), [RNG.normal(size=(3, 4))]),
    ("mean_keepdims", lambda a: a.mean(axis=(1, 2), keepdims=True), [RNG.normal(size=(2, 3, 4))]),
    ("exp", lambda a: a.exp(), [RNG.normal(size=(3, 4))]),
    ("log", lambda a: a.log(), [positive(3, 4)]),
    ("tanh", lambda a: a.tanh(), [RNG.normal(size=(3, 4))]),
    ("sigmoid", lambda a: a.sigmoid(), [RNG.normal(size=(3, 4))]),
    ("relu", lambda a: a.relu(), [away_from_zero(3, 4)]),
    ("reshape", lambda a: a.reshape(2, 6) * np.arange(12.0).reshape(2, 6), [RNG.normal(size=(3, 4))]),
    ("transpose", lambda a: a.transpose(2, 0, 1), [RNG.normal(size=(2, 3, 4))]),
    ("T", lambda a: a.T @ a, [RNG.normal(size=(3, 4))]),
    ("log_softmax", lambda a: a.log_softmax(), [RNG.normal(size=(3, 4))]),
    ("log_softmax_axis0", lambda a: a.log_softmax(axis=0), [RNG.normal(size=(3, 4))]),
    ("cross_entropy", lambda a: a.cross_entropy(LABELS), [RNG.normal(size=(4, 3))]),
    ("fan_out", lambda a: a * a + a.tanh() * a, [RNG.normal(size=(3, 4))]),
]
# the broadcasting cases: the gradient of each operand must come back in its own shape
BROADCAST = [
    ("(N,D)+(D,)", lambda a, b: a + b, [RNG.normal(size=(4, 3)), RNG.normal(size=3)]),
    ("(N,1)*(1,D)", lambda a, b: a * b, [RNG.normal(size=(4, 1)), RNG.normal(size=(1, 3))]),
    ("scalar*(N,D)", lambda a, b: a * b, [RNG.normal(size=()), RNG.normal(size=(4, 3))]),
    ("(N,D)-scalar", lambda a, b: a - b, [RNG.normal(size=(4, 3)), RNG.normal(size=())]),
    ("(N,D)/(N,1)", lambda a, b: a / b, [RNG.normal(size=(4, 3)), away_from_zero(4, 1)]),
    ("(2,1,4)*(3,1)", lambda a, b: a * b, [RNG.normal(size=(2, 1, 4)), RNG.normal(size=(3, 1))]),
    ("(1,1)+(D,)", lambda a, b: a + b, [RNG.normal(size=(1, 1)), RNG.normal(size=3)]),
]


def check_gradients(fn, inputs):
    """Backward with a random upstream gradient vs central differences of sum(fn * dout)."""
    out = fn(*[Tensor(x) for x in inputs])
    dout = RNG.normal(size=out.shape)
    leaves = [Tensor(x) for x in inputs]
    fn(*leaves).backward(dout)
    for x, leaf in zip(inputs, leaves):
        assert leaf.grad.shape == x.shape
        numeric = numerical_gradient(lambda _: float(np.sum(fn(*map(Tensor, inputs)).data * dout)), x)
        assert relative_error(leaf.grad, numeric) < GRAD_TOL


@pytest.mark.parametrize("name, fn, inputs", CASES, ids=[c[0] for c in CASES])
def test_op_gradient_matches_numerical_gradient(name, fn, inputs):
    check_gradients(fn, [x.copy() for x in inputs])


@pytest.mark.parametrize("name, fn, inputs", BROADCAST, ids=[c[0] for c in BROADCAST])
def test_broadcast_gradient_is_reduced_to_operand_shape(name, fn, inputs):
    check_gradients(fn, [x.copy() for x in inputs])


def test_unbroadcast_sums_over_stretched_axes():
    g = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(_unbroadcast(g, (3,)), g.sum(axis=0))
    np.testing.assert_array_equal(_unbroadcast(g, (4, 1)), g.sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(_unbroadcast(g, (1, 3)), g.sum(axis=0, keepdims=True))
    assert _unbroadcast(g, ()) == 66.0 and _unbroadcast(g, ()).shape == ()
    assert _unbroadcast(g, (4, 3)) is g  # nothing was broadcast: nothing to do
    g3 = np.ones((2, 3, 4))
    np.testing.assert_array_equal(_unbroadcast(g3, (3, 1)), np.full((3, 1), 8.0))
    with pytest.raises(ValueError):
        _unbroadcast(g, (2, 3))


def test_mlp_gradients_match_torch(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    N, D, H, C = 8, 5, 6, 3
    arrays = {"X": rng.normal(size=(N, D)), "W1": rng.normal(size=(D, H)) / np.sqrt(D),
              "b1": rng.normal(size=H) * 0.1, "W2": rng.normal(size=(H, C)) / np.sqrt(H),
              "b2": rng.normal(size=C) * 0.1}
    y = rng.integers(0, C, size=N)
    ours = {k: Tensor(v, label=k) for k, v in arrays.items()}
    logits = (ours["X"] @ ours["W1"] + ours["b1"]).relu() @ ours["W2"] + ours["b2"]
    loss = cross_entropy(logits, y)
    loss.backward()
    theirs = {k: torch.tensor(v, device=device, requires_grad=True) for k, v in arrays.items()}
    hidden = torch.relu(theirs["X"] @ theirs["W1"] + theirs["b1"])
    t_loss = torch.nn.functional.cross_entropy(hidden @ theirs["W2"] + theirs["b2"],
                                               torch.as_tensor(y, device=device))
    t_loss.backward()
    assert abs(float(loss.data) - t_loss.item()) < TORCH_TOL
    assert abs(float(loss.data) - F.cross_entropy(logits.data, y)) < TORCH_TOL
    np.testing.assert_allclose(logits.grad, F.cross_entropy_grad(logits.data, y), atol=TORCH_TOL)
    for k in arrays:
        np.testing.assert_allclose(ours[k].grad, theirs[k].grad.cpu().numpy(), atol=TORCH_TOL,
                                   rtol=TORCH_TOL, err_msg=k)


def test_float64_by_default_and_float32_on_request():
    assert Tensor([1, 2]).data.dtype == np.float64
    assert Tensor(np.ones(2, dtype=np.float32)).data.dtype == np.float64
    x = Tensor(np.ones((2, 3)), dtype=np.float32)
    out = ((x * 2.0).tanh() @ np.ones((3, 1))).sum()
    out.backward()
    assert out.data.dtype == np.float32 and x.grad.dtype == np.float32
    with pytest.raises(TypeError, match="floating dtype; got int64"):
        Tensor([1, 2], dtype=np.int64)


def test_leaf_data_shares_memory_and_zero_grad_works_in_place():
    w = np.ones(3)
    t = Tensor(w)
    assert np.shares_memory(t.data, w)
    loss = (t * t).sum()
    loss.backward()
    loss.backward()
    np.testing.assert_array_equal(t.grad, 4 * w)  # leaf gradients accumulate over calls
    grad = t.grad
    zero_grad(loss)
    assert t.grad is grad and not grad.any()


def test_render_shows_shapes():
    x = Tensor(np.ones((2, 3)), label="x")
    text = render((x * 2.0).sum())
    assert "x  (leaf)  data=array(2, 3)" in text and "sum(" in text


@pytest.mark.parametrize("bad, name", [("a", "str"), (Value(1.0), "Value"), ([1.0], "list"),
                                       (None, "NoneType")])
def test_bad_operands_are_type_errors_naming_what_came(bad, name):
    with pytest.raises(TypeError, match=f"expected a Tensor, numpy array or number; got {name}"):
        Tensor(np.ones(3)) * bad
    with pytest.raises(TypeError, match=f"got {name}"):
        Tensor(np.ones(3)) ** bad


def test_bad_data_is_a_type_error():
    with pytest.raises(TypeError, match="real-valued"):
        Tensor("abc")
    with pytest.raises(TypeError, match="real-valued"):
        Tensor(Tensor(1.0))
    with pytest.raises(TypeError, match="got ndarray"):
        cross_entropy(np.zeros((2, 3)), [0, 1])


@pytest.mark.parametrize("call, match", [
    (lambda: Tensor(np.ones((3, 4))) + np.ones(3), r"broadcastable shapes; got \(3, 4\) and \(3,\)"),
    (lambda: Tensor(np.ones(3)) @ np.ones(3), r"\(N, D\) @ \(D, M\); got \(3,\) @ \(3,\)"),
    (lambda: Tensor(np.ones((2, 3))) @ np.ones((2, 3)), r"got \(2, 3\) @ \(2, 3\)"),
    (lambda: Tensor(np.ones(3)).backward(), r"non-scalar output; got shape \(3,\)"),
    (lambda: Tensor(np.ones(3)).backward(np.ones(2)), r"grad of shape \(3,\); got shape \(2,\)"),
    (lambda: Tensor(np.array([1.0, 0.0])).log(), "positive inputs; got min 0"),
    (lambda: Tensor(np.array([-1.0, 2.0])) ** 0.5, "non-negative base"),
    (lambda: Tensor(np.ones((2, 3))).sum(axis=2), "axis 2"),
    (lambda: Tensor(np.ones((2, 3))).mean(axis=(0, -3)), "axis -3"),
    (lambda: Tensor(np.ones((2, 3))).reshape(4, 2), r"shape \(4, 2\)"),
    (lambda: Tensor(np.ones((2, 3))).transpose(0, 0), r"permutation of 2 axes; got \(0, 0\)"),
    (lambda: Tensor(np.ones((2, 3))).log_softmax(axis=2), "axis 2"),
    (lambda: Tensor(np.ones(3)).cross_entropy([0, 1, 2]), r"logits of shape \(N, C\)"),
    (lambda: Tensor(np.ones((2, 3))).cross_entropy([0, 1, 2]), r"targets of shape \(2,\)"),
    (lambda: Tensor(np.ones((2, 3))).cross_entropy([0, 3]), r"labels in \[0, 3\)"),
])
def test_bad_arguments_are_value_errors_naming_what_came(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_fractional_labels_are_a_type_error():
    with pytest.raises(TypeError, match="integer class labels"):
        Tensor(np.ones((2, 3))).cross_entropy(np.array([0.5, 1.0]))
