"""Karpekov & Miller's accuracy curves: the share of originally correct examples still
classified correctly after deleting each method's top k tokens (and, for signed methods, its
bottom k: the tokens pushing most toward another class), relative to k = 0.

:func:`stack_curves` reads a run's stored ``deletion_same`` / ``deletion_bottom`` /
``deletion_bottom_same`` blobs once into [N, M, K+1] arrays (the dashboard caches them per
run); :func:`accuracy_curves` reduces them over any set of example ids with numpy. Runs
ingested before revision 0003 have NULL there: their stack says so (``stored`` is False).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import LargeBinary, select, type_coerce
from sqlalchemy.orm import Session

from attention_atlas.models import vocabulary
from attention_atlas.models.arrays import decode_array, decode_stacked
from attention_atlas.models.schema import Faithfulness

CURVE_COLUMNS = ("deletion_same", "deletion_bottom", "deletion_bottom_same")


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


def _raw(column):
    return type_coerce(column, LargeBinary)


def _fill(out: np.ndarray, blobs: list, rows: np.ndarray, cols: np.ndarray) -> None:
    """Decode ``blobs`` (None = not stored) into ``out[rows[i], cols[i], :len]``: one
    ``frombuffer`` per group of equally long blobs (compressed or odd ones one by one)."""
    present = np.flatnonzero(np.fromiter((b is not None for b in blobs), bool, len(blobs)))
    lengths = np.fromiter((len(blobs[i]) for i in present.tolist()), np.int64, len(present))
    for length in np.unique(lengths):
        pick = present[lengths == length]
        try:
            block = decode_stacked([blobs[i] for i in pick.tolist()])
        except ValueError:
            for i in pick.tolist():
                curve = decode_array(blobs[i])
                out[rows[i], cols[i], : len(curve)] = curve
            continue
        out[rows[pick], cols[pick], : block.shape[1]] = block


def stack_curves(session: Session, run_id: int) -> CurveStack:
    """Every stored accuracy / bottom curve of the run, one query (see :class:`CurveStack`)."""
    stmt = select(
        Faithfulness.example_id,
        Faithfulness.method,
        *(_raw(getattr(Faithfulness, c)) for c in CURVE_COLUMNS),
    ).where(Faithfulness.run_id == run_id)
    rows = [r for r in session.connection().execute(stmt).all() if vocabulary.info(r[1])]
    ids = np.unique(np.fromiter((r[0] for r in rows), np.int64, len(rows)))
    present = {r[1] for r in rows}
    methods = [m for m in vocabulary.with_random_last(present) if m in present]
    col = {m: i for i, m in enumerate(methods)}
    row_of = np.searchsorted(ids, np.fromiter((r[0] for r in rows), np.int64, len(rows)))
    column = np.fromiter((col[r[1]] for r in rows), np.int64, len(rows))
    width = _longest(rows)
    arrays = [np.full((len(ids), len(methods), width), np.nan, np.float32) for _ in CURVE_COLUMNS]
    for index, out in enumerate(arrays):
        _fill(out, [r[2 + index] for r in rows], row_of, column)
    return CurveStack(ids, methods, *arrays)


def _longest(rows: list) -> int:
    """K + 1 of the longest stored curve (blobs of one dtype grow with their length)."""
    blobs = [r[2] for r in rows if r[2] is not None]
    if not blobs:
        return 0
    return len(decode_array(max(blobs, key=len)))


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
