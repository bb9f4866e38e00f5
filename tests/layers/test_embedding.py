"""Embedding (lookup / scatter-add), MeanPool (masked mean over time) and EmbeddingBag, chapter 12.

Embedding's input is integer, so dlbook.diagnostics.gradcheck.check_layer (which
perturbs x) does not apply: W's gradient is checked directly with
dlbook.diagnostics.numgrad.numerical_gradient of sum(forward(ids) * dout). MeanPool
runs through check_layer with a fixed mask. Both are compared with PyTorch
(torch.nn.Embedding, torch.nn.EmbeddingBag, and the masked mean written in torch)
on every device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

from dlbook.diagnostics.gradcheck import GRADCHECK_TOL, check_layer, norm_relative_error
from dlbook.layers.embedding import Embedding, EmbeddingBag, MeanPool
from dlbook.diagnostics.numgrad import numerical_gradient

F64 = np.float64
IDS = np.array([[1, 3, 3, 0], [4, 1, 0, 0], [3, 3, 3, 2]])  # repeats and padding (0)
MASK = IDS != 0


class FixedMaskPool(MeanPool):
    """MeanPool with its mask bound, so check_layer can call forward(x)."""

    def __init__(self, mask):
        super().__init__()
        self.mask = mask

    def forward(self, x, mask=None):
        return super().forward(x, self.mask)


@dataclass(frozen=True)
class Case:
    name: str
    factory: Callable[[np.random.Generator], object]
    shape: tuple[int, ...]


REGISTRY = [
    Case("MeanPool-masked", lambda rng: FixedMaskPool(MASK), (3, 4, 5)),
    Case("MeanPool-no-mask", lambda rng: MeanPool(), (2, 3, 4)),
    Case("MeanPool-empty-row", lambda rng: FixedMaskPool(np.array([[True, False], [False, False]])),
         (2, 2, 3)),
]


@pytest.mark.parametrize("case", REGISTRY, ids=lambda c: c.name)
def test_meanpool_gradcheck(case):
    rng = np.random.default_rng(0)
    errors = check_layer(case.factory(rng), rng.normal(size=case.shape), rng=rng)
    assert max(errors.values()) < GRADCHECK_TOL, errors


def embedding_numeric_grad(emb: Embedding, ids: np.ndarray, dout: np.ndarray) -> np.ndarray:
    """Central differences of sum(W[ids] * dout) with respect to W (float64)."""
    return numerical_gradient(lambda W: float(np.sum(emb.forward(ids) * dout)), emb.params["W"])


@pytest.mark.parametrize("padding_idx", [None, 0, -1])
@pytest.mark.parametrize("ids", [IDS, np.array([2, 2, 2, 2, 4]), np.array(3)],
                         ids=["2d-with-repeats", "1d-repeats", "scalar"])
def test_embedding_gradcheck(ids, padding_idx):
    rng = np.random.default_rng(1)
    emb = Embedding(5, 3, padding_idx=padding_idx, rng=rng, dtype=F64)
    emb.params["W"][...] = rng.normal(size=(5, 3))  # the padding row too: it still gets no grad
    dout = rng.normal(size=np.shape(ids) + (3,))
    emb.zero_grad()
    emb.forward(ids)
    assert emb.backward(dout) is None
    numeric = embedding_numeric_grad(emb, ids, dout)
    if padding_idx is not None:
        numeric[padding_idx] = 0.0  # torch semantics: the padding row is frozen
    assert norm_relative_error(emb.grads["W"], numeric) < GRADCHECK_TOL


def test_scatter_add_accumulates_repeated_indices():
    emb = Embedding(4, 2, rng=0, dtype=F64)
    ids = np.array([2, 2, 2, 1])
    dout = np.array([[1.0, 0.0], [2.0, 0.0], [4.0, 1.0], [0.5, 0.5]])
    emb(ids)
    emb.backward(dout)
    expected = np.zeros((4, 2))
    expected[2] = [7.0, 1.0]  # 1 + 2 + 4: every occurrence adds, none overwrites
    expected[1] = [0.5, 0.5]
    assert np.array_equal(emb.grads["W"], expected)
    naive = np.zeros((4, 2))
    naive[ids] += dout  # fancy-index += keeps only one of the repeated rows
    assert naive[2].tolist() == [4.0, 1.0]


def test_forward_is_lookup_and_equals_one_hot_matmul():
    emb = Embedding(6, 4, rng=2, dtype=F64)
    ids = np.array([[5, 0, 2], [2, 2, 1]])
    out = emb(ids)
    assert out.shape == (2, 3, 4)
    assert np.array_equal(out[1, 0], emb.params["W"][2])
    one_hot = np.eye(6)[ids]  # (2, 3, 6)
    np.testing.assert_allclose(one_hot @ emb.params["W"], out, rtol=0, atol=1e-15)


def test_padding_row_is_zero_at_init_and_gets_no_gradient():
    emb = Embedding(5, 3, padding_idx=2, rng=0)
    assert emb.params["W"].dtype == np.float32 and emb.padding_idx == 2
    assert not emb.params["W"][2].any() and emb.params["W"][3].any()
    emb(np.array([2, 2, 3]))
    emb.backward(np.ones((3, 3), dtype=np.float32))
    assert not emb.grads["W"][2].any() and emb.grads["W"][3].tolist() == [1.0, 1.0, 1.0]
    assert Embedding(5, 3, padding_idx=-1).padding_idx == 4
    assert repr(Embedding(5, 3, padding_idx=-1)) == "Embedding(5, 3, padding_idx=4)"
    assert repr(Embedding(7, 2)) == "Embedding(7, 2)"


def test_embedding_protocol_dout_unchanged_and_accumulation():
    emb = Embedding(5, 3, rng=0, dtype=F64)
    dout = np.random.default_rng(0).normal(size=(3, 4, 3))
    before = dout.copy()
    emb(IDS)
    emb.backward(dout)
    assert np.array_equal(dout, before)
    once = emb.grads["W"].copy()
    grad_array = emb.grads["W"]
    emb(IDS)
    emb.backward(dout)
    np.testing.assert_allclose(emb.grads["W"], 2 * once)
    emb.zero_grad()
    assert emb.grads["W"] is grad_array and not grad_array.any()
    assert list(emb.parameters())[0][0] is emb.params["W"]


def test_embedding_same_seed_same_weights():
    assert np.array_equal(Embedding(4, 3, rng=7).params["W"], Embedding(4, 3, rng=7).params["W"])


def test_meanpool_values_protocol_and_dtype():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    mask = np.array([[True, True, False], [False, False, False]])
    pool = MeanPool()
    out = pool(x, mask)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0], x[0, :2].mean(axis=0))
    assert not out[1].any()  # no real token: the zero vector, not NaN
    np.testing.assert_allclose(MeanPool()(x), x.mean(axis=1))
    dout = np.ones((2, 4), dtype=np.float32)
    before = dout.copy()
    dx = pool.backward(dout)
    assert np.array_equal(dout, before) and dx.shape == x.shape
    assert dx[0, 2].tolist() == [0.0] * 4 and dx[0, 0].tolist() == [0.5] * 4 and not dx[1].any()


@pytest.mark.parametrize("make, call, error, message", [
    (lambda: Embedding(5, 3), lambda m: m(np.array([0.0, 1.0])), TypeError,
     "Embedding.forward expected integer token indices; got dtype float64"),
    (lambda: Embedding(5, 3), lambda m: m(np.array([True])), TypeError, "got dtype bool"),
    (lambda: Embedding(5, 3), lambda m: m(np.array([1, 5])), ValueError,
     r"expected indices in \[0, 4\] \(num_embeddings=5\); got 5"),
    (lambda: Embedding(5, 3), lambda m: m(np.array([-1, 2])), ValueError, "got -1"),
    (lambda: Embedding(0, 3), None, ValueError, "Embedding expected num_embeddings >= 1; got 0"),
    (lambda: Embedding(5, 2.0), None, TypeError, "embedding_dim to be an int; got float"),
    (lambda: Embedding(5, 3, padding_idx=5), None, ValueError, r"padding_idx in \[-5, 4\]; got 5"),
    (lambda: Embedding(5, 3, padding_idx=1.0), None, TypeError, "padding_idx to be an int or None"),
    (lambda: Embedding(5, 3), lambda m: m.backward(np.ones((2, 3))), RuntimeError,
     "Embedding.backward called before forward"),
    (lambda: Embedding(5, 3), lambda m: (m(np.array([1, 2])), m.backward(np.ones((2, 4)))),
     ValueError, r"dout of shape \(2, 3\)"),
    (lambda: MeanPool(), lambda m: m(np.ones((2, 3))), ValueError,
     r"MeanPool.forward expected x of shape \(N, T, D\); got shape \(2, 3\)"),
    (lambda: MeanPool(), lambda m: m(np.ones((2, 3, 1)), np.ones((2, 3))), TypeError,
     "bool mask"),
    (lambda: MeanPool(), lambda m: m(np.ones((2, 3, 1)), np.ones((3, 2), bool)), ValueError,
     r"mask of shape \(2, 3\) \(N, T\); got shape \(3, 2\)"),
    (lambda: MeanPool(), lambda m: (m(np.ones((2, 3, 1))), m.backward(np.ones((2, 2)))),
     ValueError, r"MeanPool.backward expected dout of shape \(2, 1\)"),
])
def test_bad_input(make, call, error, message):
    with pytest.raises(error, match=message):
        layer = make()
        call(layer)


@pytest.mark.parametrize("mode", ["mean", "sum"])
@pytest.mark.parametrize("padding_idx", [None, 0])
def test_embedding_bag_gradcheck(mode, padding_idx):
    rng = np.random.default_rng(6)
    bag = EmbeddingBag(5, 3, mode=mode, padding_idx=padding_idx, rng=rng, dtype=F64)
    ids = np.vstack([IDS, np.zeros((1, 4), dtype=int)])  # the last bag is all padding
    dout = rng.normal(size=(4, 3))
    bag.zero_grad()
    bag(ids)
    before = dout.copy()
    assert bag.backward(dout) is None and np.array_equal(dout, before)
    numeric = numerical_gradient(lambda W: float(np.sum(bag.forward(ids) * dout)), bag.params["W"])
    assert norm_relative_error(bag.grads["W"], numeric) < GRADCHECK_TOL


def test_embedding_bag_values_and_shared_parameters():
    bag = EmbeddingBag(5, 2, padding_idx=0, rng=0, dtype=F64)
    W = bag.params["W"]
    out = bag(IDS)
    np.testing.assert_allclose(out[0], (W[1] + 2 * W[3]) / 3)  # the padding is not counted
    np.testing.assert_allclose(out[2], (3 * W[3] + W[2]) / 4)
    total = EmbeddingBag(5, 2, mode="sum", padding_idx=0, rng=0, dtype=F64)(IDS)
    np.testing.assert_allclose(total[1], W[4] + W[1])
    assert not bag(np.zeros((1, 3), dtype=int)).any()  # an empty bag is the zero vector
    assert list(bag.params) == ["W"] and bag.grads["W"].shape == W.shape  # its own table, as in torch
    assert list(bag.parameters())[0][0] is W
    assert repr(bag) == "EmbeddingBag(5, 2, mode='mean', padding_idx=0)"
    assert bag(IDS).dtype == np.float64 and EmbeddingBag(5, 2)(IDS).dtype == np.float32
    # permuting the tokens of a bag changes nothing: the model cannot see order
    np.testing.assert_allclose(bag(IDS[:, ::-1]), bag(IDS), rtol=0, atol=1e-15)


@pytest.mark.parametrize("call, error, message", [
    (lambda: EmbeddingBag(5, 3, mode="max"), ValueError,
     r"EmbeddingBag expected mode in \('mean', 'sum'\); got 'max'"),
    (lambda: EmbeddingBag(5, 3)(np.array([1, 2])), ValueError,
     r"EmbeddingBag.forward expected ids of shape \(N, T\); got shape \(2,\)"),
    (lambda: EmbeddingBag(5, 3)(np.array([[1.0]])), TypeError, "integer token indices"),
    (lambda: EmbeddingBag(5, 3).backward(np.ones((1, 3))), RuntimeError, "before forward"),
])
def test_embedding_bag_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- PyTorch parity ----------------------------------------------------------------

@pytest.mark.parametrize("padding_idx", [None, 0])
def test_embedding_matches_torch(padding_idx, device):
    torch = pytest.importorskip("torch")
    from dlbook.twins import as_tensor, to_numpy

    rng = np.random.default_rng(3)
    ours = Embedding(5, 3, padding_idx=padding_idx, rng=rng, dtype=F64)
    ref = torch.nn.Embedding(5, 3, padding_idx=padding_idx, dtype=torch.float64, device=device)
    with torch.no_grad():
        ref.weight.copy_(as_tensor(ours.params["W"], device))
    dout = rng.normal(size=IDS.shape + (3,))
    out = ours(IDS)
    ours.backward(dout)
    out_t = ref(torch.as_tensor(IDS, device=device))
    out_t.backward(as_tensor(dout, device))
    np.testing.assert_allclose(out, to_numpy(out_t), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.grads["W"], to_numpy(ref.weight.grad), rtol=1e-12, atol=1e-12)


def test_meanpool_matches_torch(device):
    torch = pytest.importorskip("torch")
    from dlbook.twins import as_tensor, to_numpy

    rng = np.random.default_rng(4)
    x, dout = rng.normal(size=(3, 4, 5)), rng.normal(size=(3, 5))
    pool = MeanPool()
    out = pool(x, MASK)
    dx = pool.backward(dout)
    xt = as_tensor(x, device, requires_grad=True)
    m = torch.as_tensor(MASK, device=device).unsqueeze(-1).to(torch.float64)  # (N, T, 1)
    out_t = (xt * m).sum(dim=1) / m.sum(dim=1).clamp(min=1)
    out_t.backward(as_tensor(dout, device))
    np.testing.assert_allclose(out, to_numpy(out_t), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, to_numpy(xt.grad), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["mean", "sum"])
@pytest.mark.parametrize("padding_idx", [None, 0])
def test_embedding_bag_matches_torch(mode, padding_idx, device):
    torch = pytest.importorskip("torch")
    from dlbook.twins import as_tensor, to_numpy

    rng = np.random.default_rng(7)
    ours = EmbeddingBag(5, 3, mode=mode, padding_idx=padding_idx, rng=rng, dtype=F64)
    ref = torch.nn.EmbeddingBag(5, 3, mode=mode, padding_idx=padding_idx, dtype=torch.float64,
                                device=device)
    with torch.no_grad():
        ref.weight.copy_(as_tensor(ours.params["W"], device))
    dout = rng.normal(size=(3, 3))
    out = ours(IDS)
    ours.backward(dout)
    out_t = ref(torch.as_tensor(IDS, device=device))
    out_t.backward(as_tensor(dout, device))
    np.testing.assert_allclose(out, to_numpy(out_t), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.grads["W"], to_numpy(ref.weight.grad), rtol=1e-12, atol=1e-12)
