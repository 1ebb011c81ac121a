"""Per-run stacks of the per-head arrays (``head_stats`` and ``head_scores.top_share``): every
blob of a run read once, for the heads and compare pages to reduce per filter with numpy.

Examples stored before these arrays existed have no row (or a NULL ``top_share``); a run
without any gives ``None`` for that array, and missing examples are NaN in a stack that exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from attention_atlas.db.stacks import _raw, _rows, _stacked
from attention_atlas.models.schema import HeadScore, HeadStat


@dataclass(frozen=True, eq=False)
class HeadStatStack:
    """A run's head arrays over its examples ([N] sorted ids); NaN rows where missing."""

    ids: np.ndarray  # [N] int64
    gradient: np.ndarray | None  # [N, L, H], None when no example has it
    ablation: np.ndarray | None  # [N, L, H], None when no example has it (not opted in)
    roles: np.ndarray  # [N, L, H, 5] (db.analysis.head_roles.ROLE_STATS)
    structure: np.ndarray  # [N, L, H] prediction row's share on frame and punctuation

    def importance(self, kind: str) -> np.ndarray | None:
        """[N, L, H] ``gradient`` or ``ablation`` (``models.vocabulary.HEAD_IMPORTANCE``)."""
        return (
            self.gradient if kind == "gradient" else self.ablation if kind == "ablation" else None
        )


def _with_gaps(blobs: list[bytes | None]) -> np.ndarray | None:
    """[N, ...] from nullable blobs of one shape, NaN rows for NULL; None when all are NULL."""
    present = [i for i, blob in enumerate(blobs) if blob is not None]
    if not present:
        return None
    values = _stacked([blobs[i] for i in present]).astype(np.float32)
    out = np.full((len(blobs), *values.shape[1:]), np.nan, dtype=np.float32)
    out[present] = values
    return out


def stack_head_stats(session: Session, run_id: int) -> HeadStatStack | None:
    """The run's :class:`HeadStatStack`, or None when no example has head statistics."""
    stmt = (
        select(
            HeadStat.example_id,
            _raw(HeadStat.gradient),
            _raw(HeadStat.ablation),
            _raw(HeadStat.roles),
            _raw(HeadStat.structure_share),
        )
        .where(HeadStat.run_id == run_id)
        .order_by(HeadStat.example_id)
    )
    rows = _rows(session, stmt)
    if not rows:
        return None
    return HeadStatStack(
        ids=np.array([r[0] for r in rows], dtype=np.int64),
        gradient=_with_gaps([r[1] for r in rows]),
        ablation=_with_gaps([r[2] for r in rows]),
        roles=_stacked([r[3] for r in rows]),
        structure=_stacked([r[4] for r in rows]),
    )


def stack_top_shares(
    session: Session, run_id: int, reference: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """(ids [N] sorted, [N, L, H] share of each head's prediction row on ``reference``'s
    top-10% tokens, NaN rows where not stored; None when no example has it)."""
    stmt = (
        select(HeadScore.example_id, _raw(HeadScore.top_share))
        .where(HeadScore.run_id == run_id, HeadScore.reference == reference)
        .order_by(HeadScore.example_id)
    )
    rows = _rows(session, stmt)
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    return ids, _with_gaps([r[1] for r in rows])
