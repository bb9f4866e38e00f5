"""The scalar engine dlbook.autograd.Value: every op against its analytic derivative,
fan-out accumulation, deep graphs, repeated backward calls, graph tracing and bad input."""

import math

import numpy as np
import pytest

from dlbook.autograd import Value, render, topological_order, trace, zero_grad

TOL = 1e-12


def sig(x):
    return 1.0 / (1.0 + math.exp(-x))


# name, f on Values, f on floats, (df/da, df/db) on floats
BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: (1.0, 1.0)),
    ("sub", lambda a, b: a - b, lambda a, b: (1.0, -1.0)),
    ("mul", lambda a, b: a * b, lambda a, b: (b, a)),
    ("div", lambda a, b: a / b, lambda a, b: (1 / b, -a / b**2)),
]
UNARY = [
    ("neg", lambda v: -v, lambda x: -x, lambda x: -1.0),
    ("square", lambda v: v**2, lambda x: x**2, lambda x: 2 * x),
    ("cube", lambda v: v**3, lambda x: x**3, lambda x: 3 * x**2),
    ("inverse", lambda v: v**-1, lambda x: 1 / x, lambda x: -1 / x**2),
    ("exp", Value.exp, math.exp, math.exp),
    ("tanh", Value.tanh, math.tanh, lambda x: 1 - math.tanh(x) ** 2),
    ("sigmoid", Value.sigmoid, sig, lambda x: sig(x) * (1 - sig(x))),
    ("relu", Value.relu, lambda x: max(x, 0.0), lambda x: float(x > 0)),
    ("radd", lambda v: 2.5 + v, lambda x: 2.5 + x, lambda x: 1.0),
    ("rsub", lambda v: 2.5 - v, lambda x: 2.5 - x, lambda x: -1.0),
    ("rmul", lambda v: 2.5 * v, lambda x: 2.5 * x, lambda x: 2.5),
    ("rtruediv", lambda v: 2.5 / v, lambda x: 2.5 / x, lambda x: -2.5 / x**2),
]
POSITIVE_ONLY = [
    ("log", Value.log, math.log, lambda x: 1 / x),
    ("sqrt", lambda v: v**0.5, math.sqrt, lambda x: 0.5 / math.sqrt(x)),
    ("pow_1.5", lambda v: v**1.5, lambda x: x**1.5, lambda x: 1.5 * x**0.5),
]


def close(a, b):
    return abs(a - b) <= TOL * max(1.0, abs(a), abs(b))


