"""The per-example agreement measures stored in the ``agreements`` table (pure numpy/scipy).

One definition for both halves: ingest computes them over subword tokens, the dashboard over
word sums. Inputs are already restricted to content (non-special) tokens; undefined values
(constant scores, fewer than two tokens) are None.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import kendalltau, spearmanr

MEASURES = (  # the keys of agreement(), and the agreements table's columns
    "spearman",
    "kendall",
    "spearman_signed",
    "kendall_signed",
    "jaccard_5",
    "jaccard_10pct",
)


def _corr(fn, a: np.ndarray, b: np.ndarray) -> float | None:  # noqa: ANN001
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    value = float(fn(a, b)[0])
    return None if math.isnan(value) else value


def top_k(scores: np.ndarray, k: int) -> set[int]:
    """Indices of the k largest |scores| (ties broken by position)."""
    order = np.argsort(-np.abs(scores), kind="stable")
    return set(order[:k].tolist())


def jaccard_top_k(a: np.ndarray, b: np.ndarray, k: int) -> float | None:
    """Jaccard overlap of the top-k tokens by |score|; k is capped at the token count."""
    k = min(k, len(a))
    if k == 0:
        return None
    left, right = top_k(a, k), top_k(b, k)
    return len(left & right) / len(left | right)


def agreement(a: np.ndarray, b: np.ndarray) -> dict[str, float | None]:
    """Agreement of two score vectors [n] (already restricted to content tokens)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return {
        "spearman": _corr(spearmanr, np.abs(a), np.abs(b)),
        "kendall": _corr(kendalltau, np.abs(a), np.abs(b)),
        "spearman_signed": _corr(spearmanr, a, b),
        "kendall_signed": _corr(kendalltau, a, b),
        "jaccard_5": jaccard_top_k(a, b, 5),
        "jaccard_10pct": jaccard_top_k(a, b, math.ceil(0.1 * len(a))),
    }
