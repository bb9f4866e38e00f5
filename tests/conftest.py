"""Shared fixtures: the devices every PyTorch parity test runs on."""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch is imported anywhere

import pytest

try:
    import torch
except ImportError:  # pragma: no cover - torch is in requirements.txt
    torch = None

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(
        torch is None or not torch.cuda.is_available(), reason="no CUDA device")]),
]


@pytest.fixture(params=DEVICES)
def device(request):
    """Each parity test runs on CPU and, when a GPU is present, on CUDA."""
    return request.param


@pytest.fixture
def plt():
    """matplotlib.pyplot on the Agg backend; every figure is closed after the test."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    yield plt
    plt.close("all")


@pytest.fixture
def one_thread():
    """torch on one thread: tiny models train faster, and never wait for busy cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
