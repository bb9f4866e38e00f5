"""Every registered PyTorch twin against its numpy layer or model (dlbook.twins).

For each type in the registry a small float64 instance (the CASES table)
crosses with ``to_torch``; the same random input goes through both, the same
random dout comes back, and outputs, input gradients, every parameter
gradient (``torch_grads``) and the state after the step (BatchNorm's running
statistics) must agree, on the CPU and, when present, on CUDA. Then the
weights come back with ``copy_weights``. A new twin is tested by registering
it and adding its case here (``test_every_registered_type_has_a_case``).
"""

import subprocess
import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

from dlbook import layers as L
from dlbook.layers.base import Layer
from dlbook.layers.residual import ResidualBlock
from dlbook.models.attention_seq2seq import AttentionSeq2Seq
from dlbook.models.autoencoder import UnpoolAutoencoder
from dlbook.models.bidirectional import Bidirectional
from dlbook.models.gpt import GPT
from dlbook.models.rnnlm import RNNLM
from dlbook.models.seq2seq import Seq2Seq
from dlbook.models.vae import VAE
from dlbook.models.transformer_seq2seq import TransformerSeq2Seq

torch = pytest.importorskip("torch")
from dlbook.twins import (as_tensor, copy_weights, registered_types, to_torch, torch_grads, torch_state_dict)

from parity import assert_close as assert_close_to  # noqa: E402

F64 = np.float64
TOL = 1e-9
SRC = np.array([[4, 5, 6, 7], [5, 4, 0, 0], [6, 0, 0, 0]])  # right-padded sources (pad 0)
TGT_IN = np.array([[2, 4, 5, 6], [2, 6, 3, 0], [2, 4, 3, 0]])  # <bos> ...: decoder inputs


@dataclass
class Case:
    """A small float64 instance, its inputs, and how each side is called."""

    make: Callable[[], Layer]
    inputs: Callable[[np.random.Generator], tuple]
    ours: Callable = lambda layer, *xs: layer(*xs)
    theirs: Callable = lambda twin, *ts: twin(*ts)
    train: bool = True


def floats(*shapes):
    return lambda rng: tuple(rng.normal(size=s) for s in shapes)


def ids(V, shape):
    return lambda rng: (rng.integers(0, V, size=shape),)


def seq2seq_inputs(rng):
    return SRC, TGT_IN


def unpool_inputs(rng):
    pool = L.MaxPool2d(2)
    return pool(rng.normal(size=(2, 2, 4, 6))), pool.indices  # values and their switches


