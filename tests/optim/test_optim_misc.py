"""Schedules and clipping vs torch; the optimizer contract (validation, in place, zero_grad)."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import dlbook.optim as optim

torch = pytest.importorskip("torch")
EPOCHS = 30
ALL_OPTIMIZERS = [optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adam, optim.AdamW]


def pairs(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s).astype(dtype) for s in [(3, 2), (4,)]]
    return [(p, rng.normal(size=p.shape).astype(dtype)) for p in params]


# --------------------------------------------------------------------------- schedules

def our_lrs(make_schedule, lr=0.1):
    opt = optim.SGD(pairs(), lr=lr)
    sched = make_schedule(opt)
    lrs = [opt.lr]
    for _ in range(EPOCHS):
        opt.step()
        sched.step()
        lrs.append(opt.lr)
        assert sched.get_last_lr() == opt.lr
    return np.array(lrs)


def torch_lrs(make_schedule, lr=0.1):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SequentialLR's deprecation chatter, if any
        sched = make_schedule(opt)
        lrs = [opt.param_groups[0]["lr"]]
        for _ in range(EPOCHS):
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
    return np.array(lrs)


TS = torch.optim.lr_scheduler
SCHEDULES = {
    "StepLR": (lambda o: optim.StepLR(o, step_size=7, gamma=0.5),
               lambda o: TS.StepLR(o, step_size=7, gamma=0.5)),
    "CosineAnnealingLR": (lambda o: optim.CosineAnnealingLR(o, T_max=12, eta_min=0.001),
                          lambda o: TS.CosineAnnealingLR(o, T_max=12, eta_min=0.001)),
    "LinearWarmup": (lambda o: optim.LinearWarmup(o, warmup_steps=5),
                     lambda o: TS.LinearLR(o, start_factor=1 / 5, end_factor=1.0,
                                           total_iters=4)),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_torch(name):
    ours, theirs = SCHEDULES[name]
    np.testing.assert_allclose(our_lrs(ours), torch_lrs(theirs), rtol=1e-12, atol=1e-15)


def test_cosine_goes_past_t_max_like_torch():
    lrs = our_lrs(lambda o: optim.CosineAnnealingLR(o, T_max=12, eta_min=0.001))
    assert lrs[0] == pytest.approx(0.1) and lrs[12] == pytest.approx(0.001)
    assert lrs[24] == pytest.approx(0.1)  # the cosine climbs back: period 2 * T_max


def test_warmup_cosine_matches_torch_sequential():
    W, T = 5, 25
    ours = our_lrs(lambda o: optim.WarmupCosineLR(o, warmup_steps=W, total_steps=T, eta_min=1e-3))
    theirs = torch_lrs(lambda o: TS.SequentialLR(o, [
        TS.LinearLR(o, start_factor=1 / W, end_factor=1.0, total_iters=W - 1),
        TS.CosineAnnealingLR(o, T_max=T - W, eta_min=1e-3)], milestones=[W]))
    np.testing.assert_allclose(ours[:T + 1], theirs[:T + 1], rtol=1e-12, atol=1e-15)
    assert ours[W - 1] == pytest.approx(0.1) and np.all(ours[T:] == pytest.approx(1e-3))


def test_step_lr_closed_form():
    lrs = our_lrs(lambda o: optim.StepLR(o, step_size=10, gamma=0.1), lr=1.0)
    np.testing.assert_allclose(lrs, 0.1 ** (np.arange(EPOCHS + 1) // 10), rtol=1e-12)


@pytest.mark.parametrize("make, error", [
    (lambda o: optim.StepLR(o, step_size=0), ValueError),
    (lambda o: optim.StepLR(o, step_size=2.5), TypeError),
    (lambda o: optim.StepLR(o, step_size=2, gamma=-1.0), ValueError),
    (lambda o: optim.CosineAnnealingLR(o, T_max=0), ValueError),
    (lambda o: optim.CosineAnnealingLR(o, T_max=10, eta_min=-1.0), ValueError),
    (lambda o: optim.LinearWarmup(o, warmup_steps=0), ValueError),
    (lambda o: optim.WarmupCosineLR(o, warmup_steps=10, total_steps=10), ValueError),
    (lambda o: optim.StepLR("sgd", step_size=2), TypeError),
])
def test_schedule_bad_arguments(make, error):
    with pytest.raises(error):
        make(optim.SGD(pairs(), lr=0.1))


# --------------------------------------------------------------------------- clipping

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(dtype, max_norm, device):
    grads = [g for _, g in pairs(dtype, seed=3)] + [np.full((2, 2, 2), 0.7, dtype=dtype)]
    tensors = [torch.zeros(g.shape, dtype=getattr(torch, np.dtype(dtype).name), device=device,
                           requires_grad=True) for g in grads]
    for t, g in zip(tensors, grads):
        t.grad = torch.tensor(g, device=device)
    ref_norm = torch.nn.utils.clip_grad_norm_(tensors, max_norm).item()
    total = optim.clip_grad_norm_(grads, max_norm)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    assert isinstance(total, float)
    assert total == pytest.approx(ref_norm, rel=tol)
    for g, t in zip(grads, tensors):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, t.grad.cpu().numpy(), rtol=tol, atol=tol)
    new_norm = np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads))
    assert new_norm <= max_norm * (1 + tol)


def test_clip_grad_norm_accepts_pairs_dicts_and_arrays():
    ps = pairs(seed=4)
    expected = np.sqrt(sum(np.sum(g ** 2) for _, g in ps))
    grads = [g.copy() for _, g in ps]
    assert optim.clip_grad_norm_(ps, 1.0) == pytest.approx(expected)
    assert optim.clip_grad_norm_({"W": grads[0], "b": grads[1]}, 1.0) == pytest.approx(expected)
    for (_, g_pair), g_dict in zip(ps, grads):  # same clipping either way, done in place
        np.testing.assert_allclose(g_pair, g_dict)
    single = np.array([3.0, 4.0])
    assert optim.clip_grad_norm_(single, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(single, [0.6, 0.8], rtol=1e-6)


FINITE = st.floats(-1e6, 1e6, allow_nan=False, width=64)


@settings(max_examples=100, deadline=None)
@given(st.lists(arrays(np.float64, st.integers(1, 6), elements=FINITE), min_size=1, max_size=3),
       st.floats(1e-3, 1e3))
def test_clip_grad_norm_properties(grads, max_norm):
    """Clipped norm <= max_norm; one common factor (direction kept); small norms untouched."""
    # (a norm within eps = 1e-6 of max_norm is still scaled, by max_norm / (norm + eps))
    before = [g.copy() for g in grads]
    total = optim.clip_grad_norm_(grads, max_norm)
    assert total == pytest.approx(np.sqrt(sum(np.sum(g ** 2) for g in before)), rel=1e-9)
    after = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    assert after <= max_norm * (1 + 1e-9)
    factor = min(1.0, max_norm / (total + optim.clip.CLIP_EPS))
    for g, g0 in zip(grads, before):
        np.testing.assert_allclose(g, g0 * factor, rtol=1e-12, atol=0)


@pytest.mark.parametrize("bad, error", [
    ([[1.0, 2.0]], TypeError), (["grad"], TypeError), (5, TypeError),
    ([np.arange(3)], TypeError),
])
def test_clip_grad_norm_bad_input(bad, error):
    with pytest.raises(error, match="clip_grad_norm_"):
        optim.clip_grad_norm_(bad, 1.0)
    with pytest.raises(ValueError, match="max_norm"):
        optim.clip_grad_norm_([np.ones(3)], -1.0)


# --------------------------------------------------------------------------- optimizer contract

@pytest.mark.parametrize("make, error, match", [
    (lambda p: optim.SGD(p, lr=-0.1), ValueError, "lr"),
    (lambda p: optim.Adam(p, lr=-1e-3), ValueError, "lr"),
    (lambda p: optim.SGD(p, lr="0.1"), TypeError, "lr"),
    (lambda p: optim.SGD(p, lr=float("nan")), ValueError, "lr"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-0.9), ValueError, "momentum"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), ValueError, "nesterov"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
     ValueError, "dampening"),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1.0), ValueError, "weight_decay"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), ValueError, r"betas\[0\]"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), ValueError, r"betas\[1\]"),
    (lambda p: optim.AdamW(p, betas=(0.9, 1.5)), ValueError, r"betas\[1\]"),
    (lambda p: optim.Adam(p, betas=0.9), TypeError, "betas"),
    (lambda p: optim.Adam(p, eps=-1e-8), ValueError, "eps"),
    (lambda p: optim.AdamW(p, weight_decay=-0.01), ValueError, "weight_decay"),
    (lambda p: optim.Adagrad(p, lr_decay=-0.1), ValueError, "lr_decay"),
    (lambda p: optim.Adagrad(p, initial_accumulator_value=-1.0), ValueError, "initial_acc"),
    (lambda p: optim.RMSprop(p, alpha=1.0), ValueError, "alpha"),
    (lambda p: optim.RMSprop(p, centered="yes"), TypeError, "centered"),
])
def test_bad_hyperparameters(make, error, match):
    with pytest.raises(error, match=match):
        make(pairs())


def _bad_pairs():
    p = np.zeros((2, 3))
    ro = np.zeros(3)
    ro.setflags(write=False)
    return [
        ("not a list", TypeError, "iterable"),
        (np.zeros((2, 3)), TypeError, "iterable"),
        (42, TypeError, "iterable"),
        ([], ValueError, "at least one"),
        ([p], TypeError, "pair"),
        ([(p, p, p)], TypeError, "pair"),
        ([(p.tolist(), np.zeros_like(p))], TypeError, "numpy array"),
        ([(p, np.zeros((3, 2)))], ValueError, "same shape"),
        ([(p, np.zeros((2, 3), dtype=np.float32))], TypeError, "same dtype"),
        ([(np.zeros(3, dtype=int), np.zeros(3, dtype=int))], TypeError, "float dtype"),
        ([(ro, np.zeros(3))], ValueError, "writeable"),
        ([(p, np.zeros_like(p)), (p, np.zeros_like(p))], ValueError, "once"),
    ]


@pytest.mark.parametrize("cls", ALL_OPTIMIZERS)
@pytest.mark.parametrize("bad, error, match", _bad_pairs())
def test_wrong_pairs_raise_clear_errors(cls, bad, error, match):
    with pytest.raises(error, match=f"{cls.__name__}.*{match}"):
        cls(bad, lr=0.1)


@pytest.mark.parametrize("cls", ALL_OPTIMIZERS)
def test_step_updates_in_place_and_leaves_grads_alone(cls):
    ps = pairs()
    before = [(p.copy(), g.copy()) for p, g in ps]
    ids = [id(p) for p, _ in ps]
    kwargs = {"weight_decay": 0.1} if cls is not optim.SGD else {"weight_decay": 0.1,
                                                                  "momentum": 0.9}
    opt = cls(ps, lr=0.1, **kwargs)
    opt.step()
    opt.step()
    for k, ((p, g), (p0, g0), i) in enumerate(zip(ps, before, ids)):
        assert id(p) == i and opt.params[k] is p and opt.grads[k] is g
        assert not np.allclose(p, p0)  # the caller's arrays moved
        np.testing.assert_array_equal(g, g0)  # weight decay did not leak into the grads


@pytest.mark.parametrize("cls", ALL_OPTIMIZERS)
def test_zero_grad_in_place(cls):
    class Layer:  # the layer protocol: params/grads dicts, parameters() yields pairs
        def __init__(self):
            self.params = {"W": np.ones((3, 2)), "b": np.ones(2)}
            self.grads = {k: np.full_like(v, 5.0) for k, v in self.params.items()}

        def parameters(self):
            for k in self.params:
                yield self.params[k], self.grads[k]

    layer = Layer()
    grad_ids = {k: id(g) for k, g in layer.grads.items()}
    opt = cls(layer.parameters(), lr=0.1, **({"weight_decay": 0.0} if cls is optim.AdamW else {}))
    opt.zero_grad()
    for k, g in layer.grads.items():
        assert id(g) == grad_ids[k] and np.all(g == 0)
    opt.step()  # zero gradient: the parameters stay put (no weight decay)
    np.testing.assert_array_equal(layer.params["W"], 1.0)


def test_lr_attribute_is_validated_and_used():
    (p, g), = pairs()[:1]
    p0 = p.copy()
    opt = optim.SGD([(p, g)], lr=0.1)
    opt.lr = 0.5
    opt.step()
    np.testing.assert_allclose(p, p0 - 0.5 * g)
    with pytest.raises(ValueError, match="SGD.*lr"):
        opt.lr = -1.0
    assert "SGD" in repr(opt) and len(opt.parameters()) == 1


def test_float32_stays_float32():
    ps = pairs(np.float32)
    opt = optim.Adam(ps, lr=0.1, weight_decay=0.1)
    opt.step()
    assert all(p.dtype == np.float32 for p, _ in ps)
    assert all(a.dtype == np.float32 for s in opt.state for a in s.values()
               if isinstance(a, np.ndarray))
