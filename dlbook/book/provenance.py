"""What produced a number: package versions and the device, collected in one place.

:func:`provenance` is stored with every recorded result
(:mod:`dlbook.book.results`), in every executed chapter's metadata (the book
prints it under the chapter) and in ``python -m dlbook doctor``'s report.
Nothing here imports torch unless asked to.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys

NOT_INSTALLED = "not installed"


def package_versions(packages: tuple[str, ...] = ("numpy", "torch"),
                     loaded_only: bool = False) -> dict[str, str]:
    """{"dlbook": ..., "python": ..., name: version} for each of ``packages``.

    ``loaded_only``: list only the packages this process has already imported
    (a chapter that never used torch does not report it); otherwise import
    each one, and say ``"not installed"`` for those that are missing. Local
    build tags are dropped ("2.13.0+cpu" -> "2.13.0").
    """
    import dlbook

    versions = {"dlbook": dlbook.__version__, "python": platform.python_version()}
    for name in packages:
        if loaded_only and name not in sys.modules:
            continue
        try:
            module = importlib.import_module(name)
        except ImportError:
            versions[name] = NOT_INSTALLED
            continue
        versions[name] = str(getattr(module, "__version__", "?")).split("+")[0]
    return versions


def device_name(import_torch: bool = False) -> str:
    """'cuda (<GPU name>)', 'mps' or 'cpu (<machine>, <n> cores)': where the work ran.

    Uses torch only when it is already imported, or when ``import_torch``
    asks for it (and it is installed).
    """
    torch = sys.modules.get("torch")
    if torch is None and import_torch:
        try:
            import torch
        except ImportError:
            torch = None
    if torch is not None and torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    if torch is not None and torch.backends.mps.is_available():
        return "mps"
    return f"cpu ({platform.machine()}, {os.cpu_count()} cores)"


def provenance(packages: tuple[str, ...] = ("numpy", "torch"), loaded_only: bool = False,
               import_torch: bool = False) -> dict[str, str]:
    """Versions (see :func:`package_versions`) and ``"device"`` (see :func:`device_name`)."""
    return {**package_versions(packages, loaded_only), "device": device_name(import_torch)}
