"""Karpekov & Miller's charts for the dashboard: accuracy curves (top-k and bottom-k) and the
consistency test over a run and a corpus filter, read through the data service.

:func:`accuracy_curves` is the one entry point for a run's curves (the faithfulness page uses
it, and a page comparing two runs can overlay two calls). The service decodes the stored curve
blobs and top-5 vectors once per run (``db.accuracy_reads``); per set of filtered example ids
the reductions are cached with the run's per-filter results, so a filter's second view costs a
dictionary look-up.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from attention_atlas.dashboard.data.service import service
from attention_atlas.db import queries, stacks
from attention_atlas.db.analysis import accuracy_curves as curve_analysis
from attention_atlas.db.analysis import consistency


@dataclass(frozen=True, eq=False)
class MethodConsistency:
    """The consistency test of one method over a filter's correctly classified examples."""

    method: str
    n: int  # correct examples in the filter with a stored vector
    silhouette: float | None  # None when fewer than two classes are present
    ids: np.ndarray  # [m] example ids used (m = n, or MAX_POINTS after subsampling)
    labels: np.ndarray  # [m] gold (= predicted) class
    x: np.ndarray = field(repr=False)  # [m, d] the vectors used, as stored

    @property
    def subsampled(self) -> bool:
        return len(self.ids) < self.n

    @cached_property
    def xy(self) -> np.ndarray:
        """[m, 2] the vectors' first two principal components (computed when a scatter asks:
        the table of every method needs only the silhouettes)."""
        return consistency.project_2d(self.x)


def _digest(ids: np.ndarray) -> str:
    """A cache key for a set of example ids (whatever filter chose them)."""
    return hashlib.blake2b(np.asarray(ids, dtype=np.int64).tobytes(), digest_size=16).hexdigest()


def correct_ids(run: queries.RunInfo, f: queries.CorpusFilter) -> np.ndarray:
    """[n] ids of the examples in filter ``f`` the model classified correctly (sorted)."""
    data = service()
    corpus = data.corpus(run)
    mask = stacks.rows_of(corpus.ids, data.ids(run, f, "id", False)) & (corpus.correct == 1)
    return corpus.ids[mask]


def accuracy_curves(
    run: queries.RunInfo, f: queries.CorpusFilter, axis: str = "k"
) -> curve_analysis.AccuracyCurves:
    """Relative accuracy over the originally correct examples of ``f`` at each ``.x`` of
    ``axis`` (the run's k grid, or the deleted fractions): ``.top[method]`` (``random``
    included) and ``.bottom[method]`` (signed methods); ``.n`` examples. Empty when the run
    stores no accuracy curves (before 0003)."""
    data, wanted = service(), correct_ids(run, f)
    stack = data.curve_stack(run)
    key = ("accuracy", axis, _digest(wanted))
    return data.per_filter(run, key, lambda: curve_analysis.accuracy_curves(stack, wanted, axis))


def warm(run: queries.RunInfo) -> None:
    """Decode the run's per-run stacks of this module (curves, every method's top-5 vectors)
    now, so the first faithfulness page after a start does not pay for them."""
    data = service()
    data.curve_stack(run)
    for method in data.vector_methods(run):
        data.top_vectors(run, method)


def method_consistency(
    run: queries.RunInfo, f: queries.CorpusFilter, method: str
) -> MethodConsistency | None:
    """The consistency test of ``method`` over the correct examples of ``f`` (None when the
    run stores no vectors for it). Above ``consistency.MAX_POINTS`` examples, a seeded
    subsample."""
    data = service()
    if method not in data.vector_methods(run):
        return None
    wanted = correct_ids(run, f)
    key = ("consistency", method, _digest(wanted))
    return data.per_filter(run, key, lambda: _consistency(run, method, wanted))


def _consistency(run: queries.RunInfo, method: str, wanted: np.ndarray) -> MethodConsistency:
    data = service()
    ids, vectors = data.top_vectors(run, method)
    rows = np.flatnonzero(stacks.rows_of(ids, wanted)) if vectors is not None else np.zeros(0)
    chosen = rows.astype(np.int64)[consistency.subsample(len(rows))]
    corpus = data.corpus(run)
    chosen_ids = ids[chosen] if len(chosen) else np.zeros(0, dtype=np.int64)
    labels = corpus.label[np.searchsorted(corpus.ids, chosen_ids)]
    x = vectors[chosen] if vectors is not None and len(chosen) else np.zeros((0, 2))
    return MethodConsistency(
        method=method,
        n=len(rows),
        silhouette=consistency.silhouette_score(x, labels) if len(chosen) else None,
        ids=chosen_ids,
        labels=labels,
        x=x,
    )
