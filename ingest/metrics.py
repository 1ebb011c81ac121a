"""Agreement between methods and per-head agreement with reference attributions (pure numpy).

Everything is computed over non-special tokens (``content`` mask). Undefined values (constant
scores, fewer than two tokens) are None in agreement rows and NaN in head grids.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from scipy.stats import rankdata

from db.measures import agreement


def agreement_rows(scores: dict[str, np.ndarray], content: np.ndarray) -> list[dict]:
    """One row per pair (method_a before method_b in the given dict order)."""
    rows = []
    for method_a, method_b in combinations(scores, 2):
        row = {"method_a": method_a, "method_b": method_b}
        row.update(agreement(scores[method_a][content], scores[method_b][content]))
        rows.append(row)
    return rows


def head_grid(rows: np.ndarray, reference: np.ndarray, content: np.ndarray) -> np.ndarray:
    """[layers, heads] Spearman rho between each head's prediction row (rows [L, H, n]) and
    |reference| [n], over content tokens; NaN where undefined."""
    layers, heads, _ = rows.shape
    grid = np.full((layers, heads), np.nan, dtype=np.float32)
    ref = np.abs(np.asarray(reference, dtype=np.float64))[content]
    att = np.asarray(rows, dtype=np.float64)[:, :, content].reshape(layers * heads, -1)
    if ref.size < 2 or np.ptp(ref) == 0:
        return grid
    ref_rank = rankdata(ref)
    ref_c = ref_rank - ref_rank.mean()
    att_rank = rankdata(att, axis=1)
    att_c = att_rank - att_rank.mean(axis=1, keepdims=True)
    denom = np.sqrt((att_c**2).sum(axis=1) * (ref_c**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (att_c @ ref_c) / denom
    rho[denom == 0] = np.nan
    return rho.reshape(layers, heads).astype(np.float32)
