"""Return curves of reinforcement-learning runs over several seeds (chapter 21)."""

from __future__ import annotations

import warnings
from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np

from dlbook.rl.evaluate import moving_average

BAND_ALPHA = 0.2
"""Opacity of the band between the lowest and the highest seed."""


def plot_returns(curves: Mapping[str, np.ndarray], random_return: float | None = None,
                 window: int = 10, ax=None, title: str | None = None, x: np.ndarray | None = None,
                 xlabel: str = "episode", ylabel: str | None = None):
    """Mean over seeds of each method's smoothed return, with a min-max band across seeds.

    Shapes: each curve (S, E) returns for S seeds at E points (episodes, or the
    steps ``x`` (E,)); each seed is smoothed with a trailing ``window``-point
    mean first (``window=1``: no smoothing; NaN entries are left out of the
    mean and the band). ``random_return`` draws a dashed line at a random
    policy's average return. ``ylabel`` replaces the default axis label.
    """
    if ax is None:
        _, ax = plt.subplots()
    for name, returns in curves.items():
        returns = np.asarray(returns, dtype=np.float64)
        if returns.ndim != 2:
            raise ValueError(f"plot_returns expected curves of shape (seeds, episodes); "
                             f"{name!r} has shape {returns.shape}")
        smooth = moving_average(returns, window) if window > 1 else returns  # (S, E)
        points = np.arange(1, returns.shape[1] + 1) if x is None else np.asarray(x)
        with warnings.catch_warnings():  # all-NaN columns (no episode finished yet) stay NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            mean, low, high = (f(smooth, axis=0) for f in (np.nanmean, np.nanmin, np.nanmax))
        line, = ax.plot(points, mean, label=f"{name} (mean of {len(returns)} seeds)")
        ax.fill_between(points, low, high, color=line.get_color(), alpha=BAND_ALPHA, linewidth=0)
    if random_return is not None:
        ax.axhline(random_return, color="k", linestyle="--", linewidth=1, label="random policy")
    ax.set_xlabel(xlabel)
    smoothing = f"{window}-episode moving average" if window > 1 else "latest episode"
    ax.set_ylabel(ylabel or f"return ({smoothing})")
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    return ax
