"""Helpers shared by the PyTorch parity tests (not collected by pytest).

``assert_close``: our numpy array against PyTorch's (a tensor on any device, or an array).
``torch_forward_backward``: run a torch module on ``x`` and backpropagate ``dout``.
Import them after ``pytest.importorskip("torch")``.
"""

import numpy as np

from dlbook.twins import as_tensor, to_numpy

TOL = 1e-10
"""float64 against float64: only the order of the sums differs."""


def assert_close(ours, theirs, what="", tol=TOL):
    theirs = to_numpy(theirs) if hasattr(theirs, "detach") else theirs
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol, err_msg=what)


def torch_forward_backward(module, x, dout, device):
    """Run a torch module on x and backpropagate dout; returns (y, dx) as tensors."""
    xt = as_tensor(x, device, requires_grad=True)
    yt = module(xt)
    yt.backward(as_tensor(dout, device))
    return yt, xt.grad
