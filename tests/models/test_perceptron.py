"""dlbook.models.perceptron (chapter 1): gates, the learning rule, Novikoff's bound, errors, torch parity."""

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlbook.data import logic_gate  # noqa: E402
from dlbook.models.perceptron import (  # noqa: E402
    GATE_PARAMS,
    Perceptron,
    and_gate,
    format_truth_table,
    gate_perceptron,
    nand_gate,
    novikoff_bound,
    or_gate,
    xor_gate,
)
from dlbook.plot import plot_linear_boundary  # noqa: E402

GATES = {"and": and_gate, "or": or_gate, "nand": nand_gate, "xor": xor_gate}
INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)


def separable_data(n=60, d=3, rng=0):
    """Random points labelled by a random hyperplane, with the points near it removed."""
    gen = np.random.default_rng(rng)
    X = gen.uniform(-1, 1, size=(4 * n, d))
    w, b = gen.standard_normal(d), 0.1 * gen.standard_normal()
    s = X @ w + b
    keep = np.abs(s) > 0.1 * np.linalg.norm(w)
    return X[keep][:n], (s[keep][:n] > 0).astype(np.int64), w, b


# ---- hand-set gates ----------------------------------------------------------

@pytest.mark.parametrize("name", sorted(GATES))
def test_gate_truth_tables(name):
    X, y = logic_gate(name)
    out = GATES[name](X)
    assert out.dtype == np.int64 and out.shape == (4,)
    np.testing.assert_array_equal(out, y)


@pytest.mark.parametrize("name", sorted(GATE_PARAMS))
def test_gate_perceptron_uses_documented_params(name):
    p = gate_perceptron(name)
    w, b = GATE_PARAMS[name]
    np.testing.assert_array_equal(p.w, w)
    assert p.b == b
    # every hand-set gate keeps each input at least 0.5 away from its line
    assert np.min(np.abs(p.score(INPUTS))) == pytest.approx(0.5)


def test_nand_is_and_with_signs_flipped():
    (w_and, b_and), (w_nand, b_nand) = GATE_PARAMS["and"], GATE_PARAMS["nand"]
    np.testing.assert_array_equal(np.negative(w_and), w_nand)
    assert -b_and == b_nand
    np.testing.assert_array_equal(nand_gate(INPUTS), 1 - and_gate(INPUTS))


def test_xor_is_and_of_nand_and_or():
    hidden = np.column_stack([nand_gate(INPUTS), or_gate(INPUTS)])
    np.testing.assert_array_equal(xor_gate(INPUTS), and_gate(hidden))
    # and it works on real-valued inputs too: the band between two parallel lines
    np.testing.assert_array_equal(xor_gate([[0.5, 0.5], [0.1, 0.1], [0.9, 0.9]]), [1, 0, 0])


def test_gate_perceptron_rejects_unknown_name():
    with pytest.raises(ValueError, match="gate_perceptron expected .*; got 'xor'"):
        gate_perceptron("xor")


@pytest.mark.parametrize("fn", [and_gate, or_gate, nand_gate, xor_gate])
def test_gates_reject_wrong_shape(fn):
    with pytest.raises(ValueError, match=rf"{fn.__name__} expected x of shape \(N, 2\); got shape \(2,\)"):
        fn(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="got shape"):
        fn(np.zeros((4, 3)))


# ---- the Perceptron class ------------------------------------------------------

def test_forward_predict_score_shapes_and_step_at_zero():
    p = Perceptron(2, w=np.array([1.0, 1.0]), b=-1.0)
    s = p.score(INPUTS)
    np.testing.assert_array_equal(s, [-1.0, 0.0, 0.0, 1.0])
    out = p.forward(INPUTS)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [0.0, 0.0, 0.0, 1.0])  # a score of exactly 0 is class 0
    np.testing.assert_array_equal(p(INPUTS), out)
    assert p.predict(INPUTS).dtype == np.int64


def test_float32_weights_stay_float32():
    p = Perceptron(2, dtype=np.float32)
    X, y = logic_gate("and")
    p.fit(X, y, rng=0)
    assert p.w.dtype == np.float32 and p.forward(X).dtype == np.float32
    np.testing.assert_array_equal(p.predict(X), y)


