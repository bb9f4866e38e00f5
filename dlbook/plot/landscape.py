"""Contour plots of 2-D loss slices on one shared colour scale (chapter 10)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm, Normalize

LANDSCAPE_LEVELS = 15
"""Default number of contour levels of :func:`plot_loss_surfaces`."""


def _surfaces(surfaces, A: int, B: int) -> dict[str, np.ndarray]:
    if not isinstance(surfaces, Mapping) or not surfaces:
        raise ValueError("plot_loss_surfaces expected a non-empty dict name -> (B, A) loss grid; "
                         f"got {surfaces!r}")
    out = {}
    for name, Z in surfaces.items():
        Z = np.asarray(Z, dtype=np.float64)
        if Z.shape != (B, A):
            raise ValueError(f"plot_loss_surfaces expected the grid {name!r} of shape "
                             f"(len(betas), len(alphas)) = {(B, A)}; got shape {Z.shape}")
        out[str(name)] = Z
    return out


def _shared_levels(grids: list[np.ndarray], levels, log: bool) -> np.ndarray:
    """One set of contour values for every panel: log- or evenly spaced over all grids."""
    values = np.concatenate([Z[np.isfinite(Z)] for Z in grids])
    if values.size == 0:
        raise ValueError("plot_loss_surfaces expected some finite losses; every value is NaN or inf")
    if log and values.min() <= 0:
        raise ValueError(f"plot_loss_surfaces with log=True expected positive losses; "
                         f"the smallest is {values.min():.4g}")
    if not isinstance(levels, (int, np.integer)) or isinstance(levels, bool):
        levels = np.asarray(levels, dtype=np.float64)
        if levels.ndim != 1 or len(levels) < 2 or np.any(np.diff(levels) <= 0):
            raise ValueError("plot_loss_surfaces expected levels to be a count >= 2 or an "
                             f"increasing sequence of values; got {levels!r}")
        return levels
    if levels < 2:
        raise ValueError(f"plot_loss_surfaces expected levels >= 2; got {levels}")
    lo, hi = values.min(), max(values.max(), values.min() * (1 + 1e-9) + 1e-12)
    return np.geomspace(lo, hi, levels) if log else np.linspace(lo, hi, levels)


def plot_loss_surfaces(surfaces: Mapping[str, np.ndarray], alphas: Sequence[float] | np.ndarray,
                       betas: Sequence[float] | np.ndarray | None = None, axes=None,
                       levels: int | Sequence[float] = LANDSCAPE_LEVELS, log: bool = True,
                       cmap: str = "viridis", colorbar: bool = True):
    """Filled contours of loss grids f(a, b), one panel each, on a shared colour scale (chapter 10).

    Shapes: alphas (A,), betas (B,) (default: alphas); each grid (B, A), entry
    [j, i] at (alphas[i], betas[j]), as
    :func:`dlbook.diagnostics.landscape.loss_surface` returns it. Every panel uses
    the same contour values (``levels``: a count spread over the smallest to the
    largest finite loss of all grids, log-spaced when ``log=True``, or the values
    themselves) and one colour bar, so equal colours mean equal losses. The
    centre (0, 0), the trained weights, is marked with a white cross.
    Returns the list of axes, one per grid.
    """
    a = np.asarray(alphas, dtype=np.float64)
    b = a if betas is None else np.asarray(betas, dtype=np.float64)
    if a.ndim != 1 or b.ndim != 1 or a.size < 2 or b.size < 2:
        raise ValueError(f"plot_loss_surfaces expected alphas and betas of at least 2 steps each; "
                         f"got shapes {a.shape} and {b.shape}")
    grids = _surfaces(surfaces, a.size, b.size)
    if axes is None:
        _, axes = plt.subplots(1, len(grids), figsize=(4.2 * len(grids) + 1.2, 4.0),
                               squeeze=False, layout="constrained")
        axes = list(axes[0])
    else:
        axes = list(np.atleast_1d(axes).ravel())
        if len(axes) != len(grids):
            raise ValueError(f"plot_loss_surfaces expected one axes per grid ({len(grids)}); "
                             f"got {len(axes)}")
    values = _shared_levels(list(grids.values()), levels, log)
    norm = LogNorm(values[0], values[-1]) if log else Normalize(values[0], values[-1])
    filled = None
    for ax, (name, Z) in zip(axes, grids.items()):
        Zm = np.ma.masked_invalid(np.clip(Z, values[0], values[-1]))  # beyond the scale: its ends
        filled = ax.contourf(a, b, Zm, levels=values, norm=norm, cmap=cmap)
        ax.contour(a, b, Zm, levels=values, colors="k", linewidths=0.4, alpha=0.5)
        ax.plot(0, 0, "x", color="white", markersize=8, markeredgewidth=2)
        ax.set(xlabel=r"$a$ (direction $d_1$)", ylabel=r"$b$ (direction $d_2$)", title=name,
               aspect="equal")
    if colorbar:
        cbar = axes[0].figure.colorbar(filled, ax=axes, shrink=0.9)
        cbar.set_label("loss")
        decades = np.arange(np.ceil(np.log10(values[0])), np.floor(np.log10(values[-1])) + 1)
        if log and len(decades) >= 2:  # powers of 10, not the (odd) level values
            cbar.set_ticks(10.0 ** decades, labels=[f"{10.0 ** k:g}" for k in decades])
    return axes
