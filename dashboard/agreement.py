"""One example's method-by-method agreement: as stored (subword tokens) or over word sums.

The stored matrix reads the ``agreements`` rows ingest wrote; the word matrix applies the same
measures (``db.measures``) to each method's scores summed per word, so a reader can see whether
a disagreement survives when subword splits stop counting. Both skip special tokens.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.components import aggregate_words
from db.measures import agreement


def _empty(methods: list[str]) -> np.ndarray:
    out = np.full((len(methods), len(methods)), np.nan)
    np.fill_diagonal(out, 1.0)
    return out


def stored_matrix(rows: pd.DataFrame, methods: list[str], measure: str) -> np.ndarray:
    """[M, M] symmetric ``measure`` from an example's agreement rows; NaN where undefined."""
    index = {m: i for i, m in enumerate(methods)}
    out = _empty(methods)
    for a, b, value in rows[["method_a", "method_b", measure]].itertuples(index=False):
        if a in index and b in index and value is not None and not pd.isna(value):
            out[index[a], index[b]] = out[index[b], index[a]] = float(value)
    return out


def word_matrix(
    scores: dict[str, np.ndarray],
    tokens: list[str],
    word_ids: np.ndarray,
    special: np.ndarray,
    measure: str,
) -> np.ndarray:
    """[M, M] ``measure`` between methods' word sums (methods in ``scores`` order)."""
    methods = list(scores)
    sums = {}
    for method in methods:
        _, positions, values = aggregate_words(tokens, word_ids, special, scores[method])
        sums[method] = values[~np.asarray(special, dtype=bool)[positions]]
    out = _empty(methods)
    for i, a in enumerate(methods):
        for j in range(i + 1, len(methods)):
            value = agreement(sums[a], sums[methods[j]])[measure]
            if value is not None:
                out[i, j] = out[j, i] = value
    return out
