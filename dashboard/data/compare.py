"""What the compare page reads for two runs, reduced over their shared examples.

The run-vs-run similarity (:func:`db.compare.run_similarity`, the costly part: every score
array of both runs) comes from the data service, which caches it per pair of run versions;
agreement, head grids, deletion curves, accuracy and confidence come from the service's per-run
stacks, and the accuracy curves from the stored curves it decodes, taken at the shared examples
that pass the corpus filter (applied to run A).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attention_atlas.dashboard.data.service import AtlasData
from attention_atlas.dashboard.urlstate import CompareState
from attention_atlas.db import stacks
from attention_atlas.db.analysis import accuracy_curves
from attention_atlas.db.compare import RunSimilarity, SharedExamples
from attention_atlas.db.queries import RunInfo


@dataclass(frozen=True, eq=False)
class Comparison:
    """Two runs, their similarity, and which shared examples pass the filter."""

    a: RunInfo
    b: RunInfo
    sim: RunSimilarity
    keep: np.ndarray  # [S] bool over ``sim.shared``: in run A's filtered examples

    @property
    def shared(self) -> SharedExamples:
        return self.sim.shared

    @property
    def ids_a(self) -> np.ndarray:
        return self.shared.ids_a[self.keep]

    @property
    def ids_b(self) -> np.ndarray:
        return self.shared.ids_b[self.keep]


def comparison(data: AtlasData, state: CompareState, a: RunInfo, b: RunInfo) -> Comparison:
    sim = data.similarity(a, b)
    wanted = data.ids(a, state.corpus.to_filter(a.id), "id", False)
    keep = np.isin(sim.shared.ids_a, wanted)
    return Comparison(a, b, sim, keep)


def sanity_kind(a: RunInfo, b: RunInfo) -> str | None:
    """How B randomizes A's checkpoint ("every weight" / "layers K.. and the head"), when B is
    the randomized twin of trained run A (same checkpoint); None otherwise."""
    randomized = [bool(run.settings.get("randomize_weights")) for run in (a, b)]
    if a.checkpoint != b.checkpoint or randomized != [False, True]:
        return None
    depth = b.settings.get("randomize_layers")
    if depth is None:
        return "every weight re-initialised"
    return f"layers {depth}..{b.num_layers - 1} and the head re-initialised (cascading)"


def agreement_means(
    data: AtlasData, run: RunInfo, ids: np.ndarray, methods: list[str], measure: str
) -> np.ndarray:
    """[M, M] mean ``measure`` of every method pair over ``ids`` (NaN on the diagonal)."""
    corpus_ids = data.corpus(run).ids
    rows = stacks.rows_of(corpus_ids, ids)
    out = np.full((len(methods), len(methods)), np.nan)
    for i, first in enumerate(methods):
        for j in range(i + 1, len(methods)):
            values = data.agreement(run, (first, methods[j]), measure)[rows]
            values = values[~np.isnan(values)]
            if values.size:
                out[i, j] = out[j, i] = float(values.mean())
    return out


def head_grid_mean(
    data: AtlasData, run: RunInfo, ids: np.ndarray, reference: str
) -> np.ndarray | None:
    """[L, H] mean head grid over ``ids`` with ``reference`` (None when there is none)."""
    stack_ids, grids = data.head_stack(run, reference)
    if grids is None:
        return None
    subset = stacks.take(stack_ids, grids, ids)
    return np.nanmean(subset, axis=0) if len(subset) else None


def deletion_means(data: AtlasData, run: RunInfo, ids: np.ndarray) -> dict[str, np.ndarray]:
    """method -> mean deletion curve [K+1] over ``ids`` (the random baseline included)."""
    stack_ids, methods, curves = data.deletion_stack(run)
    if curves is None:
        return {}
    subset = stacks.take(stack_ids, curves, ids)
    if not len(subset):
        return {}
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(subset, axis=0)
    return {m: mean[i] for i, m in enumerate(methods) if not np.all(np.isnan(mean[i]))}


def accuracy_confidence(data: AtlasData, run: RunInfo, ids: np.ndarray) -> tuple[float, float]:
    """(accuracy over the examples with a gold label, mean confidence) over ``ids``."""
    corpus = data.corpus(run)
    rows = stacks.rows_of(corpus.ids, ids)
    correct = corpus.correct[rows]
    known = correct >= 0
    accuracy = float(correct[known].mean()) if known.any() else float("nan")
    confidence = float(corpus.confidence[rows].mean()) if rows.any() else float("nan")
    return accuracy, confidence


def accuracy_curves_over(
    data: AtlasData, run: RunInfo, ids: np.ndarray
) -> accuracy_curves.AccuracyCurves:
    """Karpekov & Miller's relative accuracy curves (top-k, bottom-k, random) over the
    originally correct examples among ``ids``, from the run's stored curves."""
    corpus = data.corpus(run)
    correct = corpus.ids[stacks.rows_of(corpus.ids, ids) & (corpus.correct == 1)]
    return accuracy_curves.accuracy_curves(data.curve_stack(run), correct)
