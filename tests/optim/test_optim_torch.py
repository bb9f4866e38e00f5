"""Optimizer parity: every dlbook optimizer follows torch.optim's trajectory step by step.

Four parameters of different shapes (a 0-d one among them) minimise a noisy quadratic
``sum(c * (theta - target)**2) / 2``; each side recomputes the gradient
``c * (theta - target) + noise_t`` from its *own* parameters at every step
(the noise sequence is shared), so a wrong rule shows up at once and drifts.
Trajectories must agree at all 50 steps to 1e-6 (float32) and 1e-10 (float64).
"""

import numpy as np
import pytest

import dlbook.optim as optim

torch = pytest.importorskip("torch")

STEPS = 50
SHAPES = [(4, 3), (5,), (2, 3, 2), ()]  # () : numpy ops on 0-d arrays return scalars
TOL = {np.float32: 1e-6, np.float64: 1e-10}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}

CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("Adam", dict(lr=0.02)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.02, weight_decay=0.1)),
    ("Adam", dict(lr=0.02, amsgrad=True)),
    ("Adam", dict(lr=0.02, betas=(0.3, 0.9), weight_decay=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.02)),
    ("AdamW", dict(lr=0.02, weight_decay=0.1)),
    ("AdamW", dict(lr=0.02, weight_decay=0.1, amsgrad=True)),
]


def make_problem(dtype, seed=0):
    """Initial parameters, targets, curvatures and a noise sequence, all in ``dtype``."""
    rng = np.random.default_rng(seed)
    theta0 = [rng.normal(size=s).astype(dtype) for s in SHAPES]
    target = [rng.normal(size=s).astype(dtype) for s in SHAPES]
    curv = [rng.uniform(0.2, 4.0, size=s).astype(dtype) for s in SHAPES]
    noise = [[0.3 * rng.normal(size=s).astype(dtype) for s in SHAPES] for _ in range(STEPS)]
    return theta0, target, curv, noise


def run_dlbook(name, kwargs, dtype):
    theta0, target, curv, noise = make_problem(dtype)
    params = [p.copy() for p in theta0]
    grads = [np.zeros_like(p) for p in params]
    opt = getattr(optim, name)(list(zip(params, grads)), **kwargs)
    trajectory = []
    for t in range(STEPS):
        for p, g, tgt, c, n in zip(params, grads, target, curv, noise[t]):
            g[...] = c * (p - tgt) + n          # what a layer's backward would write
        opt.step()
        trajectory.append([p.copy() for p in params])
    return trajectory


def run_torch(name, kwargs, dtype, device):
    theta0, target, curv, noise = make_problem(dtype)
    as_t = lambda a: torch.as_tensor(a, dtype=TORCH_DTYPE[dtype], device=device)  # noqa: E731
    params = [as_t(p).clone().requires_grad_(True) for p in theta0]
    target, curv = [as_t(a) for a in target], [as_t(a) for a in curv]
    opt = getattr(torch.optim, name)(params, **kwargs)
    trajectory = []
    for t in range(STEPS):
        with torch.no_grad():
            for p, tgt, c, n in zip(params, target, curv, noise[t]):
                p.grad = c * (p - tgt) + as_t(n)
        opt.step()
        trajectory.append([p.detach().cpu().numpy().copy() for p in params])
    return trajectory


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_trajectory_matches_torch(name, kwargs, dtype, device):
    ours = run_dlbook(name, kwargs, dtype)
    theirs = run_torch(name, kwargs, dtype, device)
    tol = TOL[dtype]
    for t, (mine, ref) in enumerate(zip(ours, theirs)):
        for i, (a, b) in enumerate(zip(mine, ref)):
            assert a.dtype == dtype
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol,
                                       err_msg=f"{name}{kwargs}: param {i}, step {t + 1}")
    # the run really moved the parameters (a no-op optimizer would fail above anyway)
    assert max(np.abs(a - b).max() for a, b in zip(ours[-1], make_problem(dtype)[0])) > 0.05


