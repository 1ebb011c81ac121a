"""Agreement between methods and per-head agreement with reference attributions (pure numpy).

Everything is computed over non-special tokens (``content`` mask). Undefined values (constant
scores, fewer than two tokens) are None in agreement rows and NaN in head grids.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import combinations

import numpy as np
from scipy.stats import kendalltau, rankdata, spearmanr


def _corr(
    fn: Callable[[np.ndarray, np.ndarray], Sequence[float]], a: np.ndarray, b: np.ndarray
) -> float | None:
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


def agreement_rows(scores: dict[str, np.ndarray], content: np.ndarray) -> list[dict]:
    """One row per pair (method_a before method_b in the given dict order)."""
    rows = []
    for method_a, method_b in combinations(scores, 2):
        row: dict[str, str | float | None] = {"method_a": method_a, "method_b": method_b}
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


def _tau_b(signs: np.ndarray, i: int, j: int) -> float:
    """Kendall tau-b from pairwise sign matrices (same value as ``scipy.stats.kendalltau``)."""
    a, b = signs[i], signs[j]
    denom = np.sqrt(float(np.count_nonzero(a)) * float(np.count_nonzero(b)))
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


def agreement_table(scores: np.ndarray) -> dict[tuple[int, int], dict[str, float | None]]:
    """All measures for every method pair of ``scores`` [M, n] at once: Spearman as the
    Pearson correlation of scipy ranks, Kendall tau-b from pairwise signs. Equal to
    :func:`agreement` (a test checks it) where that is defined, ~20x faster for 21 pairs."""
    out: dict[tuple[int, int], dict[str, float | None]] = {}
    k10 = max(1, math.ceil(0.1 * scores.shape[1]))
    variants = {"": np.abs(scores), "_signed": scores}
    rho = {v: np.corrcoef(rankdata(x, axis=1)) for v, x in variants.items()}
    signs = {v: np.sign(x[:, :, None] - x[:, None, :]).astype(np.int8) for v, x in variants.items()}
    for i in range(len(scores)):
        for j in range(i + 1, len(scores)):
            values: dict[str, float | None] = {}
            for v in variants:
                values["spearman" + v] = float(rho[v][i, j])
                values["kendall" + v] = _tau_b(signs[v], i, j)
            values["jaccard_5"] = jaccard_top_k(scores[i], scores[j], 5)
            values["jaccard_10pct"] = jaccard_top_k(scores[i], scores[j], k10)
            out[(i, j)] = values
    return out


def pair_share(scores: np.ndarray, content: np.ndarray, pair_start: int) -> float | None:
    """Share of the attribution mass, sum |scores| over the content tokens ([n] each), that
    falls on a sentence pair's second text (positions from ``pair_start``); the first text's
    share is 1 minus it. None when the content tokens carry no mass."""
    mass = np.abs(np.asarray(scores, dtype=np.float64)) * np.asarray(content, dtype=bool)
    total = float(mass.sum())
    if not total > 0:
        return None
    return float(mass[pair_start:].sum()) / total