def test_constructor_copies_w():
    w = np.array([1.0, 2.0])
    p = Perceptron(2, w=w)
    p.w += 1
    np.testing.assert_array_equal(w, [1.0, 2.0])


def test_update_moves_only_on_mistakes():
    p = Perceptron(2)
    assert p.update(np.array([1.0, 1.0]), 1, lr=0.5) == 1  # score 0 -> predicted 0: a mistake
    np.testing.assert_array_equal(p.w, [0.5, 0.5])
    assert p.b == 0.5
    assert p.update(np.array([1.0, 1.0]), 1, lr=0.5) == 0  # now right: nothing moves
    np.testing.assert_array_equal(p.w, [0.5, 0.5])
    assert p.update(np.array([0.0, 1.0]), 0) == 1  # fired on a negative: w -= x, b -= 1
    np.testing.assert_array_equal(p.w, [0.5, -0.5])
    assert p.b == -0.5


@pytest.mark.parametrize("name", ["and", "or", "nand"])
def test_fit_learns_separable_gates(name):
    X, y = logic_gate(name)
    p = Perceptron(2)
    history = p.fit(X, y, lr=1.0, epochs=100, rng=0)
    assert history[-1] == 0 and all(m > 0 for m in history[:-1])
    assert len(history) < 100  # it stopped early
    np.testing.assert_array_equal(p.predict(X), y)


@pytest.mark.parametrize("seed", range(5))
def test_mistakes_within_novikoff_bound(seed):
    X, y, w, b = separable_data(rng=seed)
    bound = novikoff_bound(X, y, w, b)
    p = Perceptron(X.shape[1])
    history = p.fit(X, y, epochs=1000, rng=seed)
    assert history[-1] == 0
    assert sum(history) <= bound
    np.testing.assert_array_equal(p.predict(X), y)


@pytest.mark.parametrize("name", ["and", "or", "nand"])
def test_gates_learned_within_novikoff_bound(name):
    X, y = logic_gate(name)
    w, b = GATE_PARAMS[name]
    for seed in range(20):
        history = Perceptron(2).fit(X, y, rng=seed)
        assert history[-1] == 0 and sum(history) <= novikoff_bound(X, y, np.array(w), b)


def test_novikoff_bound_value_for_hand_set_and():
    X, y = logic_gate("and")
    # R^2 = |(1, 1, 1)|^2 = 3; gamma = 0.5 / |(1, 1, -1.5)| = 0.5 / sqrt(4.25)
    assert novikoff_bound(X, y, np.array([1.0, 1.0]), -1.5) == pytest.approx(3 * 4.25 / 0.25)


def test_novikoff_bound_rejects_non_separators():
    X, y = logic_gate("and")
    with pytest.raises(ValueError, match="margin > 0; got margin"):
        novikoff_bound(X, y, np.array([1.0, 1.0]), -1.0)  # points on the line: margin 0
    with pytest.raises(ValueError, match="non-zero separator"):
        novikoff_bound(X, y, np.zeros(2), 0.0)
    with pytest.raises(ValueError, match=r"expected w of shape \(D,\)"):
        novikoff_bound(X, y, np.ones((2, 1)), 0.0)


def test_fit_never_converges_on_xor():
    X, y = logic_gate("xor")
    for seed in range(5):
        p = Perceptron(2)
        history = p.fit(X, y, epochs=300, rng=seed)
        assert len(history) == 300 and min(history) >= 1
        assert np.any(p.predict(X) != y)


def test_fourteen_of_sixteen_boolean_functions_are_learned():
    """The computable solution of the chapter's exercise: only XOR and XNOR fail."""
    failed = []
    for bits in itertools.product([0, 1], repeat=4):
        history = Perceptron(2).fit(INPUTS, np.array(bits), epochs=100, rng=0)
        if history[-1] != 0:
            failed.append(bits)
    assert failed == [(0, 1, 1, 0), (1, 0, 0, 1)]


def test_fit_is_deterministic_under_a_seed():
    X, y = logic_gate("nand")
    runs = []
    for rng in (7, 7, np.random.default_rng(7)):
        p = Perceptron(2)
        runs.append((p.fit(X, y, rng=rng), p.w.copy(), p.b))
    for history, w, b in runs[1:]:
        assert history == runs[0][0] and b == runs[0][2]
        np.testing.assert_array_equal(w, runs[0][1])


