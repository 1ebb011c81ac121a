"""Karpekov & Miller's accuracy curves, the maths: the share of originally correct examples
still classified correctly after deleting each method's top k tokens (and, for signed methods,
its bottom k: the tokens pushing most toward another class), relative to k = 0.

:class:`CurveStack` holds a run's stored curves as [N, M, G] arrays over the run's deletion
grid (``db.accuracy_reads`` builds it with one query; the dashboard caches it per run);
:func:`accuracy_curves` reduces it over any set of example ids with numpy, against k or the
deleted fraction (``deletion_axes``). Runs ingested before revision 0003 have no curves: their
stack says so (``stored`` is False).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from attention_atlas.db.analysis.deletion_axes import on_axis, x_values


@dataclass(frozen=True, eq=False)
class CurveStack:
    """A run's accuracy and bottom-strategy curves over (example, method), float32 with NaN
    where a row is missing, not stored (unsigned methods have no bottom curve; runs before
    0003 have none at all) or past an example's shorter curve. Booleans are stored as 1 / 0."""

    ids: np.ndarray  # [N] sorted example ids with any faithfulness row
    methods: list[str]  # [M] registry order, random last
    same: np.ndarray  # [N, M, G] top-k deleted: 1 if the predicted class is unchanged
    bottom: np.ndarray  # [N, M, G] bottom-k deleted: probability of the predicted class
    bottom_same: np.ndarray  # [N, M, G] bottom-k deleted: 1 if the class is unchanged
    k: np.ndarray  # [G] tokens deleted at each grid point (the run's deletion grid)
    content: np.ndarray  # [N] content tokens of each example (k / content: deleted fraction)

    @property
    def stored(self) -> bool:
        """Whether the run has accuracy curves at all (False for runs ingested before 0003)."""
        return bool(len(self.ids)) and not np.isnan(self.same).all()


@dataclass(frozen=True)
class AccuracyCurves:
    """Relative accuracy at each ``x`` (tokens deleted, or the deleted fraction) over ``n``
    originally correct examples: ``top[m]`` for the top-k of method ``m`` (and ``random``),
    ``bottom[m]`` for the bottom-k of each signed method. Empty dicts when nothing is
    stored."""

    n: int
    top: dict[str, np.ndarray]
    bottom: dict[str, np.ndarray]
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))


def relative_accuracy(same: np.ndarray) -> np.ndarray:
    """[X] share still predicted (1) among the rows of ``same`` [n, X] that have a value there
    (already carried or interpolated, ``deletion_axes``), divided by the share at the first
    point (1 unless a near-tie flipped the re-evaluated input)."""
    kept = same[~np.isnan(same[:, 0])]
    if not len(kept):
        return np.full(same.shape[1], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a point no example reaches: NaN
        share = np.nanmean(kept, axis=0)
    return share / share[0] if share[0] > 0 else np.full_like(share, np.nan)


def accuracy_curves(stack: CurveStack, correct_ids: np.ndarray, axis: str = "k") -> AccuracyCurves:
    """The relative accuracy curves over the examples ``correct_ids`` (the originally correct
    ones of a filter) against ``axis`` (``deletion_axes.AXES``): top-k per method and
    ``random``, bottom-k per signed method."""
    rows = np.isin(stack.ids, np.asarray(correct_ids, dtype=np.int64))
    if not stack.stored or not rows.any():
        return AccuracyCurves(0, {}, {})
    content = stack.content[rows]
    same = on_axis(stack.same[rows], stack.k, content, axis)
    bottom = on_axis(stack.bottom_same[rows], stack.k, content, axis)
    top, low = {}, {}
    for i, method in enumerate(stack.methods):
        if not np.isnan(same[:, i, 0]).all():
            top[method] = relative_accuracy(same[:, i])
        if not np.isnan(bottom[:, i, 0]).all():
            low[method] = relative_accuracy(bottom[:, i])
    n = int((~np.isnan(same[:, :, 0])).any(axis=1).sum())
    return AccuracyCurves(n, top, low, x_values(axis, stack.k))