CASES = {
    L.Linear: Case(lambda: L.Linear(4, 3, rng=0, dtype=F64), floats((2, 4))),
    L.Conv1d: Case(lambda: L.Conv1d(2, 3, 3, stride=2, padding=1, rng=0, dtype=F64),
                   floats((2, 2, 7))),
    L.Conv2d: Case(lambda: L.Conv2d(2, 3, 3, stride=2, padding=1, dilation=1, rng=0, dtype=F64),
                   floats((2, 2, 6, 5))),
    L.ConvTranspose2d: Case(lambda: L.ConvTranspose2d(2, 3, 3, stride=2, padding=1,
                                                      output_padding=1, rng=0, dtype=F64),
                            floats((2, 2, 4, 3))),
    L.BatchNorm1d: Case(lambda: L.BatchNorm1d(3, dtype=F64), floats((5, 3))),
    L.BatchNorm2d: Case(lambda: L.BatchNorm2d(3, dtype=F64), floats((2, 3, 4, 4))),
    L.LayerNorm: Case(lambda: L.LayerNorm(4, dtype=F64), floats((2, 3, 4))),
    L.Embedding: Case(lambda: L.Embedding(7, 3, padding_idx=0, rng=0, dtype=F64), ids(7, (2, 5))),
    L.EmbeddingBag: Case(lambda: L.EmbeddingBag(7, 3, padding_idx=0, rng=0, dtype=F64),
                         ids(7, (3, 4))),
    L.Dropout: Case(lambda: L.Dropout(0.5, rng=0), floats((2, 5)), train=False),
    L.ReLU: Case(L.ReLU, floats((2, 5))),
    L.Sigmoid: Case(L.Sigmoid, floats((2, 5))),
    L.Tanh: Case(L.Tanh, floats((2, 5))),
    L.MaxPool2d: Case(lambda: L.MaxPool2d(2), floats((2, 2, 4, 6))),
    L.AvgPool2d: Case(lambda: L.AvgPool2d(3, stride=2, padding=1), floats((2, 2, 5, 5))),
    L.MaxPool1d: Case(lambda: L.MaxPool1d(2), floats((2, 3, 6))),
    L.Flatten: Case(L.Flatten, floats((2, 3, 2, 2))),
    L.Upsample: Case(lambda: L.Upsample(2, mode="bilinear"), floats((2, 2, 3, 3))),
    L.MaxUnpool2d: Case(lambda: L.MaxUnpool2d(2), unpool_inputs),
    UnpoolAutoencoder: Case(lambda: UnpoolAutoencoder(2, 3, rng=0, dtype=F64), floats((2, 1, 8, 8))),
    VAE: Case(lambda: VAE(6, 5, 2, rng=0, dtype=F64), floats((3, 6), (3, 2)),
              ours=lambda layer, x, eps: layer(x, eps)[0],  # the logits; backward -> (dx, deps)
              theirs=lambda twin, x, eps: twin(x, eps)[0]),
    L.Sequential: Case(lambda: L.Sequential(
        L.Conv2d(1, 2, 3, padding=1, rng=0, dtype=F64), L.BatchNorm2d(2, dtype=F64), L.ReLU(),
        L.MaxPool2d(2), L.Flatten(), L.Linear(8, 3, rng=1, dtype=F64)), floats((2, 1, 4, 4))),
    L.RNN: Case(lambda: L.RNN(3, 4, nonlinearity="relu", rng=0, dtype=F64), floats((2, 5, 3))),
    L.LSTM: Case(lambda: L.LSTM(3, 4, rng=0, dtype=F64), floats((2, 5, 3))),
    L.GRU: Case(lambda: L.GRU(3, 4, rng=0, dtype=F64), floats((2, 5, 3))),
    Bidirectional: Case(lambda: Bidirectional("gru", 3, 4, rng=0, dtype=F64), floats((2, 5, 3))),
    RNNLM: Case(lambda: RNNLM(11, 6, 6, cell="lstm", num_layers=2, tie_weights=True, rng=0,
                              dtype=F64), ids(11, (2, 5))),
    Seq2Seq: Case(lambda: Seq2Seq(8, 3, 4, cell="gru", peeky=True, reverse_source=True, rng=0,
                                  dtype=F64), seq2seq_inputs),
    AttentionSeq2Seq: Case(lambda: AttentionSeq2Seq(8, 3, 4, rng=0, dtype=F64), seq2seq_inputs),
    L.MultiheadAttention: Case(lambda: L.MultiheadAttention(8, 2, rng=0, dtype=F64),
                               floats((2, 5, 8), (2, 6, 8), (2, 6, 8))),
    L.TransformerEncoderLayer: Case(lambda: L.TransformerEncoderLayer(8, 2, 12, rng=0, dtype=F64),
                                    floats((2, 5, 8))),
    L.TransformerDecoderLayer: Case(
        lambda: L.TransformerDecoderLayer(8, 2, 12, norm_first=True, rng=0, dtype=F64),
        floats((2, 5, 8), (2, 6, 8)), ours=lambda layer, t, m: layer(t, m, tgt_is_causal=False)),
    ResidualBlock: Case(lambda: ResidualBlock(2, 3, stride=2, rng=0, dtype=F64),
                        floats((2, 2, 5, 5))),
    GPT: Case(lambda: GPT(11, block_size=7, d_model=8, nhead=2, num_layers=2, rng=0, dtype=F64),
              ids(11, (2, 7))),
    TransformerSeq2Seq: Case(lambda: TransformerSeq2Seq(8, 8, 2, 2, 1, 12, positional="learned",
                                                        max_len=6, rng=0, dtype=F64),
                             seq2seq_inputs),
}
TYPES = registered_types()


def instance(cls, seed=0) -> Layer:
    """The case's layer with N(0, 0.5^2) parameters (biases too), in the case's mode."""
    layer = CASES[cls].make()
    rng = np.random.default_rng(seed)
    for p, _ in layer.parameters():
        p[...] = 0.5 * rng.normal(size=p.shape)
    return layer.train(CASES[cls].train)


def as_inputs(xs, device):
    return [as_tensor(x, device, requires_grad=True) if np.issubdtype(x.dtype, np.floating)
            else torch.as_tensor(x, device=device) for x in xs]


def first(out):
    return out[0] if isinstance(out, tuple) else out  # recurrent twins: (out, h_n)


def assert_close(ours, theirs, what):
    assert_close_to(ours, theirs, what, tol=TOL)  # whole models: sums of many more terms


def test_every_registered_type_has_a_case():
    assert set(TYPES) == set(CASES)