@pytest.mark.parametrize("kwargs", [
    dict(lr=0.1, momentum=0.9, weight_decay=0.1),
    dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.1),
    dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    dict(lr=0.1, momentum=0.9, nesterov=True),
], ids=str)
def test_sgd_momentum_on_0d_param_matches_torch(kwargs, device):
    """A 0-d parameter (shape ()) keeps a 0-d momentum buffer updated in place, as torch does.

    The old bug: ``grad + weight_decay * param`` was a numpy scalar, so the buffer
    was a scalar that ``buf *= momentum`` rebound instead of updating; the
    trajectory left torch's at step 3.
    """
    param, grad = np.array(1.5), np.array(0.0)
    ours = optim.SGD([(param, grad)], **kwargs)
    tparam = torch.tensor(1.5, dtype=torch.float64, device=device, requires_grad=True)
    theirs = torch.optim.SGD([tparam], **kwargs)
    for t in range(8):
        grad[...] = 2.0 * param - 1.0
        tparam.grad = (2.0 * tparam - 1.0).detach()
        ours.step()
        theirs.step()
        buf = ours.state[0]["momentum_buffer"]
        assert isinstance(buf, np.ndarray) and buf.shape == ()
        np.testing.assert_allclose(buf, theirs.state[tparam]["momentum_buffer"].item(),
                                   rtol=1e-12, atol=1e-12, err_msg=f"buffer, step {t + 1}")
        np.testing.assert_allclose(param, tparam.item(), rtol=1e-12, atol=1e-12,
                                   err_msg=f"param, step {t + 1}")
    assert abs(float(param) - 1.5) > 0.5  # the run really moved the parameter


def test_schedule_drives_torch_and_dlbook_alike(device):
    """An lr changed between steps (as a schedule does) is used by the next step on both sides."""
    theta0, target, curv, noise = make_problem(np.float64)
    params = [p.copy() for p in theta0]
    grads = [np.zeros_like(p) for p in params]
    ours = optim.SGD(list(zip(params, grads)), lr=0.1, momentum=0.9)
    tparams = [torch.tensor(p, device=device, requires_grad=True) for p in theta0]
    theirs = torch.optim.SGD(tparams, lr=0.1, momentum=0.9)
    for t in range(10):
        lr = 0.1 * 0.8 ** t
        ours.lr = lr
        for group in theirs.param_groups:
            group["lr"] = lr
        for p, g, tp, tgt, c, n in zip(params, grads, tparams, target, curv, noise[t]):
            g[...] = c * (p - tgt) + n
            tp.grad = torch.tensor(c * (tp.detach().cpu().numpy() - tgt) + n, device=device)
        ours.step()
        theirs.step()
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p, tp.detach().cpu().numpy(), rtol=1e-10, atol=1e-10)


def _adam_family(cls, weight_decay, grad_fn, steps, lr=0.01):
    """Run ``cls`` on two fixed weights; ``grad_fn(theta)`` is the loss gradient."""
    theta = np.array([3.0, 0.01, -0.5])
    grad = np.zeros_like(theta)
    opt = cls([(theta, grad)], lr=lr, weight_decay=weight_decay)
    for _ in range(steps):
        grad[...] = grad_fn(theta)
        opt.step()
    return theta


def test_adamw_decoupled_decay_differs_from_adam_l2():
    """Chapter 7's point: weight decay inside Adam (L2) is not AdamW's decoupled decay."""
    grad_fn = lambda th: np.array([0.5, 0.0, 2.0]) * th + np.array([0.1, -0.2, 0.0])  # noqa: E731
    steps, lr, wd = 5, 0.01, 0.1
    adam_l2 = _adam_family(optim.Adam, wd, grad_fn, steps, lr)
    adamw = _adam_family(optim.AdamW, wd, grad_fn, steps, lr)
    assert np.abs(adam_l2 - adamw).max() > 1e-3
    # without weight decay they are the same algorithm
    np.testing.assert_array_equal(_adam_family(optim.Adam, 0.0, grad_fn, steps, lr),
                                  _adam_family(optim.AdamW, 0.0, grad_fn, steps, lr))


def test_decay_alone_adamw_shrinks_geometrically_adam_l2_moves_by_lr():
    """With a zero loss gradient, AdamW multiplies every weight by (1 - lr*wd) per step,
    while Adam+L2 normalises the decay term away and moves every weight by about lr."""
    zero = lambda th: np.zeros_like(th)  # noqa: E731
    theta0 = np.array([3.0, 0.01, -0.5])
    steps, lr, wd = 5, 0.001, 0.1
    adamw = _adam_family(optim.AdamW, wd, zero, steps, lr)
    np.testing.assert_allclose(adamw, theta0 * (1 - lr * wd) ** steps, rtol=1e-12)
    adam_l2 = _adam_family(optim.Adam, wd, zero, steps, lr)
    np.testing.assert_allclose(np.abs(theta0 - adam_l2), steps * lr, rtol=0.05)
    # relative shrinkage: the same for every weight under AdamW, wildly uneven under Adam+L2
    shrink_w, shrink_l2 = 1 - adamw / theta0, 1 - adam_l2 / theta0
    np.testing.assert_allclose(shrink_w, shrink_w[0], rtol=1e-9)
    assert shrink_l2[1] > 0.4 and shrink_l2[0] < 0.002
