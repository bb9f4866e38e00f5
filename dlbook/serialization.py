"""Save and load a model's weights as a pickle-free ``.npz`` file (chapter 8).

``save(model, path)`` stores ``model.state_dict()`` (every parameter and
buffer, by dotted name); ``load(path)`` returns that dict, and
``model.load_state_dict(load(path))`` puts the numbers back::

    dlbook.save(net, "net.npz")
    twin = make_net(); twin.load_state_dict(dlbook.load("net.npz"))

The file is written to a temporary name and moved into place with
``os.replace``, so a crash never leaves half a file; it is read with
``allow_pickle=False``, so loading a file never runs code.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np


def _state_of(obj) -> dict[str, np.ndarray]:
    if isinstance(obj, dict):
        state = obj
    elif hasattr(obj, "state_dict"):
        state = obj.state_dict()
    else:
        raise TypeError(f"save expected a model (with state_dict()) or a dict name -> array; "
                        f"got {type(obj).__name__}")
    for name, value in state.items():
        if not isinstance(name, str) or not isinstance(value, np.ndarray) or value.dtype == object:
            raise TypeError(f"save expected string names and numeric numpy arrays; "
                            f"got {name!r}: {type(value).__name__}")
    return state


def save(obj, path: str | os.PathLike) -> Path:
    """Write ``obj.state_dict()`` (or a dict name -> array) to ``path`` as ``.npz``; returns the path.

    The suffix ``.npz`` is added when missing. The write is atomic.
    """
    state = _state_of(obj)
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **state)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a file written by :func:`save`: a dict name -> array (no pickles are ever loaded).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for a
    file that is not a readable ``.npz`` archive.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"load expected a .npz file written by dlbook.save; "
                                f"{path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (ValueError, OSError) as err:
        raise ValueError(f"load expected a .npz file written by dlbook.save; "
                         f"could not read {path} ({err})") from None
