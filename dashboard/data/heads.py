"""What the heads and compare pages read about causal head importance and head roles, reduced
over the filtered examples: per-run stacks (``db.head_stacks``) cached by the data service,
means and summaries from ``db.analysis``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attention_atlas.dashboard.data.service import AtlasData
from attention_atlas.db import head_stacks, stacks
from attention_atlas.db.analysis import head_summary
from attention_atlas.db.analysis.head_roles import role_labels
from attention_atlas.db.queries import CorpusFilter, RunInfo


@dataclass(frozen=True, eq=False)
class HeadPanels:
    """The heads page's importance and role panels for one filter."""

    n: int  # filtered examples with head statistics
    importance: np.ndarray | None  # [L, H] mean importance of the chosen kind
    roles: np.ndarray | None  # [L, H, 5] mean role statistics
    labels: np.ndarray | None  # [L, H] role names
    top_share: np.ndarray | None  # [L] prediction row's share on the reference's top 10%
    structure: np.ndarray | None  # [L] ... on frame and punctuation tokens
    correlation: float | None  # Spearman rho over heads: agreement grid vs importance grid


def head_stat_stack(data: AtlasData, run: RunInfo) -> head_stacks.HeadStatStack | None:
    return data.run_stack(run, "head-stats", lambda s: head_stacks.stack_head_stats(s, run.id))


def _top_shares(
    data: AtlasData, run: RunInfo, reference: str
) -> tuple[np.ndarray, np.ndarray | None]:
    return data.run_stack(
        run, ("top-shares", reference), lambda s: head_stacks.stack_top_shares(s, run.id, reference)
    )


def _filtered(ids: np.ndarray, values: np.ndarray | None, wanted: np.ndarray) -> np.ndarray | None:
    return None if values is None else stacks.take(ids, values, wanted)


def head_panels(
    data: AtlasData, run: RunInfo, f: CorpusFilter, reference: str, kind: str
) -> HeadPanels:
    """Means over the filtered examples (cached per filter, reference and kind)."""
    f = data.with_tag(run, f)

    def compute() -> HeadPanels:
        wanted = data.ids(run, f, "id", False)
        stack = head_stat_stack(data, run)
        if stack is None or len(wanted) == 0:
            return HeadPanels(0, None, None, None, None, None, None)
        picked = stacks.rows_of(stack.ids, wanted)
        importance = _mean(stack.importance(kind), picked)
        roles = head_summary.nan_mean(stack.roles[picked])
        structure = head_summary.nan_mean(stack.structure[picked])
        top_ids, top = _top_shares(data, run, reference)
        top_mean = _mean_of(_filtered(top_ids, top, wanted))
        grid_ids, grids = data.head_stack(run, reference)
        agreement = _mean_of(_filtered(grid_ids, grids, wanted))
        return HeadPanels(
            n=int(picked.sum()),
            importance=importance,
            roles=roles,
            labels=None if roles is None else role_labels(roles),
            top_share=None if top_mean is None else head_summary.layer_profile(top_mean),
            structure=None if structure is None else head_summary.layer_profile(structure),
            correlation=_correlation(agreement, importance),
        )

    return data.per_filter(run, ("head-panels", f, reference, kind), compute)


def _mean(values: np.ndarray | None, picked: np.ndarray) -> np.ndarray | None:
    return None if values is None else head_summary.nan_mean(values[picked])


def _mean_of(values: np.ndarray | None) -> np.ndarray | None:
    return None if values is None else head_summary.nan_mean(values)


def _correlation(agreement: np.ndarray | None, importance: np.ndarray | None) -> float | None:
    if agreement is None or importance is None:
        return None
    return head_summary.rank_correlation(agreement, importance)


def importance_top(
    data: AtlasData, run: RunInfo, f: CorpusFilter, kind: str, layer: int, head: int, k: int = 10
) -> list[tuple[int, float]]:
    """The k filtered examples where head (layer, head) matters most, with its importance."""
    stack = head_stat_stack(data, run)
    values = None if stack is None else stack.importance(kind)
    if stack is None or values is None or layer >= values.shape[1] or head >= values.shape[2]:
        return []
    wanted = data.ids(run, f, "id", False)
    picked = stacks.rows_of(stack.ids, wanted)
    return head_summary.top_examples(stack.ids[picked], values[picked], layer, head, k)


def mean_importance(
    data: AtlasData, run: RunInfo, ids: np.ndarray, kind: str = "gradient"
) -> np.ndarray | None:
    """[L, H] mean importance over the examples ``ids`` of ``run`` (the compare page)."""
    stack = head_stat_stack(data, run)
    if stack is None:
        return None
    return _mean(stack.importance(kind), stacks.rows_of(stack.ids, ids))
