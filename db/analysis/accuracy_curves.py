"""Karpekov & Miller's accuracy curves, the maths: the share of originally correct examples
still classified correctly after deleting each method's top k tokens (and, for signed methods,
its bottom k: the tokens pushing most toward another class), relative to k = 0.

:class:`CurveStack` holds a run's stored curves as [N, M, K+1] arrays (``db.accuracy_reads``
builds it with one query; the dashboard caches it per run); :func:`accuracy_curves` reduces it
over any set of example ids with numpy. Runs ingested before revision 0003 have no curves:
their stack says so (``stored`` is False).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class CurveStack:
    """A run's accuracy and bottom-strategy curves over (example, method), float32 with NaN
    where a row is missing, not stored (unsigned methods have no bottom curve; runs before
    0003 have none at all) or past an example's shorter curve. Booleans are stored as 1 / 0."""

    ids: np.ndarray  # [N] sorted example ids with any faithfulness row
    methods: list[str]  # [M] registry order, random last
    same: np.ndarray  # [N, M, K+1] top-k deleted: 1 if the predicted class is unchanged
    bottom: np.ndarray  # [N, M, K+1] bottom-k deleted: probability of the predicted class
    bottom_same: np.ndarray  # [N, M, K+1] bottom-k deleted: 1 if the class is unchanged

    @property
    def stored(self) -> bool:
        """Whether the run has accuracy curves at all (False for runs ingested before 0003)."""
        return bool(len(self.ids)) and not np.isnan(self.same).all()


@dataclass(frozen=True)
class AccuracyCurves:
    """Relative accuracy after deleting k tokens, k = 0..K, over ``n`` originally correct
    examples: ``top[m][k]`` for the top-k of method ``m`` (and ``random``), ``bottom[m][k]``
    for the bottom-k of each signed method. Empty dicts when nothing is stored."""

    n: int
    top: dict[str, np.ndarray]
    bottom: dict[str, np.ndarray]


def _carried(curves: np.ndarray) -> np.ndarray:
    """[n, K+1] with each row's NaN tail filled by its last value: deleting more tokens than
    an example has leaves it as deleting all of them did (rows that are all NaN stay NaN)."""
    filled = curves.copy()
    for k in range(1, filled.shape[1]):
        gap = np.isnan(filled[:, k])
        filled[gap, k] = filled[gap, k - 1]
    return filled


def relative_accuracy(same: np.ndarray) -> np.ndarray:
    """[K+1] share still predicted (1) among the rows of ``same`` [n, K+1] that have a curve,
    divided by the share at k = 0 (1 unless a near-tie flipped the re-evaluated input)."""
    kept = same[~np.isnan(same[:, 0])]
    if not len(kept):
        return np.full(same.shape[1], np.nan)
    share = _carried(kept).mean(axis=0)
    return share / share[0] if share[0] > 0 else np.full_like(share, np.nan)


def accuracy_curves(stack: CurveStack, correct_ids: np.ndarray) -> AccuracyCurves:
    """The relative accuracy curves over the examples ``correct_ids`` (the originally correct
    ones of a filter): top-k per method and ``random``, bottom-k per signed method."""
    rows = np.isin(stack.ids, np.asarray(correct_ids, dtype=np.int64))
    if not stack.stored or not rows.any():
        return AccuracyCurves(0, {}, {})
    same, bottom = stack.same[rows], stack.bottom_same[rows]
    top, low = {}, {}
    for i, method in enumerate(stack.methods):
        if not np.isnan(same[:, i, 0]).all():
            top[method] = relative_accuracy(same[:, i])
        if not np.isnan(bottom[:, i, 0]).all():
            low[method] = relative_accuracy(bottom[:, i])
    n = int((~np.isnan(same[:, :, 0])).any(axis=1).sum())
    return AccuracyCurves(n, top, low)