@pytest.mark.parametrize("name, f, df", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("a, b", [(1.5, -0.7), (-2.0, 3.0), (0.3, 0.4)])
def test_binary_ops_match_analytic_derivatives(name, f, df, a, b):
    x, y = Value(a), Value(b)
    out = f(x, y)
    out.backward()
    assert close(out.data, f(a, b))
    assert close(x.grad, df(a, b)[0]) and close(y.grad, df(a, b)[1])
    assert out.parents == (x, y)


@pytest.mark.parametrize("name, f, fx, df", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("a", [-1.3, 0.4, 2.0])
def test_unary_ops_match_analytic_derivatives(name, f, fx, df, a):
    x = Value(a)
    out = f(x)
    out.backward()
    assert close(out.data, fx(a)) and close(x.grad, df(a))


@pytest.mark.parametrize("name, f, fx, df", POSITIVE_ONLY, ids=[u[0] for u in POSITIVE_ONLY])
@pytest.mark.parametrize("a", [0.2, 1.0, 3.7])
def test_positive_domain_ops_match_analytic_derivatives(name, f, fx, df, a):
    x = Value(a)
    out = f(x)
    out.backward()
    assert close(out.data, fx(a)) and close(x.grad, df(a))


def test_op_names_and_local_grads_are_recorded():
    x, y = Value(2.0, label="x"), Value(5.0, label="y")
    z = x * y
    assert (z.op, z.local_grads, z.parents) == ("*", (5.0, 2.0), (x, y))
    assert (x ** 2).op == "**2" and x.tanh().op == "tanh" and (-x).op == "neg"
    assert x.op == "" and x.parents == ()


def test_fan_out_gradients_are_summed():
    x = Value(3.0)
    f = x * x + x  # x reaches f three times: df/dx = x + x + 1
    f.backward()
    assert f.data == 12.0 and x.grad == 7.0


def test_shared_subexpression_is_visited_once():
    x = Value(0.5)
    h = x.tanh()
    f = h * h + h.exp()  # h has two consumers; its gradient must be complete before it flows
    f.backward()
    t = math.tanh(0.5)
    assert close(h.grad, 2 * t + math.exp(t))
    assert close(x.grad, (2 * t + math.exp(t)) * (1 - t * t))


def test_ten_thousand_node_chain_has_no_recursion_error():
    x = Value(1.0)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()  # a recursive topological sort would exceed Python's limit of ~1000 frames
    assert close(x.grad, 1.0001**10_000)
    assert len(topological_order(y)) == 20_001  # x, 10,000 constants and 10,000 products


def test_leaf_gradients_accumulate_and_interior_ones_are_recomputed():
    x = Value(2.0)
    h = x * 3.0
    f = h * h
    f.backward()
    f.backward()
    assert x.grad == 2 * 36.0  # two calls add up at the leaf, as in PyTorch
    assert h.grad == 12.0  # the interior node reports one sweep's gradient
    zero_grad(f)
    assert x.grad == 0.0 and h.grad == 0.0 and f.grad == 0.0


def test_two_losses_sharing_a_node_give_the_sum_of_their_gradients():
    x = Value(1.5)
    h = x.exp()
    loss1, loss2 = h * 2.0, h.log()
    loss1.backward()
    loss2.backward()
    assert close(x.grad, 2 * math.exp(1.5) + 1.0)


def test_backward_seed_scales_every_gradient():
    x = Value(1.0)
    f = x.sigmoid()
    f.backward(3.0)
    assert close(x.grad, 3.0 * sig(1.0) * (1 - sig(1.0)))


def test_extreme_inputs_stay_finite_or_become_inf_like_float64():
    assert Value(-1000.0).sigmoid().data == 0.0 and Value(1000.0).sigmoid().data == 1.0
    assert Value(1000.0).exp().data == math.inf
    x = Value(0.0)
    x.relu().backward()
    assert x.grad == 0.0  # ReLU's derivative at the kink is taken as 0, as in PyTorch
    x = Value(0.0)
    (x ** 0.5).backward()
    assert x.grad == math.inf


def test_numpy_scalars_work_on_either_side():
    v = np.float64(2.0) * Value(3.0) + np.int64(1)
    assert isinstance(v, Value) and v.data == 7.0
    assert Value(np.float32(1.5)).data == 1.5 and float(Value(2.0)) == 2.0


@pytest.mark.parametrize("bad, name", [("a", "str"), ([1.0], "list"), (None, "NoneType"),
                                       (True, "bool"), (np.ones(2), "ndarray")])
def test_bad_operands_are_type_errors_naming_what_came(bad, name):
    with pytest.raises(TypeError, match=f"got {name}"):
        Value(1.0) + bad
    with pytest.raises(TypeError, match=f"got {name}"):
        Value(bad)
    with pytest.raises(TypeError, match=f"got {name}"):
        Value(1.0) ** bad


def test_value_exponent_and_bad_label_are_type_errors():
    with pytest.raises(TypeError, match="constant int or float exponent; got Value"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(TypeError, match="label to be a str; got int"):
        Value(1.0, label=3)
    with pytest.raises(TypeError, match="got str"):
        Value(1.0).backward("1")


@pytest.mark.parametrize("x", [0.0, -1.0])
def test_log_of_non_positive_is_a_value_error(x):
    with pytest.raises(ValueError, match="Value.log expected a positive input"):
        Value(x).log()


def test_invalid_powers_and_division_by_zero():
    with pytest.raises(ValueError, match="non-negative base"):
        Value(-2.0) ** 0.5
    assert (Value(-2.0) ** 3).data == -8.0  # integer exponents are fine for negative bases
    with pytest.raises(ZeroDivisionError, match="by zero"):
        Value(1.0) / 0
    with pytest.raises(ZeroDivisionError):
        Value(0.0) ** -1


def test_topological_order_puts_parents_first():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = (c + a).tanh() * c
    order = topological_order(d)
    position = {id(n): i for i, n in enumerate(order)}
    assert order[-1] is d and len(order) == 6
    for node in order:
        assert all(position[id(p)] < position[id(node)] for p in node.parents)


def test_trace_lists_one_edge_per_argument():
    x = Value(2.0, label="x")
    f = x * x + x
    nodes, edges = trace(f)
    assert [n.op for n in nodes] == ["", "*", "+"]
    assert sorted(edges) == [(0, 1), (0, 1), (0, 2), (1, 2)]


def test_render_prints_one_line_per_node():
    x, y = Value(2.0, label="x"), Value(-1.0, label="y")
    f = (x * y + x ** 2).tanh()
    f.backward()
    text = render(f)
    lines = text.splitlines()
    assert len(lines) == 6 and lines[-1].startswith("n5 = tanh(n4)")
    assert "x  (leaf)  data=2  grad=" in text and "= x * y" in text and "= x**2" in text


def test_repr_names_data_grad_and_op():
    assert repr(Value(2.0, label="w")) == "Value(data=2, grad=0, label='w')"
    assert repr(Value(1.0) + 1) == "Value(data=2, grad=0, op='+')"
