"""Tests of dlbook.diagnostics.hessian (chapter 7): HVPs, dense Hessians and power iteration."""

import numpy as np
import pytest

from dlbook.diagnostics.hessian import (dense_hessian, hessian_vector_product, hvp_function,
                                        min_eigenvalue, spectral_radius, top_eigenvalue)


def quadratic(eigenvalues, seed=0):
    """0.5 theta^T A theta + b^T theta with A = Q diag(eigenvalues) Q^T."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((len(eigenvalues), len(eigenvalues))))
    A = Q @ np.diag(eigenvalues) @ Q.T
    b = rng.standard_normal(len(eigenvalues))
    return A, lambda th: (0.5 * th @ A @ th + b @ th, A @ th + b)


def two_layer_net(seed=0, n=12, d=3, hidden=4):
    """Mean squared error of tanh MLP d -> hidden -> 1 on random data; flat float64 params."""
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    sizes = [(d, hidden), (hidden,), (hidden, 1), (1,)]
    counts = [int(np.prod(s)) for s in sizes]

    def unpack(th):
        parts, start = [], 0
        for s, c in zip(sizes, counts):
            parts.append(th[start:start + c].reshape(s))
            start += c
        return parts

    def loss_and_grad(th):
        W1, b1, W2, b2 = unpack(th)
        a = np.tanh(X @ W1 + b1)                       # (n, hidden)
        r = (a @ W2 + b2)[:, 0] - y                    # (n,)
        dout = (2 / n) * r[:, None]                    # (n, 1)
        da = dout @ W2.T * (1 - a**2)
        grads = [X.T @ da, da.sum(0), a.T @ dout, dout.sum(0)]
        return float(np.mean(r**2)), np.concatenate([g.ravel() for g in grads])

    return X, y, unpack, loss_and_grad, sum(counts), rng.standard_normal(sum(counts))


def torch_hessian(X, y, unpack, theta, device):
    torch = pytest.importorskip("torch")
    Xt = torch.tensor(X, device=device)
    yt = torch.tensor(y, device=device)

    def loss(th):
        W1, b1, W2, b2 = unpack(th)
        a = torch.tanh(Xt @ W1 + b1)
        return torch.mean(((a @ W2 + b2)[:, 0] - yt) ** 2)

    th = torch.tensor(theta, device=device, dtype=torch.float64)
    return torch.autograd.functional.hessian(loss, th).cpu().numpy()


def devices():
    try:
        from dlbook.twins import available_devices
        return [d for d in available_devices() if d != "mps"]   # mps has no float64
    except ImportError:
        return ["cpu"]


def test_quadratic_hvp_and_dense_hessian_exact():
    A, f = quadratic([3.0, -1.0, 0.5, 2.0])
    theta = np.arange(4.0)
    v = np.array([1.0, -2.0, 0.5, 0.25])
    np.testing.assert_allclose(hessian_vector_product(f, theta, v), A @ v, atol=1e-8)
    np.testing.assert_allclose(dense_hessian(f, theta), A, atol=1e-8)
    np.testing.assert_array_equal(hessian_vector_product(f, theta, np.zeros(4)), np.zeros(4))


@pytest.mark.parametrize("eigs", [[5.0, 2.0, 1.0, 0.1], [2.0, 1.0, -0.5, -3.0],
                                  [-4.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0],
                                  [2.0, -2.0, 0.5], [-1.0, -2.0, -3.0]])
def test_power_iterations_on_known_eigenvalues(eigs):
    _, f = quadratic(eigs, seed=1)
    hvp = hvp_function(f, np.zeros(len(eigs)))
    radius = max(abs(e) for e in eigs)
    assert spectral_radius(hvp, len(eigs), iters=2000) == pytest.approx(radius, abs=1e-6)
    assert top_eigenvalue(hvp, len(eigs), iters=2000) == pytest.approx(max(eigs), abs=1e-6)
    assert min_eigenvalue(hvp, len(eigs), iters=2000) == pytest.approx(min(eigs), abs=1e-6)


@pytest.mark.parametrize("device", devices())
def test_hvp_against_dense_torch_hessian_two_layer_net(device):
    X, y, unpack, f, P, theta = two_layer_net()
    H = torch_hessian(X, y, unpack, theta, device)
    rng = np.random.default_rng(2)
    for _ in range(3):
        v = rng.standard_normal(P)
        hv = hessian_vector_product(f, theta, v)
        assert np.linalg.norm(hv - H @ v) / np.linalg.norm(H @ v) < 1e-7
    np.testing.assert_allclose(dense_hessian(f, theta), H, atol=1e-7)


def test_power_iterations_against_eigvalsh_two_layer_net():
    _, _, _, f, P, theta = two_layer_net(seed=3)
    H = dense_hessian(f, theta)
    eigs = np.linalg.eigvalsh(H)
    assert eigs[0] < 0 < eigs[-1]            # a random point of an MLP loss: indefinite
    hvp = hvp_function(f, theta)
    scale = np.abs(eigs).max()
    assert abs(spectral_radius(hvp, P, iters=3000) - scale) < 1e-5 * scale
    assert abs(top_eigenvalue(hvp, P, iters=5000) - eigs[-1]) < 1e-4 * scale
    assert abs(min_eigenvalue(hvp, P, iters=5000) - eigs[0]) < 1e-4 * scale


def test_bad_input_raises():
    _, f = quadratic([1.0, 2.0])
    with pytest.raises(ValueError, match="v of shape"):
        hessian_vector_product(f, np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="1-D float"):
        hessian_vector_product(f, np.zeros((2, 1)), np.zeros(2))
    with pytest.raises(ValueError, match="h > 0"):
        hessian_vector_product(f, np.zeros(2), np.ones(2), h=0.0)
    with pytest.raises(TypeError, match=r"\(loss, grad\)"):
        hessian_vector_product(lambda th: th, np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="dim >= 1"):
        top_eigenvalue(lambda v: v, 0)
    with pytest.raises(ValueError, match="map"):
        top_eigenvalue(lambda v: np.zeros(3), 2)