@pytest.mark.parametrize("cls", TYPES, ids=lambda c: c.__name__)
def test_twin_matches_forward_backward_and_state(cls, device):
    case, layer = CASES[cls], instance(cls)
    twin = to_torch(layer, device=device)
    assert twin.training == layer.training
    assert all(t.dtype == torch.float64 for t in twin.parameters())
    rng = np.random.default_rng(1)
    xs = case.inputs(rng)
    ts = as_inputs(xs, device)
    out, out_t = case.ours(layer, *xs), first(case.theirs(twin, *ts))
    assert_close(out, out_t, "output")
    dout = rng.normal(size=out.shape)
    din = layer.backward(dout)
    out_t.backward(as_tensor(dout, device))
    din = () if din is None else din if isinstance(din, tuple) else (din,)
    float_ts = [t for t in ts if t.is_floating_point()]
    assert len(din) == len(float_ts)
    for i, (d, t) in enumerate(zip(din, float_ts)):
        assert_close(d, t.grad, f"d(input {i})")
    theirs = torch_grads(layer, twin)
    assert set(theirs) == set(layer.grads)
    for name, g in theirs.items():
        assert_close(layer.grads[name], g, f"d{name}")
    state = twin.state_dict()
    for name, value in torch_state_dict(layer).items():  # parameters and running statistics
        assert_close(value, state[name], name)


@pytest.mark.parametrize("cls", TYPES, ids=lambda c: c.__name__)
def test_copy_weights_round_trip_through_torch(cls):
    src = instance(cls, seed=2)
    twin = to_torch(src, device="cpu")
    dst = CASES[cls].make()
    arrays = [p for p, _ in dst.parameters()]
    copy_weights(twin, dst)
    assert all(a is b for a, b in zip(arrays, (p for p, _ in dst.parameters())))  # in place
    ours, theirs = src.state_dict(), dst.state_dict()
    for name in dict(src.named_parameters()):
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
    with torch.no_grad():  # torch's own values (two different LSTM biases): the sum comes back
        for p in twin.parameters():
            p.add_(0.1 * torch.randn_like(p))
    copy_weights(twin, dst.train(False))
    twin.eval()
    xs = CASES[cls].inputs(np.random.default_rng(3))
    with torch.no_grad():
        assert_close(CASES[cls].ours(dst, *xs), first(CASES[cls].theirs(twin, *as_inputs(xs, "cpu"))),
                     "output after copying torch's weights")


def test_defaults_dtype_mode_and_subclasses():
    class Scaled(L.Linear):  # a subclass finds its parent's twin
        pass

    twin = to_torch(Scaled(3, 2, rng=0), device="cpu")
    assert isinstance(twin, torch.nn.Linear) and twin.weight.dtype == torch.float32
    assert not to_torch(L.Dropout(0.2).eval(), device="cpu").training
    state = torch_state_dict(L.MultiheadAttention(4, 2, rng=0))
    assert state["in_proj_weight"].shape == (12, 4) and state["out_proj.weight"].shape == (4, 4)
    assert not torch_state_dict(L.LSTM(2, 3, rng=0))["bias_hh_l0"].any()  # ours: one bias, in bias_ih


def test_mismatches_and_unregistered_types_are_named():
    with pytest.raises(TypeError, match="no PyTorch twin is registered for MeanPool"):
        to_torch(L.MeanPool())
    with pytest.raises(TypeError, match="for an array use dlbook.twins.as_tensor"):
        to_torch(np.zeros(3))
    with pytest.raises(TypeError, match="copy_weights expected a dlbook Layer and a torch.nn.Module"):
        copy_weights(L.Linear(3, 4, rng=0), L.Linear(3, 4, rng=1))
    with pytest.raises(ValueError, match=r"Linear expected weight of shape \(4, 3\)"):
        copy_weights(L.Linear(3, 4, rng=0), torch.nn.Linear(3, 5))
    with pytest.raises(ValueError, match=r"torch module has tensors that Linear lacks: \['bias'\]"):
        copy_weights(L.Linear(3, 4, bias=False, rng=0), torch.nn.Linear(3, 4))
    with pytest.raises(ValueError, match="is not the twin of Sequential"):
        copy_weights(L.Sequential(L.ReLU(), L.Linear(3, 4, rng=0)),
                     torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU()))
    with pytest.raises(ValueError, match="weight has no gradient; run backward first"):
        torch_grads(L.Linear(3, 4, rng=0), torch.nn.Linear(3, 4))


def test_numpy_imports_fill_no_registry_and_load_no_torch():
    code = ("import sys, dlbook, dlbook.layers, dlbook.models; "
            "assert 'torch' not in sys.modules and 'dlbook.twins' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