def test_fit_without_shuffle_visits_in_order():
    X, y = logic_gate("or")
    p, q = Perceptron(2), Perceptron(2)
    history = p.fit(X, y, shuffle=False)
    manual = []
    while not manual or manual[-1] != 0:
        manual.append(sum(q.update(X[i], y[i]) for i in range(4)))
    assert history == manual
    np.testing.assert_array_equal(p.w, q.w)


def test_learning_rate_only_scales_weights_from_zero():
    """From w = 0, b = 0 (exact arithmetic: lr a power of two) lr just rescales (w, b)."""
    X, y = logic_gate("nand")
    p1, p2 = Perceptron(2), Perceptron(2)
    h1, h2 = p1.fit(X, y, lr=1.0, rng=3), p2.fit(X, y, lr=0.125, rng=3)
    assert h1 == h2
    np.testing.assert_array_equal(p2.w, 0.125 * p1.w)
    assert p2.b == 0.125 * p1.b


def test_fit_continues_from_current_weights():
    X, y = logic_gate("and")
    p = Perceptron(2, w=np.array([1.0, 1.0]), b=-1.5)
    assert p.fit(X, y, rng=0) == [0]
    np.testing.assert_array_equal(p.w, [1.0, 1.0])


# ---- bad input ------------------------------------------------------------------

@pytest.mark.parametrize("X, y, match", [
    (np.zeros(4), np.zeros(4), r"Perceptron.fit expected x of shape \(N, 2\); got shape \(4,\)"),
    (np.zeros((4, 3)), np.zeros(4), r"expected x of shape \(N, 2\); got shape \(4, 3\)"),
    (np.zeros((4, 2)), np.zeros(3), r"expected y of shape \(4,\) to match x; got shape \(3,\)"),
    (np.zeros((4, 2)), np.array([-1, 1, 1, -1]), r"binary labels 0/1; got values \[-1, 1\]"),
    (np.zeros((4, 2)), np.array([0, 0.5, 1, 1]), r"binary labels 0/1; got values \[0.0, 0.5, 1.0\]"),
])
def test_fit_rejects_bad_shapes_and_labels(X, y, match):
    with pytest.raises(ValueError, match=match):
        Perceptron(2).fit(X, y)


def test_fit_rejects_bad_hyperparameters():
    X, y = logic_gate("and")
    with pytest.raises(ValueError, match="lr to be a finite float > 0; got 0"):
        Perceptron(2).fit(X, y, lr=0.0)
    with pytest.raises(TypeError, match="lr to be a float; got str"):
        Perceptron(2).fit(X, y, lr="1")
    with pytest.raises(ValueError, match="epochs >= 1; got 0"):
        Perceptron(2).fit(X, y, epochs=0)
    with pytest.raises(TypeError, match="rng"):
        Perceptron(2).fit(X, y, rng="seed")
    with pytest.raises(TypeError, match="binary labels 0/1; got dtype"):
        Perceptron(2).fit(X, np.array(["a", "b", "a", "b"]))


def test_constructor_and_update_reject_bad_input():
    with pytest.raises(ValueError, match=r"Perceptron expected w of shape \(2,\); got shape \(3,\)"):
        Perceptron(2, w=np.zeros(3))
    with pytest.raises(ValueError, match="n_features >= 1; got 0"):
        Perceptron(0)
    with pytest.raises(TypeError, match="float bias b; got str"):
        Perceptron(2, b="0")
    with pytest.raises(ValueError, match="finite bias"):
        Perceptron(2, b=float("nan"))
    p = Perceptron(2)
    with pytest.raises(ValueError, match=r"Perceptron.update expected x of shape \(2,\); got shape \(1, 2\)"):
        p.update(np.zeros((1, 2)), 1)
    with pytest.raises(ValueError, match=r"label y in \{0, 1\}; got -1"):
        p.update(np.zeros(2), -1)
    with pytest.raises(ValueError, match="Perceptron.score expected x"):
        p.predict(np.zeros((3, 5)))


# ---- truth tables and the boundary plot ------------------------------------------

