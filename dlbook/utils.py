"""Seeding helpers: explicit randomness.

Nothing here runs at import time. Randomness in the package always comes from
an explicit ``numpy.random.Generator``; :func:`seed_everything` exists for
notebooks that also use Python's ``random`` and PyTorch. The one helper that
picks the device is :func:`dlbook.twins.default_device`.
"""

from __future__ import annotations

import random
import sys

import numpy as np


def make_rng(seed: int | np.random.Generator | None = None,
             where: str = "make_rng") -> np.random.Generator:
    """Return a ``numpy.random.Generator``: an int seeds a new one, a Generator passes through.

    ``None`` gives fresh OS entropy (not reproducible). ``where`` names the
    calling function in the error message.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise TypeError(
        f"{where}: expected rng to be a numpy.random.Generator, an int seed or None, "
        f"got {type(seed).__name__}"
    )


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's ``random``, numpy's legacy global RNG and (if imported) PyTorch.

    Returns a fresh ``numpy.random.Generator`` seeded with ``seed`` for new code.
    Torch is seeded only when it has already been imported, so calling this
    never pulls torch into a numpy-only notebook.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
    return make_rng(seed)
