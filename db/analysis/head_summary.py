"""Per-run summaries of the per-head arrays over a set of examples (pure numpy): means that
ignore missing examples, whether "looks like the reference" predicts "matters", the per-layer
sentiment vs structure profile, and the examples where one head matters most."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import spearmanr


def nan_mean(values: np.ndarray) -> np.ndarray | None:
    """Mean over axis 0 ignoring NaN rows (missing examples); None when nothing is left."""
    if values.size == 0 or not np.isfinite(values).any():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a head NaN on every example
        return np.nanmean(values, axis=0)


def rank_correlation(agreement: np.ndarray, importance: np.ndarray) -> float | None:
    """Spearman rho over the heads ([L, H] each, cells finite in both) between the mean
    agreement grid and the mean importance grid; None with fewer than 3 heads or a constant."""
    a, b = np.ravel(agreement), np.ravel(importance)
    keep = np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 3 or np.ptp(a[keep]) == 0 or np.ptp(b[keep]) == 0:
        return None
    return float(spearmanr(a[keep], b[keep])[0])


def layer_profile(share: np.ndarray) -> np.ndarray:
    """[L] mean over heads of a per-head mean share [L, H] (NaN heads ignored)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(share, axis=1)


def top_examples(
    ids: np.ndarray, values: np.ndarray, layer: int, head: int, k: int
) -> list[tuple[int, float]]:
    """The k (id, value) pairs of largest ``values[:, layer, head]`` ([N, L, H], aligned with
    ``ids``), NaN left out, largest first (ties by id)."""
    column = values[:, layer, head]
    keep = np.flatnonzero(np.isfinite(column))
    order = keep[np.argsort(-column[keep], kind="stable")][:k]
    return [(int(ids[i]), float(column[i])) for i in order]