def test_format_truth_table():
    text = format_truth_table(INPUTS, {"AND": and_gate(INPUTS), "XOR": xor_gate(INPUTS)})
    assert text.splitlines() == ["x1  x2  AND  XOR", " 0   0    0    0", " 0   1    0    1",
                                 " 1   0    0    1", " 1   1    1    0"]
    with pytest.raises(ValueError, match=r"column 'AND' of shape \(4,\); got shape \(3,\)"):
        format_truth_table(INPUTS, {"AND": np.zeros(3)})
    with pytest.raises(ValueError, match=r"expected X of shape \(N, D\)"):
        format_truth_table(np.zeros(4), {})


@pytest.mark.parametrize("w, b", [((1.0, 1.0), -1.5), ((1.0, 0.0), -0.5), ((0.2, -3.0), 1.0)])
def test_plot_linear_boundary_draws_the_line(w, b):
    fig, ax = plt.subplots()
    assert plot_linear_boundary(w, b, ax=ax, label="line") is ax
    (line,) = ax.get_lines()
    xs, ys = line.get_data()
    np.testing.assert_allclose(w[0] * np.asarray(xs) + w[1] * np.asarray(ys) + b, 0.0, atol=1e-12)
    assert ax.get_xlim() == (-0.5, 1.5) and len(ax.collections) == 1  # the shaded half-plane
    plt.close(fig)


def test_plot_linear_boundary_rejects_bad_w():
    with pytest.raises(ValueError, match="non-zero w"):
        plot_linear_boundary((0.0, 0.0), 1.0)
    with pytest.raises(ValueError, match=r"w of shape \(2,\); got shape \(3,\)"):
        plot_linear_boundary((1.0, 0.0, 0.0), 1.0)
    plt.close("all")


# ---- PyTorch parity ----------------------------------------------------------------

def torch_perceptron_rule(X, y, orders, lr, device):
    """The same learning rule written with torch ops; ``orders`` is the visiting order per epoch."""
    import torch

    Xt = torch.as_tensor(X, dtype=torch.float64, device=device)
    yt = torch.as_tensor(y, dtype=torch.float64, device=device)
    w = torch.zeros(X.shape[1], dtype=torch.float64, device=device)
    b = torch.zeros((), dtype=torch.float64, device=device)
    history = []
    for order in orders:
        mistakes = 0
        for i in order:
            y_hat = torch.heaviside(Xt[i] @ w + b, torch.zeros((), dtype=torch.float64, device=device))
            error = yt[i] - y_hat
            w = w + lr * error * Xt[i]
            b = b + lr * error
            mistakes += int(error != 0)
        history.append(mistakes)
        if mistakes == 0:
            break
    return history, w.cpu().numpy(), float(b)


@pytest.mark.parametrize("name", ["and", "or", "nand", "xor"])
def test_learning_rule_matches_torch(name, device):
    X, y = logic_gate(name)
    epochs = 20
    gen = np.random.default_rng(5)
    orders = [gen.permutation(4) for _ in range(epochs)]
    p = Perceptron(2)
    history = p.fit(X, y, lr=0.5, epochs=epochs, rng=5)
    t_history, t_w, t_b = torch_perceptron_rule(X, y, orders, 0.5, device)
    assert history == t_history
    np.testing.assert_array_equal(p.w, t_w)
    assert p.b == t_b


def test_predictions_match_torch_heaviside(device):
    import torch

    X, _, w, b = separable_data(n=50, rng=1)
    p = Perceptron(3, w=w, b=b)
    Xt = torch.as_tensor(X, dtype=torch.float64, device=device)
    wt = torch.as_tensor(w, dtype=torch.float64, device=device)
    out = torch.heaviside(Xt @ wt + b, torch.zeros((), dtype=torch.float64, device=device))
    np.testing.assert_array_equal(p.forward(X), out.cpu().numpy())


def test_non_power_of_two_learning_rate_breaks_exact_ties():
    """The chapter's exercise: in floating point lr = 0.1 can flip a tie at score 0."""
    X, y = logic_gate("and")
    h1, h2 = Perceptron(2).fit(X, y, lr=1.0, rng=0), Perceptron(2).fit(X, y, lr=0.1, rng=0)
    assert h1 != h2 and h1[-1] == h2[-1] == 0
